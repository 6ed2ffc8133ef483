import Foundation
import InMemoryLogging
import Logging
import Testing
import SystemPackage
import Synchronization
@testable import NodeAgent
#if canImport(Glibc)
import Glibc
#endif

@Suite(
    "Namespace runtime: containers proven from inside", .enabled(if: getuid() == 0), .serialized,
    .timeLimit(.minutes(10)))
struct RuntimeTests {
    @Test func pidOneIsTheContainersInitAndTheCommandIsItsChild() async throws {
        try await RuntimeFixture.with { fixture in
            // Given a busybox container printing its own PID view
            // When it runs
            let result = try await fixture.run(
                fixture.spec(
                    ["sh", "-c", "echo ppid=$PPID; echo comm=$(cat /proc/1/comm); ls -d /proc/[0-9]* | wc -l"]))
            // Then PID 1 is Flotilla's init, the command is its child, and no host process is visible
            #expect(result.exit.exitCode == 0)
            #expect(result.stdout.contains("ppid=1\n"))
            #expect(result.stdout.contains("comm=flotilla-init\n"))
            let count = Int(result.stdout.split(separator: "\n").last?.trimmingCharacters(in: .whitespaces) ?? "") ?? 99
            #expect(count <= 5)  // init, sh, ls, wc (and a subshell)
        }
    }

    @Test func hostnameIsSetAndHostMountsAreNotVisible() async throws {
        try await RuntimeFixture.with { fixture in
            // Given a container with a hostname
            // When it prints its hostname and its mount points
            let result = try await fixture.run(
                fixture.spec(
                    ["sh", "-c", "hostname; cat /etc/hostname; cut -d' ' -f5 /proc/self/mountinfo"]) {
                        $0.hostname = "box-one"
                    })
            #expect(result.exit.exitCode == 0)
            let lines = result.stdout.split(separator: "\n").map(String.init)
            // Then the UTS namespace has the hostname, and /etc/hostname says so
            #expect(Array(lines.prefix(2)) == ["box-one", "box-one"])
            // And the only mount points are the container's own, none of the host's (/work, /tmp, the data dir…)
            let mountPoints = Set(lines.dropFirst(2))
            let allowed = Set<String>([
                "/", "/proc", "/dev", "/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom",
                "/dev/tty", "/dev/pts", "/dev/shm", "/sys", "/etc/hosts", "/etc/hostname", "/etc/resolv.conf",
                "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
            ]).union(ContainerMounts.maskedPaths)
            #expect(mountPoints.isSubset(of: allowed), "unexpected mounts: \(mountPoints.subtracting(allowed))")
            #expect(!result.stdout.contains(fixture.root))
        }
    }

    @Test func devIsMinimalAndSysAndProcSysAreReadOnly() async throws {
        try await RuntimeFixture.with { fixture in
            let result = try await fixture.run(
                fixture.spec([
                    "sh", "-c",
                    """
                    ls /dev | tr '\\n' ' '; echo; touch /sys/x 2>&1; (echo x > /proc/sys/kernel/hostname) 2>&1; \
                    head -c 4 /dev/urandom | wc -c
                    """,
                ]))
            let devices = Set(result.stdout.split(separator: "\n").first!.split(separator: " ").map(String.init))
            #expect(
                devices.isSuperset(of: [
                    "null", "zero", "full", "random", "urandom", "tty", "ptmx", "pts", "shm",
                    "fd", "stdin", "stdout", "stderr",
                ]))
            #expect(!devices.contains("sda") && !devices.contains("mem") && !devices.contains("kmsg"))
            #expect(result.stdout.components(separatedBy: "Read-only file system").count == 3)
            #expect(result.stdout.hasSuffix("4\n"))
        }
    }

    @Test func memoryLimitKillsAndTheExitIsReportedAsOOM() async throws {
        try await RuntimeFixture.with { fixture in
            // Given a 16 MiB limit and a command that needs 64 MiB at once
            // When it runs
            let result = try await fixture.run(
                fixture.spec(["dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1"]) {
                    $0.limits = CgroupLimits(memoryLimitMiB: 16)
                })
            // Then the kernel's OOM killer ends it and the runtime says so
            #expect(result.exit.oomKilled)
            #expect(result.exit.signal == SIGKILL)
            #expect(result.exit.exitCode == 137)
        }
    }

    @Test func pidsLimitHolds() async throws {
        try await RuntimeFixture.with { fixture in
            // Given a pids limit of 8 and a command that tries to start 20 background processes
            let result = try await fixture.run(
                fixture.spec(
                    ["sh", "-c", "for i in $(seq 1 20); do sleep 30 & echo started $i; done"]) {
                        $0.limits = CgroupLimits(pidsLimit: 8)
                    })
            // Then fork fails before the 20th (and the container ends with its shell)
            #expect(result.stdout.contains("started 1\n"))
            #expect(!result.stdout.contains("started 20\n"))
            #expect(result.stderr.contains("can't fork"))
        }
    }

    @Test func seccompDeniesNamespacesUnlessCapSysAdmin() async throws {
        try await RuntimeFixture.with { fixture in
            // Given the default capabilities, a user namespace (which needs no capability) is refused by the filter
            let filtered = try await fixture.run(fixture.spec(["unshare", "-U", "true"]))
            #expect(filtered.exit.exitCode != 0)
            #expect(filtered.stderr.contains("Operation not permitted"))
            // When CAP_SYS_ADMIN is added, Docker's profile allows the namespace calls: unshare(2) of a UTS namespace works
            let admin = try await fixture.run(
                fixture.spec(["unshare", "-u", "true"]) { $0.capabilityAdd = ["SYS_ADMIN"] })
            #expect(admin.exit.exitCode == 0, "\(admin.stderr)")
            // And a privileged container (no filter) may unshare too
            let privileged = try await fixture.run(fixture.spec(["unshare", "-U", "true"]) { $0.privileged = true })
            #expect(privileged.exit.exitCode == 0)
        }
    }

    @Test func droppedCapabilitiesAreGone() async throws {
        try await RuntimeFixture.with { fixture in
            // Given the default set, mknod works (CAP_MKNOD is in Docker's default list)
            let allowed = try await fixture.run(fixture.spec(["mknod", "/tmp/n", "c", "1", "3"]))
            #expect(allowed.exit.exitCode == 0)
            // When MKNOD is dropped, mknod fails and the bounding set lacks it
            let dropped = try await fixture.run(
                fixture.spec(
                    ["sh", "-c", "grep CapBnd /proc/self/status; mknod /tmp/n c 1 3"]) { $0.capabilityDrop = ["MKNOD"] }
            )
            #expect(dropped.exit.exitCode != 0)
            #expect(dropped.stderr.contains("Operation not permitted"))
            let expected = try Capabilities.resolve(add: [], drop: ["MKNOD"], privileged: false, lastCapability: 40)
            #expect(dropped.stdout.contains(String(format: "CapBnd:\t%016llx", expected)))
        }
    }

    @Test func readOnlyRootFilesystemIsReadOnly() async throws {
        try await RuntimeFixture.with { fixture in
            let readOnly = try await fixture.run(
                fixture.spec(["sh", "-c", "touch /x"]) {
                    $0.readonlyRootFilesystem = true
                })
            #expect(readOnly.exit.exitCode != 0)
            #expect(readOnly.stderr.contains("Read-only file system"))
            let writable = try await fixture.run(fixture.spec(["sh", "-c", "touch /x && echo ok"]))
            #expect(writable.stdout == "ok\n")
        }
    }

    @Test(arguments: [
        ("nobody", "65534 65534"), ("app", "1000 1000 50"), ("1234:50", "1234 50"),
        ("app:nogroup", "1000 65534"),
    ])
    func userSwitchWorks(user: String, expected: String) async throws {
        try await RuntimeFixture.with { fixture in
            let result = try await fixture.run(
                fixture.spec(
                    ["sh", "-c", "echo $(id -u) $(id -g) $(id -G | tr ' ' '\\n' | grep -v \"^$(id -g)$\")"]) {
                        $0.user = user
                    })
            #expect(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == expected)
        }
    }

    @Test func unknownUserIsAConfigurationError() async throws {
        try await RuntimeFixture.with { fixture in
            await #expect(
                throws: ContainerConfigurationError(
                    field: "user",
                    message: "no user ghost in the image's /etc/passwd")
            ) {
                _ = try await fixture.runtime.create(fixture.spec(["true"]) { $0.user = "ghost" })
            }
        }
    }

    @Test func missingExecutableReportsTheExecStageAndErrno() async throws {
        try await RuntimeFixture.with { fixture in
            let info = try await fixture.runtime.create(fixture.spec(["/no/such/binary"]))
            await #expect(throws: RuntimeError(stage: .exec, errno: .noSuchFileOrDirectory, container: info.id)) {
                try await fixture.runtime.start(info.id)
            }
        }
    }

    @Test func execRunsInsideTheContainersNamespaces() async throws {
        try await RuntimeFixture.with { fixture in
            // Given a running container
            let info = try await fixture.runtime.create(fixture.spec(["sleep", "30"]) { $0.hostname = "exec-host" })
            try await fixture.runtime.start(info.id)
            // When a command is exec'd into it
            let result = try await fixture.runtime.exec(
                info.id,
                arguments: [
                    "sh", "-c", "hostname; cat /proc/1/comm; ps -o comm | grep -c sleep; echo err >&2; exit 3",
                ])
            // Then it sees the container's hostname, PID 1 and processes; its exit code and output come back
            #expect(String(decoding: result.standardOutput, as: UTF8.self) == "exec-host\nflotilla-init\n1\n")
            #expect(String(decoding: result.standardError, as: UTF8.self) == "err\n")
            #expect(result.exit.exitCode == 3)
            #expect(!result.timedOut)
            // And a command running past its timeout is killed
            let slow = try await fixture.runtime.exec(info.id, arguments: ["sleep", "30"], timeout: .milliseconds(200))
            #expect(slow.timedOut)
            #expect(slow.exit.signal == SIGKILL)
            try await fixture.runtime.stop(info.id, timeout: .seconds(5))
        }
    }

    @Test func stopSendsSigtermThatTheCommandReceives() async throws {
        try await RuntimeFixture.with { fixture in
            let info = try await fixture.runtime.create(
                fixture.spec(
                    ["sh", "-c", "trap 'echo got TERM; exit 7' TERM; echo ready; while true; do sleep 1; done"]))
            try await fixture.runtime.start(info.id)
            #expect(try await RuntimeFixture.waitForLog(info.stdoutLogPath, containing: "ready"))
            let exit = try await fixture.runtime.stop(info.id, timeout: .seconds(20))
            #expect(exit.exitCode == 7)
            #expect(try String(contentsOfFile: info.stdoutLogPath, encoding: .utf8).contains("got TERM"))
        }
    }

    @Test func stopEscalatesToSigkillWhenSigtermIsIgnored() async throws {
        try await RuntimeFixture.with { fixture in
            // Given a command that ignores SIGTERM
            let info = try await fixture.runtime.create(
                fixture.spec(
                    ["sh", "-c", "trap '' TERM; echo ready; while true; do sleep 1; done"]))
            try await fixture.runtime.start(info.id)
            #expect(try await RuntimeFixture.waitForLog(info.stdoutLogPath, containing: "ready"))
            // When it is stopped with a 1 s stopTimeout
            let exit = try await fixture.runtime.stop(info.id, timeout: .seconds(1))
            // Then SIGKILL ended it
            #expect(exit.signal == SIGKILL)
            #expect(!exit.oomKilled)
        }
    }

    @Test func deleteLeavesNoMountCgroupOrState() async throws {
        try await RuntimeFixture.with { fixture in
            let info = try await fixture.runtime.create(
                fixture.spec(["sleep", "30"]) {
                    $0.limits = CgroupLimits(memoryLimitMiB: 64, pidsLimit: 20)
                })
            try await fixture.runtime.start(info.id)
            let cgroupDirectory = "/sys/fs/cgroup/memory/flotilla/\(info.id)"
            #expect(FileManager.default.fileExists(atPath: cgroupDirectory))
            try await fixture.runtime.delete(info.id, force: true)
            let mountinfo = try String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)
            #expect(!mountinfo.contains(info.id))
            #expect(!FileManager.default.fileExists(atPath: cgroupDirectory))
            #expect(!FileManager.default.fileExists(atPath: "/sys/fs/cgroup/pids/flotilla/\(info.id)"))
            #expect(!FileManager.default.fileExists(atPath: info.directory))
            #expect(await fixture.runtime.list().isEmpty)
        }
    }

    @Test func mountPointsComeFromTheSharedLayerAndLeaveTheUpperEmpty() async throws {
        try await RuntimeFixture.with { fixture in
            // Given a writable container whose image has no /proc, /dev, /sys or /etc/hosts of its own
            let info = try await fixture.runtime.create(
                fixture.spec(
                    [
                        "sh", "-c",
                        "cat /etc/hostname && test -d /proc/1 && test -d /sys/kernel && test -c /dev/null && echo mounted",
                    ]) {
                        $0.hostname = "layered"
                    })
            // When it runs to its end
            try await fixture.runtime.start(info.id)
            let exit = try await fixture.runtime.wait(info.id)
            // Then every mount point was there, and nothing was written into its upper directory
            #expect(exit.exitCode == 0)
            #expect(try String(contentsOfFile: info.stdoutLogPath, encoding: .utf8) == "layered\nmounted\n")
            #expect(try FileManager.default.contentsOfDirectory(atPath: info.directory + "/upper").isEmpty)
            try await fixture.runtime.delete(info.id)
        }
    }

    @Test func aReadOnlyRootIsTheLayersAloneWithoutAnUpper() async throws {
        try await RuntimeFixture.with { fixture in
            // Given a read-only container
            let info = try await fixture.runtime.create(
                fixture.spec(["sh", "-c", "cat /etc/passwd >/dev/null && grep ' / ' /proc/mounts"]) {
                    $0.readonlyRootFilesystem = true
                })
            // Then it gets no upper or work directory
            #expect(!FileManager.default.fileExists(atPath: info.directory + "/upper"))
            #expect(!FileManager.default.fileExists(atPath: info.directory + "/work"))
            // And its root is an overlay mounted read-only, with the image's files
            try await fixture.runtime.start(info.id)
            let exit = try await fixture.runtime.wait(info.id)
            #expect(exit.exitCode == 0)
            let root = try String(contentsOfFile: info.stdoutLogPath, encoding: .utf8)
            #expect(root.hasPrefix("overlay / overlay ro,"))
            #expect(!root.contains("upperdir"))
            try await fixture.runtime.delete(info.id)
        }
    }

    @Test(.enabled(if: CgroupTests.v2MountPoint != nil, "needs a cgroup2 mount"))
    func onCgroupV2TheContainerIsBornInItsCgroup() async throws {
        // Given a runtime using this host's cgroup2 mount (no controllers in it here: the v1 hierarchies hold them)
        let mountPoint = try #require(CgroupTests.v2MountPoint)
        let parent = "flotilla-test-v2-\(getpid())"
        let fixture = try RuntimeFixture()
        let runtime = try ContainerRuntime(
            dataDirectory: fixture.root + "/data-v2", cgroupParent: parent,
            cgroupLayout: .v2(mountPoint: mountPoint), logger: Logger(label: "test.v2"))
        defer {
            rmdir(mountPoint + "/" + parent)
            try? FileManager.default.removeItem(atPath: fixture.root)
        }
        // When a container prints the cgroups its command is in
        let info = try await runtime.create(fixture.spec(["cat", "/proc/self/cgroup"]))
        try await runtime.start(info.id)
        let exit = try await runtime.wait(info.id)
        let cgroups = try String(contentsOfFile: info.stdoutLogPath, encoding: .utf8)
        try await runtime.delete(info.id)
        // Then the unified line names the container's v2 cgroup (clone3 put init there, or init joined it itself),
        // and delete removed that cgroup
        #expect(exit.exitCode == 0)
        #expect(cgroups.split(separator: "\n").contains("0::/\(parent)/\(info.id)"))
        #expect(!FileManager.default.fileExists(atPath: "\(mountPoint)/\(parent)/\(info.id)"))
    }

    @Test func logsRotateBySize() async throws {
        try await RuntimeFixture.with { fixture in
            // Given 1000-byte logs kept as 3 files, and a command writing 100 lines of 100 bytes
            let info = try await fixture.runtime.create(
                fixture.spec(
                    ["sh", "-c", "for i in $(seq 1 100); do printf '%099d\\n' $i; done"]) {
                        $0.logMaxBytes = 1000
                        $0.logMaxFiles = 3
                    })
            try await fixture.runtime.start(info.id)
            _ = try await fixture.runtime.wait(info.id)
            // Then there are exactly stdout.log, .1 and .2, each at most 1000 bytes, the last line last
            let fm = FileManager.default
            for suffix in ["", ".1", ".2"] {
                let size = try #require(try fm.attributesOfItem(atPath: info.stdoutLogPath + suffix)[.size] as? Int)
                #expect(size <= 1000 && size > 0)
            }
            #expect(!fm.fileExists(atPath: info.stdoutLogPath + ".3"))
            #expect(
                try String(contentsOfFile: info.stdoutLogPath, encoding: .utf8)
                    .hasSuffix(String(repeating: "0", count: 96) + "100\n"))
        }
    }

    @Test func aRestartedRuntimeReadoptsARunningContainer() async throws {
        try await RuntimeFixture.with { fixture in
            // Given a running container started by one runtime
            let info = try await fixture.runtime.create(
                fixture.spec(
                    ["sh", "-c", "trap 'exit 5' TERM; echo ready; while true; do sleep 1; done"]))
            try await fixture.runtime.start(info.id)
            #expect(try await RuntimeFixture.waitForLog(info.stdoutLogPath, containing: "ready"))
            // When a second runtime opens the same data directory (the agent restarted)
            let restarted = try ContainerRuntime(dataDirectory: fixture.root + "/data", logger: .init(label: "test"))
            let adopted = await restarted.recover()
            // Then it finds the container running, can exec into it and stop it, and learns its exit code
            #expect(adopted.map(\.id) == [info.id])
            let result = try await restarted.exec(info.id, arguments: ["cat", "/proc/1/comm"])
            #expect(String(decoding: result.standardOutput, as: UTF8.self) == "flotilla-init\n")
            let exit = try await restarted.stop(info.id, timeout: .seconds(10))
            #expect(exit.exitCode == 5)
            // And the first runtime, its parent, still reaps it
            _ = try await fixture.runtime.wait(info.id)
            try await restarted.delete(info.id)
        }
    }

    @Test func ulimitsFromTheSpecAreTheContainersLimits() async throws {
        try await RuntimeFixture.with { fixture in
            // Given a spec with nofile 321/654 and nproc 77/88
            let spec = fixture.spec(["sh", "-c", "echo $(ulimit -n) $(ulimit -Hn) $(ulimit -u) $(ulimit -Hu)"]) {
                $0.ulimits = [
                    Ulimit(name: "nofile", softLimit: 321, hardLimit: 654),
                    Ulimit(name: "nproc", softLimit: 77, hardLimit: 88),
                ]
            }
            // When the container reports its limits
            let finished = try await fixture.run(spec)
            // Then they are exactly the spec's, soft and hard
            #expect(finished.exit.exitCode == 0)
            #expect(finished.stdout == "321 654 77 88\n")
        }
    }

    @Test func anUnreadableStateIsLoggedAndItsContainerRemoved() async throws {
        try await RuntimeFixture.with { fixture in
            // Given a running container whose state.json a newer or older version wrote in a form this one cannot read
            let info = try await fixture.runtime.create(fixture.spec(["sh", "-c", "echo ready; exec sleep 1000"]))
            try await fixture.runtime.start(info.id)
            #expect(try await RuntimeFixture.waitForLog(info.stdoutLogPath, containing: "ready"))
            #expect(Cgroup.open(name: info.id) != nil)
            try #"{"formatVersion": 99, "id": 42}"#.write(
                toFile: info.directory + "/state.json", atomically: true,
                encoding: .utf8)
            // When a restarted runtime opens the data directory
            let logs = InMemoryLogHandler()
            let restarted = try ContainerRuntime(
                dataDirectory: fixture.root + "/data", logger: Logger(label: "test") { _ in logs })
            // Then it warns naming the container, and its processes, cgroup and directory are gone
            #expect(logs.entries.contains { $0.level == .warning && $0.metadata["container.id"] == "\(info.id)" })
            #expect(await restarted.list().isEmpty)
            #expect(Cgroup.open(name: info.id) == nil)
            #expect(!FileManager.default.fileExists(atPath: info.directory))
            let exit = try? await fixture.runtime.wait(info.id)
            #expect(exit?.exitCode != 0)
        }
    }
}
