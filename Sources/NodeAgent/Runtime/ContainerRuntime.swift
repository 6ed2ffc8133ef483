internal import CFlotillaRuntime
import Foundation
public import Logging
import Metrics
import SystemPackage
#if canImport(Glibc)
import Glibc
#endif

/// Flotilla's namespace runtime: creates, starts, supervises and removes containers on this host.
///
/// Each container's state lives in `<dataDirectory>/containers/<id>/` (state.json, stdout.log and stderr.log with
/// their rotations, the overlay upper/work directories, the /etc files). Shared by all containers, in
/// `<dataDirectory>/runtime/`: the empty directory every container's rootfs overlay is mounted on (inside its own
/// mount namespace) and a read-only layer of empty mount points (/etc/hosts, /proc, ...) laid over every image, so
/// mounting over them writes nothing into the container's upper directory. The container's
/// PID 1 is always Flotilla's init (CFlotillaRuntime/init.c): it reaps zombies, forwards signals, writes the
/// command's output into rotated logs itself — so output keeps flowing while the agent restarts — and leaves the
/// command's wait status in `exit-status`. The rootfs overlay is mounted only inside the container's mount
/// namespace, so nothing is left mounted on the host once the container's processes are gone.
///
/// - Important: `init` re-adopts containers left running by a previous runtime (matching PID and start time), so a
///   restarted agent keeps supervising them; containers that ended meanwhile are marked stopped with their status.
public actor ContainerRuntime {
    public nonisolated let dataDirectory: String
    let logger: Logger
    /// Attaches containers in none, bridge and awsvpc mode; nil = host networking only.
    let networks: NetworkManager?
    var containers: [String: ContainerInfo] = [:]
    /// pidfds of running containers' init processes, owned by the actor.
    var pidfds: [String: Int32] = [:]
    /// Containers whose init is this process's child (reaped here); adopted ones are reaped by the host's init.
    var children: Set<String> = []
    /// Containers this runtime sent SIGKILL to (an init killed that way leaves no exit-status).
    var killed: Set<String> = []
    /// The default profile compiled once per capability set (its capability-gated rules depend on the set).
    var seccompPrograms: [UInt64: SeccompProgram] = [:]
    /// Cgroups of the containers this runtime created or found.
    var cgroups: [String: Cgroup] = [:]
    /// The host's cgroup layout, read from mountinfo once (nil: no cgroup mount; create then fails).
    let cgroupLayout: CgroupLayout?
    /// The cgroup every container's cgroup is made under, in each hierarchy.
    public nonisolated let cgroupParent: String
    var recovered = false
    /// Users resolved at create, so start does not read the image's /etc/passwd again.
    var users: [String: ResolvedUser] = [:]
    /// Each container's secret environment (`KEY=value`, a task's resolved `secrets`), in memory only: never in
    /// state.json (`ContainerSpec` does not hold it), gone with the container or the process.
    var secretEnvironments: [String: [String]] = [:]
    let lastCapability = Int(flotilla_last_capability())
    /// The agent's own permitted capabilities: a container (even privileged) can only get a subset.
    let availableCapabilities = ContainerRuntime.permittedCapabilities()

    var containersDirectory: String { dataDirectory + "/containers" }
    /// Where every container's rootfs overlay is mounted, each in its own mount namespace; empty on the host.
    var rootfsMountPoint: String { dataDirectory + "/runtime/rootfs" }
    /// The topmost lower layer of every container: the mount points of the mount table, empty.
    var mountPointLayer: String { dataDirectory + "/runtime/mountpoints" }

    /// Opens (creating if needed) the state directory and re-adopts the containers recorded there.
    ///
    /// - Parameter cgroupParent: the cgroup (relative path) containers' cgroups go under; agents sharing a host
    ///   each take their own.
    public init(
        dataDirectory: String, networks: NetworkManager? = nil, cgroupParent: String = "flotilla",
        logger: Logger
    ) throws(RuntimeError) {
        try self.init(
            dataDirectory: dataDirectory, networks: networks, cgroupParent: cgroupParent,
            cgroupLayout: CgroupLayout.detect(), logger: logger)
    }

    /// The same on a given cgroup layout (tests: v2 on a host whose v1 hierarchies hold the controllers).
    init(
        dataDirectory: String, networks: NetworkManager? = nil, cgroupParent: String = "flotilla",
        cgroupLayout: CgroupLayout?, logger: Logger
    ) throws(RuntimeError) {
        self.dataDirectory = dataDirectory
        self.networks = networks
        self.logger = logger
        self.cgroupParent = cgroupParent
        self.cgroupLayout = cgroupLayout
        for path in [dataDirectory, dataDirectory + "/containers"] where mkdir(path, 0o711) != 0 && errno != EEXIST {
            throw RuntimeError(stage: .state, errno: Errno(rawValue: errno), container: "")
        }
        try Self.makeSharedDirectories(dataDirectory + "/runtime")
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: dataDirectory + "/containers")) ?? []
        for id in entries.sorted() {
            let directory = "\(dataDirectory)/containers/\(id)"
            guard let data = FileManager.default.contents(atPath: directory + "/state.json") else { continue }
            do {
                containers[id] = try JSONDecoder().decode(ContainerInfo.self, from: data)
            } catch {
                let cgroup = cgroupLayout.flatMap { Cgroup.open(name: id, parent: cgroupParent, layout: $0) }
                Self.discardUnreadable(
                    id: id, directory: directory, error: error, cgroup: cgroup, networks: networks,
                    logger: logger)
            }
        }
    }

    // MARK: - Queries

    /// Every container, oldest first.
    public func list() -> [ContainerInfo] {
        recover()
        return containers.values.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
    }

    /// A container by id, unique id prefix, or name.
    public func state(_ reference: String) throws(ContainerLifecycleError) -> ContainerInfo {
        try containers[resolve(reference)]!
    }

    // MARK: - Create

    /// Validates `spec`, prepares the state directory (upper, work, /etc files) and the cgroup with its limits.
    ///
    /// `secretEnvironment` (`KEY=value`) joins the environment at start and exec, overriding entries of the same
    /// name; unlike `spec`, it is kept in memory only, never persisted.
    public func create(_ spec: ContainerSpec, secretEnvironment: [String] = []) throws -> ContainerInfo {
        recover()
        try validate(spec)
        if containers.values.contains(where: { $0.spec.name == spec.name }) {
            throw ContainerLifecycleError.nameInUse(spec.name)
        }
        var generator = SystemRandomNumberGenerator()
        let id = (0..<4).map { _ in String(format: "%016llx", generator.next() as UInt64) }.joined()
        let directory = "\(containersDirectory)/\(id)"
        // Resolve the user now: a bad user is the caller's error, reported before anything exists.
        let user = try resolveUser(spec)
        var network: NetworkAttachment?
        do {
            // The upper directory's mode becomes the mode of the container's "/": take the image's.
            let rootMode = spec.layerDirectories.last.flatMap { Self.mode(of: $0) } ?? 0o755
            // A read-only root is the layers alone: no upper, no work directory.
            let overlay =
                spec.readonlyRootFilesystem ? [] : [(directory + "/upper", rootMode), (directory + "/work", 0o700)]
            for (path, mode) in [(directory, 0o700)] + overlay {
                guard mkdir(path, mode_t(mode)) == 0, chmod(path, mode_t(mode)) == 0 else {
                    throw RuntimeError(stage: .rootfs, errno: Errno(rawValue: errno), container: id)
                }
            }
            guard let cgroupLayout else {
                throw CgroupError.noHierarchy(reason: "no cgroup or cgroup2 mount in /proc/self/mountinfo")
            }
            let cgroup = try Cgroup.create(name: id, limits: spec.limits, parent: cgroupParent, layout: cgroupLayout)
            cgroups[id] = cgroup
            if !spec.privileged {
                let devices = try DevicePolicy.resolve(spec.devices ?? [])
                try DevicePolicy.apply(DeviceRule.defaults + devices.map(\.rule), to: cgroup, container: id)
                logger.debug(
                    "container device allowlist applied",
                    metadata: [
                        "container.id": "\(id)", "cgroup.version": "\(cgroup.cloneDirectory == nil ? "v1" : "v2")",
                        "container.devices": "\(devices.map(\.hostPath))",
                    ])
            }
            network = try attachNetwork(spec, id: id)
            try writeEtcFiles(spec, address: network?.ipv4Address, directory: directory, id: id)
        } catch {
            if network != nil { detachNetwork(spec, id: id) }
            try? cgroups.removeValue(forKey: id)?.destroy()
            removeDirectory(directory)
            throw error
        }
        var info = ContainerInfo(
            id: id, spec: spec, status: .created, createdAt: Date().timeIntervalSince1970,
            directory: directory)
        info.network = network
        containers[id] = info
        users[id] = user
        if !secretEnvironment.isEmpty { secretEnvironments[id] = secretEnvironment }
        try persist(info)
        logger.debug("container created", metadata: ["container.id": "\(id)", "container.name": "\(spec.name)"])
        return info
    }

    // MARK: - Start

    /// Starts the container's init and command; returns once the command has exec'd.
    @discardableResult
    public func start(_ reference: String) throws -> ContainerInfo {
        let id = try resolve(reference)
        var info = containers[id]!
        guard info.status == .created else {
            throw ContainerLifecycleError.invalidState(container: id, status: info.status, operation: "start")
        }
        let spec = info.spec
        let process = try processSetup(
            spec, arguments: spec.arguments,
            environment: Self.environment(spec.environment, overriddenBy: secretEnvironments[id] ?? []),
            id: id)
        var descriptors = SpawnDescriptors()
        defer { closeAll(descriptors) }
        (descriptors.cgroupProcs, descriptors.cgroup) = try openCgroup(id)
        if let path = info.network?.namespacePath {
            descriptors.networkNamespace = try open(path, O_RDONLY, stage: .setns, id: id)
        }
        descriptors.stdin = try open("/dev/null", O_RDWR, stage: .stdio, id: id)
        descriptors.logDirectory = try open(info.directory, O_RDONLY | O_DIRECTORY, stage: .stdio, id: id)
        descriptors.status = try open(
            info.directory + "/exit-status", O_RDWR | O_CREAT | O_TRUNC, stage: .state, id: id)
        let etc = [
            "/etc/hosts": info.directory + "/hosts", "/etc/hostname": info.directory + "/hostname",
            "/etc/resolv.conf": info.directory + "/resolv.conf",
        ]
        let mounts = ContainerMounts.table(
            rootfs: rootfsMountPoint, layers: spec.layerDirectories + [mountPointLayer],
            upper: info.directory + "/upper",
            work: info.directory + "/work", etcFiles: etc, readOnly: spec.readonlyRootFilesystem,
            privileged: spec.privileged, sharedMemoryMiB: spec.sharedMemoryMiB,
            devices: (spec.devices ?? []).map { ($0.hostPath, $0.containerPath) })
        let namespaces = NamespaceFlags.pid | NamespaceFlags.mount | NamespaceFlags.uts | NamespaceFlags.ipc
        let spawned = try Spawner.spawn(
            process: process, mounts: mounts, newRoot: rootfsMountPoint, hostname: spec.hostname,
            namespaceFlags: namespaces, joinNamespaces: 0, descriptors: descriptors, logMaxBytes: spec.logMaxBytes,
            logMaxFiles: spec.logMaxFiles, container: id)
        pidfds[id] = spawned.pidfd
        children.insert(id)
        info.status = .running
        info.pid = spawned.pid
        info.pidStartTime = Self.startTime(of: spawned.pid)
        info.startedAt = Date().timeIntervalSince1970
        containers[id] = info
        try persist(info)
        Counter(label: "flotilla_runtime_containers_started_total").increment()
        logger.info(
            "container started",
            metadata: [
                "container.id": "\(id)", "container.name": "\(spec.name)", "container.pid": "\(spawned.pid)",
            ])
        return info
    }

    // MARK: - Wait, stop

    /// Waits for the container's command to end; returns how it ended (exit code, signal, OOM kill).
    public func wait(_ reference: String) async throws -> ContainerExit {
        let id = try resolve(reference)
        guard let info = containers[id] else { throw ContainerLifecycleError.notFound(reference) }
        if let exit = info.exit, info.status == .stopped { return exit }
        guard info.status == .running, let pidfd = pidfds[id] else {
            throw ContainerLifecycleError.invalidState(container: id, status: info.status, operation: "wait")
        }
        // A duplicate, so finishing the container elsewhere (closing the original) cannot pull it from under us.
        let watched = dup(pidfd)
        guard watched >= 0 else { throw RuntimeError(stage: .wait, errno: Errno(rawValue: errno), container: id) }
        _ = await Blocking.run { flotilla_pidfd_wait_exit(watched, -1) }
        close(watched)
        return try finish(id)
    }

    /// Sends SIGTERM (forwarded by init to the command), waits `timeout` (the container's stopTimeout by
    /// default), then SIGKILLs the whole container. Returns how it ended.
    @discardableResult
    public func stop(_ reference: String, timeout: Duration? = nil) async throws -> ContainerExit {
        let id = try resolve(reference)
        let info = containers[id]!
        if info.status != .running {
            if let exit = info.exit { return exit }
            throw ContainerLifecycleError.invalidState(container: id, status: info.status, operation: "stop")
        }
        let grace = timeout ?? .seconds(info.spec.stopTimeoutSeconds)
        guard let pidfd = pidfds[id] else { return try finish(id) }
        let watched = dup(pidfd)
        defer { close(watched) }
        _ = flotilla_pidfd_send_signal(watched, SIGTERM)
        let milliseconds = Int32(
            clamping: grace.components.seconds * 1000
                + grace.components.attoseconds / 1_000_000_000_000_000)
        let exited = await Blocking.run { flotilla_pidfd_wait_exit(watched, milliseconds) }
        if exited != 1 {
            killed.insert(id)
            _ = flotilla_pidfd_send_signal(watched, SIGKILL)
            logger.info("container stop escalated to SIGKILL", metadata: ["container.id": "\(id)"])
            _ = await Blocking.run { flotilla_pidfd_wait_exit(watched, -1) }
        }
        return try finish(id)
    }

    /// Records the end of a container whose init has exited (idempotent): reaps it if it is our child, reads the
    /// command's wait status from exit-status, asks the cgroup whether the OOM killer ended it.
    func finish(_ id: String) throws -> ContainerExit {
        guard var info = containers[id] else { throw ContainerLifecycleError.notFound(id) }
        if info.status == .stopped, let exit = info.exit { return exit }
        var initStatus: Int32?
        if let pidfd = pidfds.removeValue(forKey: id) {
            var status: Int32 = 0
            if children.contains(id), flotilla_pidfd_reap(pidfd, &status) == 0 { initStatus = status }
            close(pidfd)
        }
        children.remove(id)
        let oomKilled = cgroup(id)?.oomKilled() ?? false
        var exit: ContainerExit
        if let status = Self.readExitStatus(info.directory) {
            exit = ContainerExit(waitStatus: status, oomKilled: oomKilled)
        } else if let initStatus {
            exit = ContainerExit(waitStatus: initStatus, oomKilled: oomKilled)
        } else if killed.contains(id) {
            exit = ContainerExit(exitCode: 128 + SIGKILL, signal: SIGKILL, oomKilled: oomKilled)
        } else {
            exit = ContainerExit(exitCode: nil, signal: nil, oomKilled: oomKilled)
        }
        killed.remove(id)
        info.status = .stopped
        info.exit = exit
        info.pid = nil
        info.finishedAt = Date().timeIntervalSince1970
        containers[id] = info
        try persist(info)
        logger.info(
            "container stopped",
            metadata: [
                "container.id": "\(id)", "container.exitCode": "\(exit.exitCode.map(String.init) ?? "unknown")",
                "container.oomKilled": "\(exit.oomKilled)",
            ])
        return exit
    }

    // MARK: - Exec

    /// Runs `arguments` inside the running container: its PID, mount, UTS, IPC and network namespaces, its cgroup,
    /// user, capabilities and seccomp filter. Returns the exit and the output; kills the command after `timeout`.
    public func exec(
        _ reference: String, arguments: [String], environment: [String]? = nil,
        timeout: Duration = .seconds(60)
    ) async throws -> ExecResult {
        let id = try resolve(reference)
        let info = containers[id]!
        guard info.status == .running, let containerPidfd = pidfds[id] else {
            throw ContainerLifecycleError.invalidState(container: id, status: info.status, operation: "exec")
        }
        guard !arguments.isEmpty else {
            throw ContainerConfigurationError(field: "command", message: "must not be empty")
        }
        let process = try processSetup(
            info.spec, arguments: arguments,
            environment: environment
                ?? Self.environment(info.spec.environment, overriddenBy: secretEnvironments[id] ?? []),
            id: id)
        var descriptors = SpawnDescriptors()
        defer { closeAll(descriptors) }
        (descriptors.cgroupProcs, descriptors.cgroup) = try openCgroup(id)
        descriptors.stdin = try open("/dev/null", O_RDWR, stage: .stdio, id: id)
        // Output and status go to unlinked files: no pipe to drain while waiting, nothing left behind.
        descriptors.stdout = try anonymousFile(in: info.directory, id: id)
        descriptors.stderr = try anonymousFile(in: info.directory, id: id)
        descriptors.status = try anonymousFile(in: info.directory, id: id)
        descriptors.joinPidfd = containerPidfd
        let namespaces =
            NamespaceFlags.pid | NamespaceFlags.mount | NamespaceFlags.uts | NamespaceFlags.ipc
            | NamespaceFlags.network
        let spawned = try Spawner.spawn(
            process: process, mounts: [], newRoot: nil, hostname: nil, namespaceFlags: 0,
            joinNamespaces: namespaces, descriptors: descriptors, logMaxBytes: 0, logMaxFiles: 0, container: id)
        defer { close(spawned.pidfd) }
        let milliseconds = Int32(
            clamping: timeout.components.seconds * 1000
                + timeout.components.attoseconds / 1_000_000_000_000_000)
        let pidfd = spawned.pidfd
        var timedOut = false
        if await Blocking.run({ flotilla_pidfd_wait_exit(pidfd, milliseconds) }) != 1 {
            // The supervisor forwards catchable signals only: kill the command itself, then the supervisor.
            timedOut = true
            for child in Self.children(of: spawned.pid) { kill(child, SIGKILL) }
            _ = flotilla_pidfd_send_signal(pidfd, SIGKILL)
            _ = await Blocking.run { flotilla_pidfd_wait_exit(pidfd, -1) }
        }
        var supervisorStatus: Int32 = 0
        _ = flotilla_pidfd_reap(pidfd, &supervisorStatus)
        var raw: Int32 = 0
        let exit =
            pread(descriptors.status, &raw, 4, 0) == 4
            ? ContainerExit(waitStatus: raw, oomKilled: false)
            : ContainerExit(waitStatus: supervisorStatus, oomKilled: false)
        return ExecResult(
            exit: exit, standardOutput: Self.readAll(descriptors.stdout),
            standardError: Self.readAll(descriptors.stderr), timedOut: timedOut)
    }

    // MARK: - Delete

    /// Removes a stopped container: its cgroup and its state directory with the logs. `force` kills a running one
    /// first.
    public func delete(_ reference: String, force: Bool = false) async throws {
        let id = try resolve(reference)
        if containers[id]!.status == .running {
            guard force else {
                throw ContainerLifecycleError.invalidState(container: id, status: .running, operation: "delete")
            }
            try await stop(id, timeout: .zero)
        }
        let info = containers[id]!
        if let cgroup = cgroup(id) {
            try? cgroup.killAll()  // stragglers that outlived their PID namespace's init cannot exist; be sure
            try cgroup.destroy()
        }
        if info.network != nil { detachNetwork(info.spec, id: id) }
        removeDirectory(info.directory)
        containers[id] = nil
        secretEnvironments[id] = nil
        cgroups[id] = nil
        users[id] = nil
        logger.debug("container deleted", metadata: ["container.id": "\(id)"])
    }

}

extension ContainerRuntime {
    /// `environment` with the `KEY=value` entries of `overrides` in place of any entry of the same key.
    static func environment(_ environment: [String], overriddenBy overrides: [String]) -> [String] {
        guard !overrides.isEmpty else { return environment }
        func key(_ entry: String) -> Substring { entry.prefix { $0 != "=" } }
        let replaced = Set(overrides.map(key))
        return environment.filter { !replaced.contains(key($0)) } + overrides
    }
}
