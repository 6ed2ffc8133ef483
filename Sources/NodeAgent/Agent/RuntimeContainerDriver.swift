import Foundation
import TaskDefinitions

/// The `ContainerDriver` over Flotilla's namespace runtime: images from the host's `ImageStore`, containers from
/// `ContainerRuntime`, networks through the runtime's `NetworkManager`.
///
/// A task container's runtime name is `TaskContainerSpec.containerID` (`<taskID>-<container name>`): a restarted
/// agent maps the runtime's containers back to its tasks by name.
public struct RuntimeContainerDriver: ContainerDriver {
    public let runtime: ContainerRuntime
    public let images: ImageStore

    public init(runtime: ContainerRuntime, images: ImageStore) {
        self.runtime = runtime
        self.images = images
    }

    /// Images come only from `ecs-agent runtime import` until a registry client exists: a missing one fails the pull.
    public func prepareImage(_ image: String) async throws {
        guard images.resolve(image) != nil else { throw ImagePullError(reference: image) }
    }

    public func create(_ spec: TaskContainerSpec) async throws -> [NetworkBinding] {
        guard let record = images.resolve(spec.definition.image) else {
            throw ImagePullError(reference: spec.definition.image)
        }
        let containerSpec = try Self.containerSpec(for: spec, image: record)
        do {
            let info = try await runtime.create(containerSpec, secretEnvironment: spec.secretEnvironment)
            return Self.bindings(of: info, spec: spec)
        } catch ContainerLifecycleError.nameInUse {
            // A create whose answer was lost (the agent died between the two): the container is ours; start afresh.
            try await runtime.delete(spec.containerID, force: true)
            let info = try await runtime.create(containerSpec, secretEnvironment: spec.secretEnvironment)
            return Self.bindings(of: info, spec: spec)
        }
    }

    public func start(containerID: String) async throws {
        try await runtime.start(containerID)
    }

    /// Watches the container's init every `exitPollInterval` rather than blocking in the runtime's `wait` (a thread
    /// parked on the pidfd, which cancellation cannot reach): a daemon shutting down must leave its containers running
    /// and end its supervisors at once.
    public func wait(containerID: String) async throws -> TaskContainerExit {
        while true {
            let info = try await runtime.state(containerID)
            guard info.status == .running, let pid = info.pid, Self.isAlive(pid, startTime: info.pidStartTime) else {
                break
            }
            try await Task.sleep(for: Self.exitPollInterval)
        }
        return TaskContainerExit(try await runtime.wait(containerID))
    }

    static let exitPollInterval = Duration.milliseconds(200)

    /// The process `pid` still runs (not a zombie) and is the one started at `startTime` (/proc/PID/stat).
    static func isAlive(_ pid: Int32, startTime: UInt64?) -> Bool {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/stat") else { return false }
        let text = String(decoding: data, as: UTF8.self)
        guard let close = text.lastIndex(of: ")") else { return false }
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 19, fields[0] != "Z", fields[0] != "X" else { return false }
        return startTime.map { UInt64(fields[19]) == $0 } ?? true
    }

    public func stop(containerID: String, timeout: Duration) async throws {
        try await runtime.stop(containerID, timeout: timeout)
    }

    public func exec(containerID: String, arguments: [String], timeout: Duration) async throws -> ContainerExecOutcome {
        let result = try await runtime.exec(containerID, arguments: arguments, timeout: timeout)
        if result.timedOut { return .timedOut }
        return .exited(code: result.exit.exitCode ?? 255)
    }

    public func remove(containerID: String) async throws {
        do {
            try await runtime.delete(containerID, force: true)
        } catch ContainerLifecycleError.notFound {
            // Already gone: removing is idempotent.
        }
    }

    // MARK: - Mapping

    /// The runtime spec of one task container: the image's config merged with the definition as Docker merges it,
    /// ECS's cpu (shares), memory (hard limit), memoryReservation (soft limit), ulimits, linuxParameters,
    /// readonlyRootFilesystem, user, environment, entryPoint, command, workingDirectory, portMappings, networkMode.
    public static func containerSpec(for spec: TaskContainerSpec, image: ImageRecord) throws -> ContainerSpec {
        let definition = spec.definition
        let settings = image.config.merged(
            entryPoint: definition.entryPoint, command: definition.command, environment: spec.environment,
            workingDirectory: definition.workingDirectory, user: definition.user)
        let mode: ContainerNetworkMode =
            switch spec.networkMode {
            case .bridge: .bridge
            case .host: .host
            case .awsvpc: .awsvpc
            case .none: .none
            }
        // Host mode publishes nothing: the process binds the host's ports itself (bindings are reported as declared).
        let ports: [PortRequest] =
            mode == .host
            ? []
            : (definition.portMappings ?? []).compactMap { mapping in
                mapping.containerPort.map {
                    PortRequest(containerPort: $0, hostPort: mapping.hostPort, protocol: mapping.protocol ?? "tcp")
                }
            }
        let ulimits = (definition.ulimits ?? []).map { ulimit in
            Ulimit(
                name: ulimit.name, softLimit: Self.rlimit(ulimit.softLimit), hardLimit: Self.rlimit(ulimit.hardLimit))
        }
        let limits = CgroupLimits(
            memoryLimitMiB: definition.memory, memoryReservationMiB: definition.memoryReservation,
            cpuShares: definition.cpu.flatMap { $0 > 0 ? max($0, 2) : nil })
        return ContainerSpec(
            name: spec.containerID, image: definition.image, layerDirectories: image.layerDirectories,
            arguments: settings.arguments, environment: settings.environment,
            workingDirectory: settings.workingDirectory, user: settings.user,
            hostname: definition.hostname, readonlyRootFilesystem: definition.readonlyRootFilesystem ?? false,
            privileged: definition.privileged ?? false,
            capabilityAdd: definition.linuxParameters?.capabilities?.add ?? [],
            capabilityDrop: definition.linuxParameters?.capabilities?.drop ?? [],
            ulimits: ulimits, limits: limits, networkMode: mode, portMappings: ports,
            networkID: mode == .awsvpc ? spec.taskID : nil,
            extraHosts: (definition.extraHosts ?? []).map { "\($0.ipAddress) \($0.hostname)" },
            sharedMemoryMiB: definition.linuxParameters?.sharedMemorySize ?? 64,
            stopTimeoutSeconds: Int(spec.stopTimeout.components.seconds),
            devices: (definition.linuxParameters?.devices ?? []).map(Self.device))
    }

    /// An ECS device entry: no permissions (or an empty list) means all three, as Docker's `rwm`.
    static func device(_ device: TaskDefinitions.Device) -> ContainerDevice {
        var access: DeviceRule.Access = []
        for permission in device.permissions ?? [] {
            switch permission {
            case "read": access.insert(.read)
            case "write": access.insert(.write)
            case "mknod": access.insert(.mknod)
            default: continue  // validation refused it at registration
            }
        }
        return ContainerDevice(
            hostPath: device.hostPath, containerPath: device.containerPath,
            permissions: access.isEmpty ? .all : access)
    }

    /// The container's bindings as ECS reports them: the runtime's mappings, or in host mode the declared ports.
    static func bindings(of info: ContainerInfo, spec: TaskContainerSpec) -> [NetworkBinding] {
        if spec.networkMode == .host {
            return (spec.definition.portMappings ?? []).compactMap { mapping in
                mapping.containerPort.map {
                    NetworkBinding(
                        bindIP: "0.0.0.0", containerPort: $0, hostPort: mapping.hostPort ?? $0,
                        protocol: mapping.protocol ?? "tcp")
                }
            }
        }
        return info.network?.bindings ?? []
    }

    /// ECS's -1 (unlimited) is RLIM_INFINITY.
    private static func rlimit(_ value: Int) -> UInt64 {
        value < 0 ? .max : UInt64(value)
    }
}

/// The image is not on this host; described in the words of ECS's CannotPullContainerError (the task's stoppedReason
/// becomes `CannotPullContainerError: ` followed by this).
public struct ImagePullError: Error, Hashable, Sendable, CustomStringConvertible {
    public var reference: String

    public init(reference: String) {
        self.reference = reference
    }

    public var description: String {
        "pull image manifest has been retried 1 time(s): failed to resolve ref \(reference): not found on this host "
            + "(import it with ecs-agent runtime import)"
    }
}

extension TaskContainerExit {
    /// A runtime exit as ECS reports it (an unknown code is 255, as the agent reports a lost exit).
    init(_ exit: ContainerExit) {
        self.init(exitCode: exit.exitCode ?? 255, signal: exit.signal, oomKilled: exit.oomKilled)
    }
}
