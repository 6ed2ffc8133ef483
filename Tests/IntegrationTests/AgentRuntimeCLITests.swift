import FlotillaTestKit
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The built `ecs-agent`, found from this file's path (Tests/IntegrationTests/… → repository root).
let ecsAgentBinary = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent(".build/debug/ecs-agent")

/// A temporary data directory with `flotilla/busybox:1` imported, and the `ecs-agent runtime` CLI on it with its own
/// bridge, subnet, nftables table and cgroup parent so it cannot collide with a real agent (or another test) on this
/// machine.
struct AgentRuntimeCLI {
    let root: String
    /// This run's own cgroup parent (`--cgroup-parent`), so what it leaves behind is told apart from other tests'.
    let cgroupParent: String
    var dataDirectory: String { root + "/data" }
    static let image = "flotilla/busybox:1"

    init() throws {
        let run = UUID().uuidString.prefix(8).lowercased()
        root = FileManager.default.temporaryDirectory.appendingPathComponent("flotilla-cli-\(run)").path
        cgroupParent = "flotilla-clitest-\(run)"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    var sharedOptions: [String] {
        [
            "--data-dir", dataDirectory, "--bridge-name", "flotcli0", "--subnet", "172.31.231.0/24",
            "--nft-table-prefix", "flotilla_clitest", "--cgroup-parent", cgroupParent,
        ]
    }

    /// `ecs-agent runtime SUBCOMMAND <shared options> ARGS…` to completion.
    func callAsFunction(_ subcommand: String, _ arguments: [String] = []) async throws -> HostCommandResult {
        try await HostCommand.runToCompletion([ecsAgentBinary.path, "runtime", subcommand] + sharedOptions + arguments)
    }

    /// make-busybox-image, then import.
    func importBusybox() async throws {
        let tarball = root + "/busybox.tar"
        let made = try await HostCommand.runToCompletion([
            ecsAgentBinary.path, "runtime", "make-busybox-image", tarball,
        ])
        #expect(made.status == 0, "\(made.stderr)")
        let imported = try await self("import", [tarball])
        #expect(imported.status == 0, "\(imported.stderr)")
    }

    var containerDirectories: [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: dataDirectory + "/containers")) ?? []
    }

    /// Removes whatever a failed test left, then the directory.
    func cleanUp() async {
        if let ps = try? await self("ps") {
            for line in ps.stdout.split(separator: "\n").dropFirst() {
                if let id = line.split(separator: " ").first { _ = try? await self("rm", ["--force", String(id)]) }
            }
        }
        try? FileManager.default.removeItem(atPath: root)
        // The run's cgroup parent in every hierarchy (rmdir: only once it is empty).
        let hierarchies = (try? FileManager.default.contentsOfDirectory(atPath: "/sys/fs/cgroup")) ?? []
        for path in hierarchies.map({ "/sys/fs/cgroup/\($0)/\(cgroupParent)" }) + ["/sys/fs/cgroup/\(cgroupParent)"] {
            rmdir(path)
        }
        // The bridge and nftables table exist only for this suite (their names are its own): take them away too.
        _ = try? await HostCommand.runToCompletion(["/usr/sbin/ip", "link", "delete", "flotcli0"])
        _ = try? await HostCommand.runToCompletion(["/usr/sbin/nft", "delete", "table", "ip", "flotilla_clitest"])
    }

    static func with(_ body: (AgentRuntimeCLI) async throws -> Void) async throws {
        let cli = try AgentRuntimeCLI()
        do {
            try await cli.importBusybox()
            try await body(cli)
        } catch {
            await cli.cleanUp()
            throw error
        }
        await cli.cleanUp()
    }

    /// The container cgroups (named by container id) under this run's own cgroup parent, whatever the layout: no
    /// other test's containers are there.
    var containerCgroups: Set<String> {
        for hierarchy in ["/sys/fs/cgroup/pids", "/sys/fs/cgroup/memory", "/sys/fs/cgroup"] {
            if let entries = try? FileManager.default.contentsOfDirectory(atPath: "\(hierarchy)/\(cgroupParent)") {
                return Set(entries.filter { $0.count == 64 })
            }
        }
        return []
    }
}

@Suite("ecs-agent runtime CLI as a real process", .enabled(if: getuid() == 0), .serialized, .timeLimit(.minutes(10)))
struct AgentRuntimeCLITests {
    @Test func importedBusyboxIsListed() async throws {
        try await AgentRuntimeCLI.with { cli in
            // Given the busybox image made and imported by the CLI
            // When the images are listed
            let images = try await cli("images")
            // Then flotilla/busybox:1 is there
            #expect(images.status == 0)
            #expect(images.stdout.split(separator: "\n").contains { $0.hasPrefix(AgentRuntimeCLI.image + " ") })
        }
    }

    @Test func foregroundRunForwardsOutputAndExitsWithTheContainersStatus() async throws {
        try await AgentRuntimeCLI.with { cli in
            // When a foreground container prints and exits 3
            let run = try await cli(
                "run", ["--rm", AgentRuntimeCLI.image, "sh", "-c", "echo hi; echo oops >&2; exit 3"])
            // Then the CLI forwards both streams and exits 3, and --rm left no container behind
            #expect(run.stdout == "hi\n")
            #expect(run.stderr == "oops\n")
            #expect(run.status == 3)
            #expect(cli.containerDirectories.isEmpty)
        }
    }

    @Test func detachedContainerLifecycle() async throws {
        try await AgentRuntimeCLI.with { cli in
            // Given a detached long runner named web
            let run = try await cli(
                "run",
                [
                    "--detach", "--name", "web", AgentRuntimeCLI.image,
                    "httpd", "-f", "-p", "8080", "-h", "/var/www",
                ])
            #expect(run.status == 0, "\(run.stderr)")
            let id = run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(id.count == 64)
            // Then ps shows it running
            let ps = try await cli("ps")
            let line = try #require(ps.stdout.split(separator: "\n").first { $0.contains(" web ") })
            #expect(line.contains("running"))
            // And exec runs in it (its hostname is its own)
            let exec = try await cli("exec", ["web", "hostname"])
            #expect(exec.status == 0)
            #expect(!exec.stdout.isEmpty && exec.stdout != ProcessInfo.processInfo.hostName + "\n")
            // When it is stopped and removed
            let stop = try await cli("stop", ["--time", "5", "web"])
            #expect(stop.status == 0, "\(stop.stderr)")
            let rm = try await cli("rm", ["web"])
            #expect(rm.status == 0, "\(rm.stderr)")
            // Then ps no longer shows it and nothing of it is left
            let after = try await cli("ps")
            #expect(!after.stdout.contains(" web "))
            #expect(cli.containerDirectories.isEmpty)
            #expect(!cli.containerCgroups.contains(id))
        }
    }

    @Test func readOnlyRootCannotBeWritten() async throws {
        try await AgentRuntimeCLI.with { cli in
            // When a --read-only container writes to /
            let run = try await cli(
                "run",
                [
                    "--rm", "--read-only", AgentRuntimeCLI.image, "sh", "-c",
                    "touch /probe && echo wrote",
                ])
            // Then the write fails with EROFS and the CLI reports the failure status
            #expect(run.status != 0)
            #expect(!run.stdout.contains("wrote"))
            #expect(run.stderr.contains("Read-only file system"))
        }
    }

    @Test func userSwitchesByName() async throws {
        try await AgentRuntimeCLI.with { cli in
            // When the command runs as nobody
            let run = try await cli("run", ["--rm", "--user", "nobody", AgentRuntimeCLI.image, "id", "-u"])
            // Then its uid is nobody's, from the image's /etc/passwd
            #expect(run.status == 0)
            #expect(run.stdout == "65534\n")
        }
    }

    @Test func memoryLimitKillIsReportedAsOOM() async throws {
        try await AgentRuntimeCLI.with { cli in
            // When a 16 MiB container allocates 64 MiB at once
            let run = try await cli(
                "run",
                [
                    "--rm", "--memory", "16", AgentRuntimeCLI.image,
                    "dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1",
                ])
            // Then the CLI exits 137 and says the container was OOM killed
            #expect(run.status == 137)
            #expect(run.stderr.contains("was OOM killed"))
            #expect(cli.containerDirectories.isEmpty)
        }
    }

    @Test func publishedPortReachesHttpdOnTheBridge() async throws {
        try await AgentRuntimeCLI.with { cli in
            // Given busybox httpd on port 80 of a bridge container published on a high host port
            // (Below the kernel's ephemeral range, 32768-60999: no socket of another test can be given it.)
            let hostPort = 29_381
            let run = try await cli(
                "run",
                [
                    "--detach", "--name", "www", "--network", "bridge", "-p", "\(hostPort):80",
                    AgentRuntimeCLI.image, "sh", "-c",
                    "echo served-by-flotilla > /var/www/index.html; exec httpd -f -p 80 -h /var/www",
                ])
            #expect(run.status == 0, "\(run.stderr)")
            #expect(run.stderr.contains(":\(hostPort) -> 80/tcp"))
            // When curl asks 127.0.0.1:HOSTPORT (bounded: 20 attempts, 2 s each)
            var body = ""
            for _ in 0..<20 {
                let curl = try await HostCommand.runToCompletion([
                    "/usr/bin/curl", "-s", "--max-time", "2", "http://127.0.0.1:\(hostPort)/index.html",
                ])
                body = curl.stdout
                if curl.status == 0 { break }
                try await Task.sleep(for: .milliseconds(200))
            }
            // Then the container answers
            #expect(body == "served-by-flotilla\n")
            // And rm --force takes the container, its network and its rules away
            let rm = try await cli("rm", ["--force", "www"])
            #expect(rm.status == 0, "\(rm.stderr)")
            #expect(cli.containerDirectories.isEmpty)
            let rules = try await HostCommand.runToCompletion(["/usr/sbin/nft", "list", "ruleset"])
            #expect(!rules.stdout.contains("\(hostPort)"))
        }
    }

    @Test(arguments: [
        (["no/such:image"], "not imported"),
        (["-p", "80", AgentRuntimeCLI.image, "true"], "-p must be HOSTPORT:CONTAINERPORT"),
        (["--memory", "-1", AgentRuntimeCLI.image, "true"], "--memory must be a positive number"),
        (["--pids", "0", AgentRuntimeCLI.image, "true"], "--pids must be a positive number"),
        (["--cap-add", "CAP_NO_SUCH_THING", AgentRuntimeCLI.image, "true"], "CAP_NO_SUCH_THING"),
        (["--user", "nosuchuser", AgentRuntimeCLI.image, "true"], "nosuchuser"),
    ])
    func badInputIsOneClearLineAndLeavesNothing(arguments: [String], message: String) async throws {
        try await AgentRuntimeCLI.with { cli in
            // When run gets bad input
            let run = try await cli("run", ["--rm"] + arguments)
            // Then it fails with one line on stderr naming the problem
            #expect(run.status != 0)
            #expect(run.stderrLines.count == 1, "\(run.stderr)")
            #expect(run.stderr.contains(message), "\(run.stderr)")
            // And no container directory or cgroup was left behind (under this run's own cgroup parent)
            #expect(cli.containerDirectories.isEmpty)
            #expect(cli.containerCgroups.isEmpty)
        }
    }

    @Test(arguments: [SIGINT, SIGTERM])
    func aSignalToTheForegroundCLIStopsTheContainer(signal: Int32) async throws {
        try await AgentRuntimeCLI.with { cli in
            // Given a foreground --rm container that reports the signal it gets and exits 7
            let output = cli.root + "/signal-stdout"
            _ = FileManager.default.createFile(atPath: output, contents: nil)
            let out = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
            let process = Process()
            process.executableURL = ecsAgentBinary
            process.arguments =
                ["runtime", "run"] + cli.sharedOptions + [
                    "--rm", AgentRuntimeCLI.image, "sh", "-c",
                    "trap 'echo got-signal; exit 7' INT TERM; echo ready; while true; do sleep 1; done",
                ]
            process.standardOutput = out
            process.standardError = FileHandle.nullDevice
            process.standardInput = FileHandle.nullDevice
            try process.run()
            // When the CLI gets the signal once the container is ready (bounded: 15 s)
            for _ in 0..<300 {
                if let text = try? String(contentsOfFile: output, encoding: .utf8), text.contains("ready") { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            kill(process.processIdentifier, signal)
            // (bounded: a CLI that ignores the signal is killed after 20 s and the test fails)
            for _ in 0..<400 where process.isRunning { try await Task.sleep(for: .milliseconds(50)) }
            let exitedBySignal = !process.isRunning
            if !exitedBySignal { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
            let status = process.terminationStatus
            #expect(exitedBySignal, "the CLI did not exit after the signal")
            try out.close()
            // Then the container got it, the CLI exited with its status, and --rm removed it
            let text = try String(contentsOfFile: output, encoding: .utf8)
            #expect(text == "ready\ngot-signal\n")
            #expect(status == 7)
            #expect(cli.containerDirectories.isEmpty)
        }
    }
}
