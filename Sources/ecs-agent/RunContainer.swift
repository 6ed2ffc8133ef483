import ArgumentParser
import Foundation
import NodeAgent
import Synchronization

/// `ecs-agent runtime run`: create and start a container from an imported image; in the foreground, forward its
/// output and exit with its exit code.
struct RunContainer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run a container from an imported image.")
    @OptionGroup var options: RuntimeOptions

    // .unconditional: `--memory -1` is a bad value to report, not a missing value followed by an unknown flag.
    @Option(parsing: .unconditional, help: "Memory hard limit in MiB.") var memory: Int?
    @Option(parsing: .unconditional, help: "Memory soft limit in MiB.") var memoryReservation: Int?
    @Option(parsing: .unconditional, help: "CPU units (1024 = one core): CPU shares.") var cpu: Int?
    @Option(parsing: .unconditional, help: "Maximum number of processes.") var pids: Int?
    @Option(help: "none, host or bridge.") var network: String = "host"
    @Option(name: .customShort("p"), help: "HOSTPORT:CONTAINERPORT (bridge network; hostPort 0 = dynamic).")
    var publish: [String] = []
    @Flag(help: "Mount the root filesystem read-only.") var readOnly = false
    @Option(help: "user, uid, user:group or uid:gid.") var user: String?
    @Option(help: "Capability to add (ALL for every one).") var capAdd: [String] = []
    @Option(help: "Capability to drop (ALL for every one).") var capDrop: [String] = []
    @Option(help: "KEY=VALUE environment variable.") var env: [String] = []
    @Option(help: "Working directory.") var workdir: String?
    @Option(help: "Container name (default: a random one).") var name: String?
    @Option(help: "Seconds between SIGTERM and SIGKILL on stop.") var stopTimeout: Int = 30
    @Flag(help: "Start it and print its id instead of waiting.") var detach = false
    @Flag(help: "Remove the container once it exits (foreground only).") var rm = false
    @Argument(help: "The image reference.") var image: String
    @Argument(parsing: .captureForPassthrough, help: "Command and arguments (default: the image's).")
    var command: [String] = []

    func validate() throws {
        guard ["none", "host", "bridge"].contains(network) else {
            throw RuntimeCLIError("--network must be none, host or bridge, got \(network)")
        }
        for entry in env where !entry.contains("=") {
            throw RuntimeCLIError("--env must be KEY=VALUE, got \(entry)")
        }
        for mapping in publish {
            let parts = mapping.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2, let host = Int(parts[0]), let port = Int(parts[1]), (0...65535).contains(host),
                (1...65535).contains(port)
            else {
                throw RuntimeCLIError("-p must be HOSTPORT:CONTAINERPORT with ports in range, got \(mapping)")
            }
        }
        if !publish.isEmpty && network != "bridge" { throw RuntimeCLIError("-p needs --network bridge") }
        if detach && rm { throw RuntimeCLIError("--rm only applies in the foreground") }
        for (flag, value) in [
            ("--memory", memory), ("--memory-reservation", memoryReservation), ("--cpu", cpu),
            ("--pids", pids),
        ] {
            if let value, value <= 0 { throw RuntimeCLIError("\(flag) must be a positive number, got \(value)") }
        }
        if stopTimeout < 0 { throw RuntimeCLIError("--stop-timeout must not be negative, got \(stopTimeout)") }
    }

    func run() async throws {
        let images = try options.images()
        guard let record = images.resolve(image) else {
            throw RuntimeCLIError("image \(image) is not imported (see `ecs-agent runtime images`)")
        }
        var environment: [String: String] = [:]
        for entry in env {
            let key = String(entry.prefix { $0 != "=" })
            environment[key] = String(entry.dropFirst(key.count + 1))
        }
        let settings = record.config.merged(
            entryPoint: nil, command: command.isEmpty ? nil : command,
            environment: environment, workingDirectory: workdir, user: user)
        let containerName = name ?? "flotilla-" + String(UInt64.random(in: 0..<(1 << 40)), radix: 36)
        let spec = ContainerSpec(
            name: containerName, image: image, layerDirectories: record.layerDirectories,
            arguments: settings.arguments, environment: settings.environment,
            workingDirectory: settings.workingDirectory, user: settings.user,
            readonlyRootFilesystem: readOnly, capabilityAdd: capAdd, capabilityDrop: capDrop,
            limits: CgroupLimits(
                memoryLimitMiB: memory, memoryReservationMiB: memoryReservation, cpuShares: cpu,
                pidsLimit: pids),
            networkMode: ContainerNetworkMode(rawValue: network)!,
            portMappings: publish.map { mapping in
                let parts = mapping.split(separator: ":")
                return PortRequest(containerPort: Int(parts[1])!, hostPort: Int(parts[0])!)
            },
            stopTimeoutSeconds: stopTimeout)

        let runtime = try options.runtime()
        // In the foreground, SIGINT and SIGTERM go to the container (its init forwards them to the command); the CLI
        // then waits for the exit like any other. Installed before create so no signal falls between the two.
        let forwarder = detach ? nil : SignalForwarder(signals: [SIGINT, SIGTERM])
        let info = try await runtime.create(spec)
        let started: ContainerInfo
        do {
            started = try await runtime.start(info.id)
        } catch {
            try? await runtime.delete(info.id, force: true)
            throw error
        }
        if let pid = started.pid { forwarder?.forward(to: pid) }
        for binding in info.network?.bindings ?? [] {
            FileHandle.standardError.write(
                Data(
                    "\(binding.bindIP):\(binding.hostPort) -> \(binding.containerPort)/\(binding.protocol)\n".utf8))
        }
        if detach {
            print(info.id)
            return
        }
        let exit = try await forwardOutput(of: info, runtime: runtime)
        if rm { try await runtime.delete(info.id) }
        if exit.oomKilled { FileHandle.standardError.write(Data("container \(containerName) was OOM killed\n".utf8)) }
        throw ExitCode(exit.exitCode ?? 1)
    }

    /// Copies what init writes into stdout.log / stderr.log to our stdout / stderr until the container exits.
    private func forwardOutput(of info: ContainerInfo, runtime: ContainerRuntime) async throws -> ContainerExit {
        let exited = ExitFlag()
        return try await withThrowingTaskGroup(of: ContainerExit?.self) { group in
            group.addTask {
                let exit = try await runtime.wait(info.id)
                exited.value.store(true, ordering: .releasing)
                return exit
            }
            group.addTask {
                var tails = [
                    LogTail(path: info.stdoutLogPath, output: .standardOutput),
                    LogTail(path: info.stderrLogPath, output: .standardError),
                ]
                while !exited.value.load(ordering: .acquiring) {
                    for index in tails.indices { tails[index].pump() }
                    try await Task.sleep(for: .milliseconds(20))
                }
                for index in tails.indices { tails[index].pump() }
                return nil
            }
            var exit: ContainerExit?
            for try await result in group { if let result { exit = result } }
            return exit!
        }
    }
}

/// Sends the signals it handles to the container's init once its pid is known; a signal received before that is
/// kept and sent then. The CLI itself no longer dies of these signals.
final class SignalForwarder: Sendable {
    // nonisolated(unsafe): assigned once in init and only cancelled in deinit; dispatch sources are thread-safe.
    private nonisolated(unsafe) let sources: [any DispatchSourceSignal]
    /// 0 until the container started; then its init's pid.
    private let pid = Atomic<Int32>(0)
    /// A signal received before the pid was known (0 = none).
    private let pending = Atomic<Int32>(0)

    init(signals: [Int32]) {
        var sources: [any DispatchSourceSignal] = []
        for signo in signals {
            signal(signo, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signo, queue: .global())
            sources.append(source)
        }
        self.sources = sources
        for source in sources {
            let signo = Int32(source.handle)
            source.setEventHandler { [self] in
                let target = pid.load(ordering: .acquiring)
                if target > 0 { kill(target, signo) } else { pending.store(signo, ordering: .releasing) }
            }
            source.resume()
        }
    }

    func forward(to target: Int32) {
        pid.store(target, ordering: .releasing)
        let signo = pending.exchange(0, ordering: .acquiringAndReleasing)
        if signo != 0 { kill(target, signo) }
    }

    deinit {
        for source in sources { source.cancel() }
    }
}

/// Set once the container has exited; read by the log forwarder.
final class ExitFlag: Sendable {
    let value = Atomic<Bool>(false)
}

/// Follows one log file (reopening it when init rotates it) and copies new bytes to a FileHandle.
struct LogTail {
    let path: String
    let output: FileHandle
    var handle: FileHandle?
    var inode: UInt64 = 0

    init(path: String, output: FileHandle) {
        self.path = path
        self.output = output
    }

    mutating func pump() {
        let currentInode = (try? FileManager.default.attributesOfItem(atPath: path)[.systemFileNumber] as? UInt64) ?? 0
        if handle == nil || (currentInode != 0 && currentInode != inode) {
            if let handle { drain(handle) }  // the rest of the rotated file
            handle = FileHandle(forReadingAtPath: path)
            inode = currentInode
        }
        if let handle { drain(handle) }
    }

    private func drain(_ handle: FileHandle) {
        while let data = try? handle.read(upToCount: 65536), !data.isEmpty { output.write(data) }
    }
}
