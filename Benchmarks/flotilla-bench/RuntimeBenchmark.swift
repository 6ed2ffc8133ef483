import ArgumentParser
import Foundation
import Logging
import NodeAgent
#if canImport(Glibc)
import Glibc
#endif

/// `flotilla-bench runtime`: Flotilla's namespace runtime against crun and runc on the same busybox rootfs.
///
/// 1. Start-to-exit latency of `/bin/true` (create, start, wait, delete), p50 and p90, for Flotilla (library
///    calls, as the agent makes them), Flotilla's CLI (`ecs-agent runtime run --rm`), `crun run` and `runc run`.
/// 2. Containers started per second while starting `--count` sleeping containers, for each.
/// 3. Memory per running container attributable to the runtime: Flotilla keeps one init (PID 1) per container;
///    crun and runc keep no process once the container runs. Plus the host's used-memory growth per container.
///
/// Every runtime runs in the same private mount namespace where /sys/fs/cgroup/unified is unmounted: crun 1.8.1
/// refuses this hybrid cgroup layout otherwise. The bench re-executes itself under `unshare -m` to get there.
struct RuntimeBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runtime", abstract: "Container start-to-exit latency, start rate and memory vs crun and runc.")

    @Option(help: "Start-to-exit iterations per runtime.") var iterations = 40
    @Option(help: "Sleeping containers started for the rate and memory figures.") var count = 200
    @Option(help: "Scratch directory (removed afterwards).") var workDirectory = "/tmp/flotilla-bench-runtime"
    @Option(help: "The ecs-agent binary for the CLI row (default: next to this binary).") var ecsAgent: String?

    static let namespaceMarker = "FLOTILLA_BENCH_PRIVATE_MOUNT_NS"

    func run() async throws {
        guard getuid() == 0 else { throw ValidationError("flotilla-bench runtime must run as root") }
        if ProcessInfo.processInfo.environment[Self.namespaceMarker] != "1" { try reexecInPrivateMountNamespace() }
        for tool in ["crun", "runc"] where !Self.installed(tool) {
            print("installing \(tool) with apt-get")
            _ = try Self.shell(["apt-get", "install", "-y", "-qq", tool])
        }
        try? FileManager.default.removeItem(atPath: workDirectory)
        try FileManager.default.createDirectory(atPath: workDirectory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: workDirectory) }

        // The same rootfs for everyone: the busybox image's single unpacked layer.
        var logger = Logger(label: "flotilla-bench.runtime")
        logger.logLevel = .warning
        let dataDirectory = workDirectory + "/flotilla"
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        try BusyboxImage.writeArchive(to: workDirectory + "/busybox.tar")
        let store = try ImageStore(root: dataDirectory + "/images", logger: logger)
        let record = try store.importImage(from: workDirectory + "/busybox.tar")[0]
        let rootfs = record.layerDirectories[0]
        let runtime = try ContainerRuntime(dataDirectory: dataDirectory, logger: logger)
        let cli = ecsAgent
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path + "/ecs-agent"

        print("All runtimes measured in a private mount namespace with /sys/fs/cgroup/unified unmounted")
        print("(crun 1.8.1 refuses this host's hybrid cgroup layout otherwise). Rootfs: busybox layer \(rootfs)")
        print("crun: \(Self.version("crun")); runc: \(Self.version("runc")); host network for all; flotilla-cli: \(cli)")
        print("flotilla = library calls (as the agent makes them); flotilla-cli, crun, runc = one process per run.")
        print("")

        // MARK: Latency
        var latencies: [String: [Double]] = [:]
        var index = 0
        func measure(_ name: String, _ body: () async throws -> Void) async throws {
            for _ in 0..<3 { try await body() }   // warm-up
            var samples: [Double] = []
            for _ in 0..<iterations {
                let start = ContinuousClock.now
                try await body()
                samples.append((ContinuousClock.now - start).milliseconds)
            }
            latencies[name] = samples.sorted()
        }
        try await measure("flotilla") {
            index += 1
            let info = try await runtime.create(ContainerSpec(name: "lat-\(index)", layerDirectories: [rootfs],
                                                              arguments: ["/bin/true"]))
            try await runtime.start(info.id)
            let exit = try await runtime.wait(info.id)
            guard exit.exitCode == 0 else { throw ValidationError("flotilla: /bin/true exited \(String(describing: exit))") }
            try await runtime.delete(info.id)
        }
        if FileManager.default.isExecutableFile(atPath: cli) {
            try await measure("flotilla-cli") {
                try Self.run(cli, ["runtime", "run", "--data-dir", dataDirectory, "--rm", "flotilla/busybox:1",
                                   "/bin/true"])
            }
        }
        for tool in ["crun", "runc"] {
            let bundle = try makeBundle(tool: tool, rootfs: rootfs, arguments: ["/bin/true"])
            try await measure(tool) {
                index += 1
                try Self.run("/usr/bin/" + tool, ["run", "--bundle", bundle, "\(tool)-lat-\(index)"])
            }
        }

        // MARK: Start rate and memory with `count` sleeping containers
        var rates: [String: Double] = [:]
        var runtimeMemory: [String: Double] = [:]
        var hostMemory: [String: Double] = [:]
        do {
            let before = Self.usedMemoryKiB()
            let start = ContinuousClock.now
            var ids: [String] = []
            for i in 0..<count {
                let info = try await runtime.create(ContainerSpec(name: "sleep-\(i)", layerDirectories: [rootfs],
                                                                  arguments: ["/bin/sleep", "3600"]))
                try await runtime.start(info.id)
                ids.append(info.id)
            }
            rates["flotilla"] = Double(count) / (ContinuousClock.now - start).seconds
            try await Task.sleep(for: .milliseconds(500))
            hostMemory["flotilla"] = Double(Self.usedMemoryKiB() - before) / Double(count)
            let inits = await runtime.list().compactMap(\.pid)
            runtimeMemory["flotilla"] = Double(inits.map(Self.privateMemoryKiB).reduce(0, +)) / Double(inits.count)
            for id in ids { try await runtime.delete(id, force: true) }
        }
        for tool in ["crun", "runc"] {
            let bundle = try makeBundle(tool: tool, rootfs: rootfs, arguments: ["/bin/sleep", "3600"])
            let before = Self.usedMemoryKiB()
            let start = ContinuousClock.now
            for i in 0..<count {
                try Self.run("/usr/bin/" + tool, ["run", "--detach", "--bundle", bundle, "\(tool)-sleep-\(i)"])
            }
            rates[tool] = Double(count) / (ContinuousClock.now - start).seconds
            try await Task.sleep(for: .milliseconds(500))
            hostMemory[tool] = Double(Self.usedMemoryKiB() - before) / Double(count)
            runtimeMemory[tool] = 0   // no runtime process stays behind a running container
            for i in 0..<count {
                _ = try? Self.run("/usr/bin/" + tool, ["delete", "--force", "\(tool)-sleep-\(i)"])
            }
        }

        // MARK: Report
        func percentile(_ samples: [Double], _ p: Double) -> Double {
            samples[min(samples.count - 1, Int((Double(samples.count - 1) * p).rounded()))]
        }
        let names = ["flotilla", "flotilla-cli", "crun", "runc"].filter { latencies[$0] != nil }
        print("start-to-exit of /bin/true (create, start, wait, delete), \(iterations) runs each:")
        print(pad("runtime", 14) + pad("p50 ms", 10) + pad("p90 ms", 10) + pad("starts/s", 10) + pad("runtime KiB/ctr", 17)
              + "host KiB/ctr")
        for name in names {
            let samples = latencies[name]!
            let rate = rates[name].map { String(format: "%.1f", $0) } ?? "-"
            let memory = runtimeMemory[name].map { String(format: "%.0f", $0) } ?? "-"
            let host = hostMemory[name].map { String(format: "%.0f", $0) } ?? "-"
            print(pad(name, 14) + pad(String(format: "%.2f", percentile(samples, 0.5)), 10)
                  + pad(String(format: "%.2f", percentile(samples, 0.9)), 10) + pad(rate, 10) + pad(memory, 17) + host)
        }
        let p50 = { (name: String) in latencies[name].map { percentile($0, 0.5) } ?? .nan }
        let p90 = { (name: String) in latencies[name].map { percentile($0, 0.9) } ?? .nan }
        print("")
        print(String(format: "flotilla p50 / crun p50 = %.2f; flotilla p50 / runc p50 = %.2f (goal: <= 1 vs crun)",
                     p50("flotilla") / p50("crun"), p50("flotilla") / p50("runc")))
        print("runtime KiB/ctr: private memory (Private_Clean+Private_Dirty of /proc/PID/smaps_rollup plus page tables)")
        print("of Flotilla's per-container init; crun and runc leave no process behind a running container.")

        var json: [String: Any] = ["benchmark": "runtime", "iterations": iterations, "count": count,
                                   "mountNamespace": "private, /sys/fs/cgroup/unified unmounted"]
        for name in names {
            json[name] = [
                "p50Ms": p50(name), "p90Ms": p90(name), "startsPerSecond": rates[name] as Any,
                "runtimeKiBPerContainer": runtimeMemory[name] as Any, "hostKiBPerContainer": hostMemory[name] as Any,
            ].compactMapValues { $0 is NSNull ? nil : $0 }
        }
        json["ratios"] = ["flotillaP50OverCrunP50": p50("flotilla") / p50("crun"),
                          "flotillaP50OverRuncP50": p50("flotilla") / p50("runc"),
                          "flotillaP90OverCrunP90": p90("flotilla") / p90("crun"),
                          "flotillaStartRateOverCrun": (rates["flotilla"] ?? 0) / (rates["crun"] ?? 1)]
        let data = try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    }

    // MARK: - Helpers

    /// Replaces this process with itself under `unshare -m`, /sys/fs/cgroup/unified unmounted in that namespace.
    private func reexecInPrivateMountNamespace() throws {
        let me = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let arguments = ["unshare", "-m", "--propagation", "private", "/bin/sh", "-c",
                         "umount /sys/fs/cgroup/unified 2>/dev/null; exec \"$@\"", "sh", me]
            + Array(CommandLine.arguments.dropFirst())
        setenv(Self.namespaceMarker, "1", 1)
        let cArguments = arguments.map { strdup($0) } + [nil]
        execv("/usr/bin/unshare", cArguments)
        throw ValidationError("could not exec unshare: errno \(errno)")
    }

    /// An OCI bundle whose config.json comes from `<tool> spec`, edited: no terminal, host network, `arguments`,
    /// the shared rootfs read-only.
    private func makeBundle(tool: String, rootfs: String, arguments: [String]) throws -> String {
        let bundle = "\(workDirectory)/bundle-\(tool)-\(arguments.count)"
        try FileManager.default.createDirectory(atPath: bundle, withIntermediateDirectories: true)
        try? FileManager.default.removeItem(atPath: bundle + "/config.json")
        _ = try Self.shell(["sh", "-c", "cd '\(bundle)' && \(tool) spec"])
        let url = URL(fileURLWithPath: bundle + "/config.json")
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        var process = config["process"] as! [String: Any]
        process["terminal"] = false
        process["args"] = arguments
        config["process"] = process
        config["root"] = ["path": rootfs, "readonly": true]
        var linux = config["linux"] as! [String: Any]
        linux["namespaces"] = (linux["namespaces"] as! [[String: Any]]).filter { $0["type"] as? String != "network" }
        config["linux"] = linux
        try JSONSerialization.data(withJSONObject: config).write(to: url)
        return bundle
    }

    private static func run(_ executable: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ValidationError("\(executable) \(arguments.joined(separator: " ")) exited \(process.terminationStatus)")
        }
    }

    private static func shell(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    private static func installed(_ tool: String) -> Bool { access("/usr/bin/" + tool, X_OK) == 0 }

    private static func version(_ tool: String) -> String {
        ((try? shell([tool, "--version"])) ?? "").split(separator: "\n").first.map(String.init) ?? "?"
    }

    /// MemTotal - MemAvailable, in KiB.
    private static func usedMemoryKiB() -> Int {
        let text = (try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8)) ?? ""
        func value(_ key: String) -> Int {
            text.split(separator: "\n").first { $0.hasPrefix(key + ":") }
                .flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") } ?? 0
        }
        return value("MemTotal") - value("MemAvailable")
    }

    /// Private (unshared) memory of a process plus its page tables, in KiB.
    private static func privateMemoryKiB(_ pid: Int32) -> Int {
        func fields(_ path: String) -> [String: Int] {
            let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
            var result: [String: Int] = [:]
            for line in text.split(separator: "\n") {
                let parts = line.split(whereSeparator: { $0 == ":" || $0 == " " || $0 == "\t" })
                if parts.count >= 2, let value = Int(parts[1]) { result[String(parts[0])] = value }
            }
            return result
        }
        let rollup = fields("/proc/\(pid)/smaps_rollup")
        let status = fields("/proc/\(pid)/status")
        return (rollup["Private_Clean"] ?? 0) + (rollup["Private_Dirty"] ?? 0) + (status["VmPTE"] ?? 0)
    }
}

private func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text + " " : text.padding(toLength: width, withPad: " ", startingAt: 0)
}

extension Duration {
    fileprivate var milliseconds: Double { Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15 }
    fileprivate var seconds: Double { milliseconds / 1000 }
}
