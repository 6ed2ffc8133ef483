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
///    calls, as the agent makes them) with a read-only root as the crun and runc bundles have it, the same with a
///    writable overlay upper (`flotilla-rw`), Flotilla's CLI (`ecs-agent runtime run --rm --read-only`),
///    `crun run` and `runc run`.
/// 2. Containers started per second while starting `--count` sleeping containers, for each.
/// 3. Memory per running container attributable to the runtime: Flotilla keeps one init (PID 1) per container;
///    crun and runc keep no process once the container runs. Plus the host's used memory freed per container
///    deleted.
///
/// Both measurements interleave the runtimes (latency: one run each per round, in a rotating order; starts:
/// container i of each before container i + 1 of any), so a busy spell on the host hits all of them alike.
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
        let cli =
            ecsAgent
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path + "/ecs-agent"

        print("All runtimes measured in a private mount namespace with /sys/fs/cgroup/unified unmounted")
        print("(crun 1.8.1 refuses this host's hybrid cgroup layout otherwise). Rootfs: busybox layer \(rootfs)")
        print(
            "crun: \(Self.version("crun")); runc: \(Self.version("runc")); host network for all; flotilla-cli: \(cli)")
        print("flotilla = library calls (as the agent makes them), read-only root like the crun and runc bundles;")
        print("flotilla-rw = the same with a writable overlay upper; flotilla-cli, crun, runc = one process per run.")
        print("Latency runs are interleaved: each round runs every runtime once, in a rotating order.")
        print("")

        // MARK: Latency
        // The runtimes take turns, one run each per round in a rotating order, so load from elsewhere on the host
        // (other builds, writeback) lands on all of them alike instead of on whichever ran during a busy spell.
        var runners: [(name: String, body: () async throws -> Void)] = []
        var index = 0
        var stages: [String: [String: [Double]]] = [:]
        // "flotilla" runs the configuration the crun and runc bundles have (read-only root, host network);
        // "flotilla-rw" gives the container a writable overlay upper, as an ECS container gets by default.
        for (name, readOnly) in [("flotilla", true), ("flotilla-rw", false)] {
            runners.append(
                (
                    name,
                    {
                        index += 1
                        var clock = ContinuousClock.now
                        func lap(_ stage: String) {
                            let now = ContinuousClock.now
                            stages[name, default: [:]][stage, default: []].append((now - clock).milliseconds)
                            clock = now
                        }
                        var spec = ContainerSpec(
                            name: "lat-\(index)", layerDirectories: [rootfs], arguments: ["/bin/true"])
                        spec.readonlyRootFilesystem = readOnly
                        let info = try await runtime.create(spec)
                        lap("create")
                        try await runtime.start(info.id)
                        lap("start")
                        let exit = try await runtime.wait(info.id)
                        lap("wait")
                        guard exit.exitCode == 0 else {
                            throw ValidationError("\(name): /bin/true exited \(String(describing: exit))")
                        }
                        try await runtime.delete(info.id)
                        lap("delete")
                    }
                ))
        }
        if FileManager.default.isExecutableFile(atPath: cli) {
            runners.append(
                (
                    "flotilla-cli",
                    {
                        try Self.run(
                            cli,
                            [
                                "runtime", "run", "--data-dir", dataDirectory, "--rm", "--read-only",
                                "flotilla/busybox:1", "/bin/true",
                            ])
                    }
                ))
        }
        for tool in ["crun", "runc"] {
            let bundle = try makeBundle(tool: tool, rootfs: rootfs, arguments: ["/bin/true"])
            runners.append(
                (
                    tool,
                    {
                        index += 1
                        try Self.run("/usr/bin/" + tool, ["run", "--bundle", bundle, "\(tool)-lat-\(index)"])
                    }
                ))
        }
        let warmUp = 3
        var latencies: [String: [Double]] = [:]
        for round in 0..<(warmUp + iterations) {
            if round == warmUp { stages = [:] }
            for turn in 0..<runners.count {
                let runner = runners[(round + turn) % runners.count]
                let start = ContinuousClock.now
                try await runner.body()
                if round >= warmUp {
                    latencies[runner.name, default: []].append((ContinuousClock.now - start).milliseconds)
                }
            }
        }
        latencies = latencies.mapValues { $0.sorted() }
        stages = stages.mapValues { $0.mapValues { $0.sorted() } }

        // MARK: Start rate and memory with `count` sleeping containers each
        // Interleaved too: container i of every runtime starts before container i + 1 of any. The rate is `count`
        // over the time spent in that runtime's starts. Host memory per container is what used memory drops by when
        // one runtime's containers are all deleted (the others' stay running meanwhile).
        var rates: [String: Double] = [:]
        var runtimeMemory: [String: Double] = [:]
        var hostMemory: [String: Double] = [:]
        var ids: [String] = []
        var startTime: [String: Duration] = [:]
        let sleepBundles = try Dictionary(
            uniqueKeysWithValues: ["crun", "runc"].map { tool in
                (tool, try makeBundle(tool: tool, rootfs: rootfs, arguments: ["/bin/sleep", "3600"]))
            })
        for i in 0..<count {
            let start = ContinuousClock.now
            var spec = ContainerSpec(name: "sleep-\(i)", layerDirectories: [rootfs], arguments: ["/bin/sleep", "3600"])
            spec.readonlyRootFilesystem = true  // as the crun and runc bundles
            let info = try await runtime.create(spec)
            try await runtime.start(info.id)
            ids.append(info.id)
            startTime["flotilla", default: .zero] += ContinuousClock.now - start
            for tool in ["crun", "runc"] {
                let start = ContinuousClock.now
                try Self.run(
                    "/usr/bin/" + tool, ["run", "--detach", "--bundle", sleepBundles[tool]!, "\(tool)-sleep-\(i)"])
                startTime[tool, default: .zero] += ContinuousClock.now - start
            }
        }
        for (name, time) in startTime { rates[name] = Double(count) / time.seconds }
        let inits = await runtime.list().compactMap(\.pid)
        runtimeMemory["flotilla"] = Double(inits.map(Self.privateMemoryKiB).reduce(0, +)) / Double(inits.count)
        for tool in ["crun", "runc"] { runtimeMemory[tool] = 0 }  // no runtime process stays behind a running container
        try await Task.sleep(for: .milliseconds(500))
        var before = Self.usedMemoryKiB()
        for id in ids { try await runtime.delete(id, force: true) }
        try await Task.sleep(for: .milliseconds(500))
        hostMemory["flotilla"] = Double(before - Self.usedMemoryKiB()) / Double(count)
        for tool in ["crun", "runc"] {
            before = Self.usedMemoryKiB()
            for i in 0..<count {
                _ = try? Self.run("/usr/bin/" + tool, ["delete", "--force", "\(tool)-sleep-\(i)"])
            }
            try await Task.sleep(for: .milliseconds(500))
            hostMemory[tool] = Double(before - Self.usedMemoryKiB()) / Double(count)
        }

        // MARK: Report
        let names = ["flotilla", "flotilla-rw", "flotilla-cli", "crun", "runc"].filter { latencies[$0] != nil }
        print("start-to-exit of /bin/true (create, start, wait, delete), \(iterations) runs each:")
        print(
            Cell.left("runtime", 14) + Cell.left("p50 ms", 10) + Cell.left("p90 ms", 10) + Cell.left("starts/s", 10)
                + Cell.left("runtime KiB/ctr", 17)
                + "host KiB/ctr")
        for name in names {
            let samples = latencies[name]!
            let rate = rates[name].map { String(format: "%.1f", $0) } ?? "-"
            let memory = runtimeMemory[name].map { String(format: "%.0f", $0) } ?? "-"
            let host = hostMemory[name].map { String(format: "%.0f", $0) } ?? "-"
            print(
                Cell.left(name, 14) + Cell.left(String(format: "%.2f", Statistics.percentile(samples, 0.5)), 10)
                    + Cell.left(String(format: "%.2f", Statistics.percentile(samples, 0.9)), 10) + Cell.left(rate, 10)
                    + Cell.left(memory, 17) + host)
        }
        let p50 = { (name: String) in latencies[name].map { Statistics.percentile($0, 0.5) } ?? .nan }
        let p90 = { (name: String) in latencies[name].map { Statistics.percentile($0, 0.9) } ?? .nan }
        print("")
        print(
            String(
                format: "flotilla p50 / crun p50 = %.2f; flotilla p50 / runc p50 = %.2f (goal: <= 1 vs crun)",
                p50("flotilla") / p50("crun"), p50("flotilla") / p50("runc")))
        print(
            String(
                format: "flotilla-rw p50 / crun p50 = %.2f (writable overlay upper; crun's root is read-only)",
                p50("flotilla-rw") / p50("crun")))
        let stageNames = ["create", "start", "wait", "delete"]
        func stageP50(_ runner: String, _ stage: String) -> Double {
            stages[runner]?[stage].map { Statistics.percentile($0, 0.5) } ?? .nan
        }
        for runner in ["flotilla", "flotilla-rw"] {
            print(
                "\(runner) stages, p50 ms: "
                    + stageNames.map { "\($0) " + String(format: "%.2f", stageP50(runner, $0)) }
                    .joined(separator: ", "))
        }
        print(
            "runtime KiB/ctr: private memory (Private_Clean+Private_Dirty of /proc/PID/smaps_rollup plus page tables)")
        print("of Flotilla's per-container init; crun and runc leave no process behind a running container.")
        print("host KiB/ctr: MemTotal-MemAvailable freed per container when that runtime's \(count) are deleted.")
        print("starts/s: \(count) sleeping containers per runtime, interleaved; time spent in that runtime's starts.")

        var json: [String: Any] = [
            "benchmark": "runtime", "iterations": iterations, "count": count,
            "mountNamespace": "private, /sys/fs/cgroup/unified unmounted",
            "latencyOrder": "interleaved, rotating",
        ]
        for name in names {
            json[name] = [
                "p50Ms": p50(name), "p90Ms": p90(name), "startsPerSecond": rates[name] as Any,
                "runtimeKiBPerContainer": runtimeMemory[name] as Any, "hostKiBPerContainer": hostMemory[name] as Any,
            ].compactMapValues { $0 is NSNull ? nil : $0 }
        }
        for runner in ["flotilla", "flotilla-rw"] {
            json[runner + "StagesP50Ms"] = Dictionary(
                uniqueKeysWithValues: stageNames.map { ($0, stageP50(runner, $0)) })
        }
        json["ratios"] = [
            "flotillaP50OverCrunP50": p50("flotilla") / p50("crun"),
            "flotillaP50OverRuncP50": p50("flotilla") / p50("runc"),
            "flotillaP90OverCrunP90": p90("flotilla") / p90("crun"),
            "flotillaRwP50OverCrunP50": p50("flotilla-rw") / p50("crun"),
            "flotillaStartRateOverCrun": (rates["flotilla"] ?? 0) / (rates["crun"] ?? 1),
        ]
        let data = try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    }

    // MARK: - Helpers

    /// Replaces this process with itself under `unshare -m`, /sys/fs/cgroup/unified unmounted in that namespace.
    private func reexecInPrivateMountNamespace() throws {
        let me =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let arguments =
            [
                "unshare", "-m", "--propagation", "private", "/bin/sh", "-c",
                "umount /sys/fs/cgroup/unified 2>/dev/null; exec \"$@\"", "sh", me,
            ]
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
            throw ValidationError(
                "\(executable) \(arguments.joined(separator: " ")) exited \(process.terminationStatus)")
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

extension Duration {
    fileprivate var milliseconds: Double { Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15 }
    fileprivate var seconds: Double { milliseconds / 1000 }
}
