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
    private let logger: Logger
    /// Attaches containers in none, bridge and awsvpc mode; nil = host networking only.
    private let networks: NetworkManager?
    private var containers: [String: ContainerInfo] = [:]
    /// pidfds of running containers' init processes, owned by the actor.
    private var pidfds: [String: Int32] = [:]
    /// Containers whose init is this process's child (reaped here); adopted ones are reaped by the host's init.
    private var children: Set<String> = []
    /// Containers this runtime sent SIGKILL to (an init killed that way leaves no exit-status).
    private var killed: Set<String> = []
    /// The default profile compiled once per capability set (its capability-gated rules depend on the set).
    private var seccompPrograms: [UInt64: SeccompProgram] = [:]
    /// Cgroups of the containers this runtime created or found.
    private var cgroups: [String: Cgroup] = [:]
    /// The host's cgroup layout, read from mountinfo once (nil: no cgroup mount; create then fails).
    private let cgroupLayout: CgroupLayout?
    /// The cgroup every container's cgroup is made under, in each hierarchy.
    public nonisolated let cgroupParent: String
    private var recovered = false
    /// Users resolved at create, so start does not read the image's /etc/passwd again.
    private var users: [String: ResolvedUser] = [:]
    private let lastCapability = Int(flotilla_last_capability())
    /// The agent's own permitted capabilities: a container (even privileged) can only get a subset.
    private let availableCapabilities = ContainerRuntime.permittedCapabilities()

    private var containersDirectory: String { dataDirectory + "/containers" }
    /// Where every container's rootfs overlay is mounted, each in its own mount namespace; empty on the host.
    private var rootfsMountPoint: String { dataDirectory + "/runtime/rootfs" }
    /// The topmost lower layer of every container: the mount points of the mount table, empty.
    private var mountPointLayer: String { dataDirectory + "/runtime/mountpoints" }

    /// Opens (creating if needed) the state directory and re-adopts the containers recorded there.
    ///
    /// - Parameter cgroupParent: the cgroup (relative path) containers' cgroups go under; agents sharing a host
    ///   each take their own.
    public init(dataDirectory: String, networks: NetworkManager? = nil, cgroupParent: String = "flotilla",
                logger: Logger) throws(RuntimeError) {
        try self.init(dataDirectory: dataDirectory, networks: networks, cgroupParent: cgroupParent,
                      cgroupLayout: CgroupLayout.detect(), logger: logger)
    }

    /// The same on a given cgroup layout (tests: v2 on a host whose v1 hierarchies hold the controllers).
    init(dataDirectory: String, networks: NetworkManager? = nil, cgroupParent: String = "flotilla",
         cgroupLayout: CgroupLayout?, logger: Logger) throws(RuntimeError) {
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
                Self.discardUnreadable(id: id, directory: directory, error: error, cgroup: cgroup, networks: networks,
                                       logger: logger)
            }
        }
    }

    /// A state.json this version cannot decode (written by another version, or damaged): the container cannot be
    /// supervised, stopped or listed faithfully, so what can be found by its id alone is removed: its processes and
    /// cgroup (named by the id), its network attachment (keyed by the id unless it shared an awsvpc task network)
    /// and its directory. Each step is logged; a step that fails leaves the rest to be done.
    private static func discardUnreadable(id: String, directory: String, error: any Error, cgroup: Cgroup?,
                                          networks: NetworkManager?, logger: Logger) {
        logger.warning("container state unreadable, removing the container",
                       metadata: ["container.id": "\(id)", "error": "\(error)"])
        if let cgroup {
            do {
                try cgroup.killAll()
                try cgroup.destroy()
            } catch {
                logger.warning("cgroup removal failed", metadata: ["container.id": "\(id)", "error": "\(error)"])
            }
        }
        do {
            try networks?.detach(networkID: id)
        } catch {
            logger.warning("network detach failed", metadata: ["container.id": "\(id)", "error": "\(error)"])
        }
        removeTree(directory)
    }

    /// Re-adopts the containers a previous runtime left running (same PID and start time); marks the ones that
    /// ended meanwhile as stopped. Runs once, before the first operation; calling it again does nothing.
    @discardableResult
    public func recover() -> [ContainerInfo] {
        guard !recovered else { return [] }
        recovered = true
        var adopted: [ContainerInfo] = []
        for id in containers.keys.sorted() where containers[id]?.status == .running && pidfds[id] == nil {
            if adopt(id) { adopted.append(containers[id]!) }
        }
        return adopted
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
    public func create(_ spec: ContainerSpec) throws -> ContainerInfo {
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
            let overlay = spec.readonlyRootFilesystem ? [] : [(directory + "/upper", rootMode), (directory + "/work", 0o700)]
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
                logger.debug("container device allowlist applied", metadata: [
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
        var info = ContainerInfo(id: id, spec: spec, status: .created, createdAt: Date().timeIntervalSince1970,
                                 directory: directory)
        info.network = network
        containers[id] = info
        users[id] = user
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
        let process = try processSetup(spec, arguments: spec.arguments, environment: spec.environment,
                                       id: id)
        var descriptors = SpawnDescriptors()
        defer { closeAll(descriptors) }
        (descriptors.cgroupProcs, descriptors.cgroup) = try openCgroup(id)
        if let path = info.network?.namespacePath {
            descriptors.networkNamespace = try open(path, O_RDONLY, stage: .setns, id: id)
        }
        descriptors.stdin = try open("/dev/null", O_RDWR, stage: .stdio, id: id)
        descriptors.logDirectory = try open(info.directory, O_RDONLY | O_DIRECTORY, stage: .stdio, id: id)
        descriptors.status = try open(info.directory + "/exit-status", O_RDWR | O_CREAT | O_TRUNC, stage: .state, id: id)
        let etc = ["/etc/hosts": info.directory + "/hosts", "/etc/hostname": info.directory + "/hostname",
                   "/etc/resolv.conf": info.directory + "/resolv.conf"]
        let mounts = ContainerMounts.table(
            rootfs: rootfsMountPoint, layers: spec.layerDirectories + [mountPointLayer], upper: info.directory + "/upper",
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
        logger.info("container started", metadata: [
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
        let milliseconds = Int32(clamping: grace.components.seconds * 1000
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
    private func finish(_ id: String) throws -> ContainerExit {
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
        logger.info("container stopped", metadata: [
            "container.id": "\(id)", "container.exitCode": "\(exit.exitCode.map(String.init) ?? "unknown")",
            "container.oomKilled": "\(exit.oomKilled)",
        ])
        return exit
    }

    // MARK: - Exec

    /// Runs `arguments` inside the running container: its PID, mount, UTS, IPC and network namespaces, its cgroup,
    /// user, capabilities and seccomp filter. Returns the exit and the output; kills the command after `timeout`.
    public func exec(_ reference: String, arguments: [String], environment: [String]? = nil,
                     timeout: Duration = .seconds(60)) async throws -> ExecResult {
        let id = try resolve(reference)
        let info = containers[id]!
        guard info.status == .running, let containerPidfd = pidfds[id] else {
            throw ContainerLifecycleError.invalidState(container: id, status: info.status, operation: "exec")
        }
        guard !arguments.isEmpty else {
            throw ContainerConfigurationError(field: "command", message: "must not be empty")
        }
        let process = try processSetup(info.spec, arguments: arguments,
                                       environment: environment ?? info.spec.environment, id: id)
        var descriptors = SpawnDescriptors()
        defer { closeAll(descriptors) }
        (descriptors.cgroupProcs, descriptors.cgroup) = try openCgroup(id)
        descriptors.stdin = try open("/dev/null", O_RDWR, stage: .stdio, id: id)
        // Output and status go to unlinked files: no pipe to drain while waiting, nothing left behind.
        descriptors.stdout = try anonymousFile(in: info.directory, id: id)
        descriptors.stderr = try anonymousFile(in: info.directory, id: id)
        descriptors.status = try anonymousFile(in: info.directory, id: id)
        descriptors.joinPidfd = containerPidfd
        let namespaces = NamespaceFlags.pid | NamespaceFlags.mount | NamespaceFlags.uts | NamespaceFlags.ipc
            | NamespaceFlags.network
        let spawned = try Spawner.spawn(
            process: process, mounts: [], newRoot: nil, hostname: nil, namespaceFlags: 0,
            joinNamespaces: namespaces, descriptors: descriptors, logMaxBytes: 0, logMaxFiles: 0, container: id)
        defer { close(spawned.pidfd) }
        let milliseconds = Int32(clamping: timeout.components.seconds * 1000
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
        let exit = pread(descriptors.status, &raw, 4, 0) == 4
            ? ContainerExit(waitStatus: raw, oomKilled: false)
            : ContainerExit(waitStatus: supervisorStatus, oomKilled: false)
        return ExecResult(exit: exit, standardOutput: Self.readAll(descriptors.stdout),
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
            try? cgroup.killAll()   // stragglers that outlived their PID namespace's init cannot exist; be sure
            try cgroup.destroy()
        }
        if info.network != nil { detachNetwork(info.spec, id: id) }
        removeDirectory(info.directory)
        containers[id] = nil
        cgroups[id] = nil
        users[id] = nil
        logger.debug("container deleted", metadata: ["container.id": "\(id)"])
    }

    // MARK: - Recovery

    /// Re-attaches to a container recorded as running: same PID and start time means the same process.
    private func adopt(_ id: String) -> Bool {
        guard let info = containers[id], let pid = info.pid else { return false }
        if Self.startTime(of: pid) == info.pidStartTime, info.pidStartTime != nil {
            let pidfd = flotilla_pidfd_open(pid)
            if pidfd >= 0 {
                pidfds[id] = pidfd
                logger.info("container re-adopted", metadata: ["container.id": "\(id)", "container.pid": "\(pid)"])
                return true
            }
        }
        _ = try? finish(id)
        return false
    }

    // MARK: - Helpers

    private func resolve(_ reference: String) throws(ContainerLifecycleError) -> String {
        recover()
        if containers[reference] != nil { return reference }
        if let byName = containers.values.first(where: { $0.spec.name == reference }) { return byName.id }
        let matches = containers.keys.filter { $0.hasPrefix(reference) }
        guard reference.count >= 4, matches.count == 1 else { throw .notFound(reference) }
        return matches[0]
    }

    private func validate(_ spec: ContainerSpec) throws(ContainerConfigurationError) {
        if spec.name.isEmpty || spec.name.contains("/") {
            throw ContainerConfigurationError(field: "name", message: "must be non-empty and contain no '/'")
        }
        if spec.arguments.isEmpty {
            throw ContainerConfigurationError(field: "command", message: "neither the image nor the request gives a command")
        }
        if spec.layerDirectories.isEmpty {
            throw ContainerConfigurationError(field: "image", message: "has no layers")
        }
        for layer in spec.layerDirectories where access(layer, F_OK) != 0 {
            throw ContainerConfigurationError(field: "image", message: "layer directory \(layer) does not exist")
        }
        if spec.hostname.isEmpty || spec.hostname.utf8.count > 63 {
            throw ContainerConfigurationError(field: "hostname", message: "must be 1 to 63 characters")
        }
        if !spec.workingDirectory.hasPrefix("/") {
            throw ContainerConfigurationError(field: "workingDirectory", message: "must be an absolute path")
        }
        for ulimit in spec.ulimits {
            guard Self.rlimitResources[ulimit.name] != nil else {
                throw ContainerConfigurationError(field: "ulimits", message: "unknown ulimit \(ulimit.name)")
            }
            if ulimit.softLimit > ulimit.hardLimit {
                throw ContainerConfigurationError(field: "ulimits", message: "\(ulimit.name): softLimit above hardLimit")
            }
        }
        _ = try Capabilities.resolve(add: spec.capabilityAdd, drop: spec.capabilityDrop,
                                     privileged: spec.privileged, lastCapability: lastCapability)
        try DevicePolicy.validate(spec.devices ?? [])
    }

    private static let rlimitResources: [String: Int32] = [
        "core": 4, "cpu": 0, "data": 2, "fsize": 1, "locks": 10, "memlock": 8, "msgqueue": 12, "nice": 13,
        "nofile": 7, "nproc": 6, "rss": 5, "rtprio": 14, "rttime": 15, "sigpending": 11, "stack": 3,
    ]

    /// The image's /etc/passwd and /etc/group come from the topmost layer that has them.
    private func resolveUser(_ spec: ContainerSpec) throws(ContainerConfigurationError) -> ResolvedUser {
        func file(_ path: String) -> String? {
            for layer in spec.layerDirectories.reversed() {
                if let data = FileManager.default.contents(atPath: layer + path) {
                    return String(decoding: data, as: UTF8.self)
                }
            }
            return nil
        }
        return try UserResolver.resolve(spec.user, passwd: file("/etc/passwd"), group: file("/etc/group"))
    }

    private func processSetup(_ spec: ContainerSpec, arguments: [String], environment: [String],
                              id: String) throws -> ProcessSetup {
        let user = try users[id] ?? resolveUser(spec)
        users[id] = user
        var environment = environment
        func setDefault(_ key: String, _ value: String) {
            if !environment.contains(where: { $0.hasPrefix(key + "=") }) { environment.append("\(key)=\(value)") }
        }
        setDefault("PATH", Spawner.defaultSearchPath)
        setDefault("HOSTNAME", spec.hostname)
        setDefault("HOME", user.home ?? "/")
        let capabilities = try Capabilities.resolve(add: spec.capabilityAdd, drop: spec.capabilityDrop,
                                                    privileged: spec.privileged, lastCapability: lastCapability)
            & availableCapabilities
        var seccomp: SeccompProgram?
        if !spec.privileged {
            if seccompPrograms[capabilities] == nil {
                seccompPrograms[capabilities] = try SeccompProgram(
                    rules: SeccompProfile.rules(capabilities: capabilities), container: id)
            }
            seccomp = seccompPrograms[capabilities]
        }
        return ProcessSetup(
            arguments: arguments, environment: environment, workingDirectory: spec.workingDirectory, user: user,
            capabilities: capabilities, noNewPrivileges: !spec.privileged, seccomp: seccomp,
            rlimits: spec.ulimits.map { (Self.rlimitResources[$0.name]!, $0.softLimit, $0.hardLimit) })
    }

    // MARK: - Network

    /// Attaches the container's network through the NetworkManager (none, bridge, awsvpc); host needs nothing.
    private func attachNetwork(_ spec: ContainerSpec, id: String) throws -> NetworkAttachment? {
        if spec.networkMode == .host {
            if !spec.portMappings.isEmpty {
                throw ContainerConfigurationError(field: "portMappings", message: "need bridge or awsvpc networking")
            }
            return nil
        }
        guard let networks else {
            throw ContainerConfigurationError(field: "networkMode",
                                              message: "\(spec.networkMode.rawValue) needs a NetworkManager")
        }
        let networkID = spec.networkID ?? id
        // awsvpc: containers of one task share the attachment made for the first.
        if let shared = containers.values.first(where: { $0.network?.networkID == networkID })?.network {
            return shared
        }
        return try networks.attach(networkID: networkID, mode: spec.networkMode, ports: spec.portMappings)
    }

    /// Detaches the network once no other container uses it; a failure is logged (delete goes on).
    private func detachNetwork(_ spec: ContainerSpec, id: String) {
        let networkID = spec.networkID ?? id
        guard let networks,
              !containers.values.contains(where: { $0.id != id && $0.network?.networkID == networkID }) else { return }
        do {
            try networks.detach(networkID: networkID)
        } catch {
            logger.warning("network detach failed", metadata: ["container.id": "\(id)", "error": "\(error)"])
        }
    }

    private func writeEtcFiles(_ spec: ContainerSpec, address: String?, directory: String, id: String) throws(RuntimeError) {
        var hosts = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
        hosts += spec.extraHosts.map { $0 + "\n" }.joined()
        if !spec.extraHosts.contains(where: { $0.split(separator: " ").dropFirst().contains(Substring(spec.hostname)) }) {
            hosts += "\(address ?? "127.0.1.1")\t\(spec.hostname)\n"
        }
        let resolv = FileManager.default.contents(atPath: "/etc/resolv.conf") ?? Data()
        let files: [(String, Data)] = [
            ("hosts", Data(hosts.utf8)), ("hostname", Data((spec.hostname + "\n").utf8)), ("resolv.conf", resolv),
        ]
        // Plain writes, no temporary file, no fsync: nothing reads them before start, which a crash in between
        // never reaches.
        for (name, data) in files {
            try Self.write(data, to: "\(directory)/\(name)", flags: O_CREAT | O_EXCL, stage: .rootfs, id: id)
        }
    }

    /// Replaces state.json through a temporary file and rename(2), so a runtime killed at any point leaves the old
    /// state or the new one, never half of one.
    ///
    /// Not fsync'd: the state describes processes, which a host crash ends anyway; after one, recovery finds no
    /// matching process (or an unreadable file, which it removes) either way.
    private func persist(_ info: ContainerInfo) throws(RuntimeError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let data = try? encoder.encode(info) else {
            throw RuntimeError(stage: .state, errno: .invalidArgument, container: info.id)
        }
        let path = info.directory + "/state.json"
        try Self.write(data, to: path + ".tmp", flags: O_CREAT | O_TRUNC, stage: .state, id: info.id)
        if rename(path + ".tmp", path) != 0 {
            throw RuntimeError(stage: .state, errno: Errno(rawValue: errno), container: info.id)
        }
    }

    /// open(2) with `flags` (plus O_WRONLY, O_NOFOLLOW, O_CLOEXEC), write(2) all of `data`, close(2).
    private static func write(_ data: Data, to path: String, flags: Int32, stage: RuntimeError.Stage,
                              id: String) throws(RuntimeError) {
        let fd = Glibc.open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC | flags, 0o644)
        guard fd >= 0 else { throw RuntimeError(stage: stage, errno: Errno(rawValue: errno), container: id) }
        defer { close(fd) }
        var offset = 0
        while offset < data.count {
            let written = data.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { throw RuntimeError(stage: stage, errno: Errno(rawValue: errno), container: id) }
            offset += written
        }
    }

    /// `<data>/runtime/rootfs` (empty) and the mount-point layer `<data>/runtime/mountpoints`: empty /etc/hosts,
    /// /etc/hostname, /etc/resolv.conf and /proc, /dev, /sys directories. Idempotent.
    private static func makeSharedDirectories(_ runtime: String) throws(RuntimeError) {
        let layer = runtime + "/mountpoints"
        for path in [runtime, runtime + "/rootfs", layer, layer + "/etc", layer + "/proc", layer + "/dev", layer + "/sys"]
        where mkdir(path, 0o755) != 0 && errno != EEXIST {
            throw RuntimeError(stage: .state, errno: Errno(rawValue: errno), container: "")
        }
        for name in ["hosts", "hostname", "resolv.conf"] {
            let fd = Glibc.open(layer + "/etc/" + name, O_RDONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw RuntimeError(stage: .state, errno: Errno(rawValue: errno), container: "") }
            close(fd)
        }
    }

    private func openCgroup(_ id: String) throws -> (attach: [Int32], directory: Int32) {
        guard let cgroup = cgroup(id) else {
            throw RuntimeError(stage: .cgroup, errno: .noSuchFileOrDirectory, container: id)
        }
        var fds: [Int32] = []
        do {
            for path in cgroup.selfAttachPaths { fds.append(try open(path, O_WRONLY, stage: .cgroup, id: id)) }
            let directory = try cgroup.cloneDirectory.map { path throws(RuntimeError) in
                try open(path, O_RDONLY | O_DIRECTORY, stage: .cgroup, id: id)
            }
            return (fds, directory ?? -1)
        } catch {
            fds.forEach { close($0) }
            throw error
        }
    }

    private func open(_ path: String, _ flags: Int32, stage: RuntimeError.Stage, id: String) throws(RuntimeError) -> Int32 {
        let fd = Glibc.open(path, flags | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw RuntimeError(stage: stage, errno: Errno(rawValue: errno), container: id) }
        return fd
    }

    private func anonymousFile(in directory: String, id: String) throws(RuntimeError) -> Int32 {
        let fd = Glibc.open(directory, 0o20200000 | O_RDWR /* O_TMPFILE */ | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw RuntimeError(stage: .stdio, errno: Errno(rawValue: errno), container: id) }
        return fd
    }

    private func closeAll(_ descriptors: SpawnDescriptors) {
        for fd in descriptors.cgroupProcs + [descriptors.cgroup, descriptors.networkNamespace, descriptors.stdin, descriptors.stdout,
                                             descriptors.stderr, descriptors.logDirectory, descriptors.status]
        where fd >= 0 {
            close(fd)
        }
    }

    private func cgroup(_ id: String) -> Cgroup? {
        if let cgroup = cgroups[id] { return cgroup }
        let cgroup = cgroupLayout.flatMap { Cgroup.open(name: id, parent: cgroupParent, layout: $0) }
        cgroups[id] = cgroup
        return cgroup
    }

    private func removeDirectory(_ path: String) {
        Self.removeTree(path)
    }

    private static func removeTree(_ path: String) {
        // The rootfs mount point is empty on the host: the overlay only ever exists in the container's namespace.
        let fd = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return }
        removeContents(of: fd)
        rmdir(path)
    }

    /// Empties a directory with unlinkat, never following symlinks (the upper directory holds the container's files).
    /// Closes `directory`.
    private static func removeContents(of directory: Int32) {
        guard let stream = fdopendir(directory) else { close(directory); return }
        defer { closedir(stream) }
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name == "." || name == ".." { continue }
            if entry.pointee.d_type == UInt8(DT_DIR) {
                let child = openat(directory, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                if child >= 0 {
                    fchmod(child, 0o700)   // overlay's work/work is mode 000
                    removeContents(of: child)
                }
                unlinkat(directory, name, AT_REMOVEDIR)
            } else {
                unlinkat(directory, name, 0)
            }
        }
    }

    static func readAll(_ fd: Int32) -> [UInt8] {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        var offset: off_t = 0
        while true {
            let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, 65536, offset) }
            if n <= 0 { break }
            bytes += buffer[0..<n]
            offset += off_t(n)
        }
        return bytes
    }

    static func readExitStatus(_ directory: String) -> Int32? {
        guard let data = FileManager.default.contents(atPath: directory + "/exit-status"), data.count == 4 else {
            return nil
        }
        return data.withUnsafeBytes { $0.loadUnaligned(as: Int32.self) }
    }

    /// Field 22 of /proc/PID/stat (start time in clock ticks since boot), or nil if the process is gone.
    static func startTime(of pid: Int32) -> UInt64? {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/stat") else { return nil }
        let text = String(decoding: data, as: UTF8.self)
        guard let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        return fields.count > 19 ? UInt64(fields[19]) : nil
    }

    static func mode(of path: String) -> Int? {
        var status = stat()
        return stat(path, &status) == 0 ? Int(status.st_mode & 0o7777) : nil
    }

    /// CapPrm of this process (/proc/self/status); all bits if unreadable.
    static func permittedCapabilities() -> UInt64 {
        guard let data = FileManager.default.contents(atPath: "/proc/self/status") else { return .max }
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") where line.hasPrefix("CapPrm:") {
            return UInt64(line.dropFirst(7).trimmingCharacters(in: .whitespaces), radix: 16) ?? .max
        }
        return .max
    }

    static func children(of pid: Int32) -> [Int32] {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/task/\(pid)/children") else { return [] }
        return String(decoding: data, as: UTF8.self).split(separator: " ").compactMap { Int32($0) }
    }
}

/// Runs a blocking system call (poll on a pidfd) on its own thread, so the cooperative pool never blocks on it.
enum Blocking {
    static func run<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread { continuation.resume(returning: body()) }
        }
    }
}
