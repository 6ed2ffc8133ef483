internal import CFlotillaRuntime
import SystemPackage
#if canImport(Glibc)
import Glibc
#endif

/// mount(2) flags (sys/mount.h), spelled out so the table below reads like the C it becomes.
enum MountFlags {
    static let readOnly: UInt = 1, noSUID: UInt = 2, noDevice: UInt = 4, noExec: UInt = 8
    static let remount: UInt = 32, bind: UInt = 4096, recursive: UInt = 16384, strictAccessTime: UInt = 1 << 24
}

/// CLONE_NEW* flags (linux/sched.h).
enum NamespaceFlags {
    static let mount: UInt64 = 0x0002_0000, uts: UInt64 = 0x0400_0000, ipc: UInt64 = 0x0800_0000
    static let pid: UInt64 = 0x2000_0000, network: UInt64 = 0x4000_0000
}

/// One step of the mount table the child applies before pivot_root (host paths, the new root included).
struct MountEntry: Hashable, Sendable {
    enum Operation: Int32, Sendable { case mount = 0, symlink = 1 }
    enum Make: Int32, Sendable { case none = 0, directory = 1, file = 2 }
    var source: String?
    var target: String
    var fstype: String?
    var flags: UInt = 0
    var data: String?
    var operation: Operation = .mount
    var make: Make = .none
}

/// The mount table of a container: overlay rootfs, /proc and /sys with Docker's masked and read-only paths, a minimal
/// /dev (tmpfs with bind-mounted nodes, devpts newinstance, ptmx, shm, the spec's host devices), read-only /sys, the
/// /etc files the runtime wrote. A read-only root is an overlay of the layers alone, mounted read-only.
enum ContainerMounts {
    /// Docker's masked paths: what the kernel shows there (host memory, keys, timers, firmware tables, power
    /// capping) is the host's, not the container's.
    static let maskedPaths = [
        "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
        "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap",
    ]
    /// Docker's read-only paths: kernel tunables and triggers for the whole host.
    static let readOnlyPaths = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]

    /// The masked paths this host has, each with whether it is a directory (masked by an empty read-only tmpfs) or
    /// not (masked by /dev/null). Read once: /proc and /sys show the same kernel to every container.
    static let hostMaskedPaths: [(path: String, isDirectory: Bool)] = maskedPaths.compactMap { path in
        var status = stat()
        guard stat(path, &status) == 0 else { return nil }
        return (path, status.st_mode & FileType.mask == FileType.directory)
    }

    /// The read-only paths this host has.
    static let hostReadOnlyPaths = readOnlyPaths.filter { access($0, F_OK) == 0 }

    /// Mounts the overlay `volatile` (Linux 5.10+): no syncfs of the upper's whole filesystem when the overlay
    /// goes away with the container's mount namespace, and fsync inside the container skips the disk.
    ///
    /// Why that is safe: the upper directory never outlives its container (delete removes it) and a container
    /// never outlives a host crash (after a reboot re-adoption finds no process and the container is stopped), so
    /// nothing ever reads an upper whose writes a crash lost. Why it pays: without it every container's exit
    /// waits for the host filesystem's dirty data to reach the disk (tens of ms on a busy host).
    static let volatileUpper: Bool = {
        var name = utsname()
        guard uname(&name) == 0 else { return false }
        let release = withUnsafeBytes(of: name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let numbers = release.split(whereSeparator: { !$0.isNumber }).prefix(2).compactMap { Int($0) }
        guard numbers.count == 2 else { return false }
        return (numbers[0], numbers[1]) >= (5, 10)
    }()

    static func table(
        rootfs: String, layers: [String], upper: String, work: String, etcFiles: [String: String],
        readOnly: Bool, privileged: Bool, sharedMemoryMiB: Int,
        devices: [(hostPath: String, containerPath: String)] = []
    ) -> [MountEntry] {
        let lower = layers.reversed().joined(separator: ":")
        // Read-only: the layers alone (at least two: the image's and the mount-point layer), no upper to write; the
        // overlay then never touches the host filesystem. Writable: a per-container upper and work directory.
        let rootfsMount =
            readOnly
            ? MountEntry(
                source: "overlay", target: rootfs, fstype: "overlay", flags: MountFlags.readOnly,
                data: "lowerdir=\(lower)")
            : MountEntry(
                source: "overlay", target: rootfs, fstype: "overlay",
                data: "lowerdir=\(lower),upperdir=\(upper),workdir=\(work)" + (volatileUpper ? ",volatile" : ""))
        var table: [MountEntry] = [
            rootfsMount,
            MountEntry(
                source: "proc", target: rootfs + "/proc", fstype: "proc",
                flags: MountFlags.noSUID | MountFlags.noDevice | MountFlags.noExec, make: .directory),
            MountEntry(
                source: "tmpfs", target: rootfs + "/dev", fstype: "tmpfs",
                flags: MountFlags.noSUID | MountFlags.strictAccessTime, data: "mode=755,size=65536k",
                make: .directory),
        ]
        for node in ["null", "zero", "full", "random", "urandom", "tty"] {
            table.append(
                MountEntry(
                    source: "/dev/" + node, target: rootfs + "/dev/" + node,
                    flags: MountFlags.bind, make: .file))
        }
        table += [
            MountEntry(
                source: "devpts", target: rootfs + "/dev/pts", fstype: "devpts",
                flags: MountFlags.noSUID | MountFlags.noExec, data: "newinstance,ptmxmode=0666,mode=0620",
                make: .directory),
            MountEntry(source: "pts/ptmx", target: rootfs + "/dev/ptmx", operation: .symlink),
            MountEntry(source: "/proc/self/fd", target: rootfs + "/dev/fd", operation: .symlink),
            MountEntry(source: "/proc/self/fd/0", target: rootfs + "/dev/stdin", operation: .symlink),
            MountEntry(source: "/proc/self/fd/1", target: rootfs + "/dev/stdout", operation: .symlink),
            MountEntry(source: "/proc/self/fd/2", target: rootfs + "/dev/stderr", operation: .symlink),
            MountEntry(
                source: "shm", target: rootfs + "/dev/shm", fstype: "tmpfs",
                flags: MountFlags.noSUID | MountFlags.noDevice | MountFlags.noExec,
                data: "mode=1777,size=\(max(1, sharedMemoryMiB) * 1024)k", make: .directory),
            MountEntry(
                source: "sysfs", target: rootfs + "/sys", fstype: "sysfs",
                flags: MountFlags.noSUID | MountFlags.noDevice | MountFlags.noExec
                    | (privileged ? 0 : MountFlags.readOnly),
                make: .directory),
        ]
        // Host devices of the spec (ECS linuxParameters.devices): the node itself, bind-mounted into the /dev tmpfs;
        // the device cgroup decides what the container may do with it.
        for device in devices {
            table.append(
                MountEntry(
                    source: device.hostPath, target: rootfs + device.containerPath,
                    flags: MountFlags.bind, make: .file))
        }
        for (target, source) in etcFiles.sorted(by: { $0.key < $1.key }) {
            table.append(MountEntry(source: source, target: rootfs + target, flags: MountFlags.bind, make: .file))
        }
        if !privileged {
            // Docker's masked paths: files hidden behind /dev/null, directories behind an empty read-only tmpfs.
            let procFlags = MountFlags.noSUID | MountFlags.noDevice | MountFlags.noExec
            for (path, isDirectory) in hostMaskedPaths {
                table.append(
                    isDirectory
                        ? MountEntry(
                            source: "tmpfs", target: rootfs + path, fstype: "tmpfs",
                            flags: MountFlags.readOnly | procFlags, data: "mode=555")
                        : MountEntry(source: "/dev/null", target: rootfs + path, flags: MountFlags.bind))
            }
            // And the read-only /proc subtrees.
            for path in hostReadOnlyPaths {
                table.append(
                    MountEntry(
                        source: rootfs + path, target: rootfs + path,
                        flags: MountFlags.bind | MountFlags.recursive))
                table.append(
                    MountEntry(
                        source: nil, target: rootfs + path,
                        flags: MountFlags.bind | MountFlags.remount | MountFlags.readOnly | procFlags))
            }
        }
        return table
    }
}

/// The process half of a spawn: identical for a container's command and for an exec into it.
struct ProcessSetup: Sendable {
    var arguments: [String]
    var environment: [String]
    var workingDirectory: String
    var user: ResolvedUser
    var capabilities: UInt64
    var noNewPrivileges: Bool
    var seccomp: SeccompProgram?
    var rlimits: [(resource: Int32, soft: UInt64, hard: UInt64)]
}

/// Descriptors the child uses; the caller owns and closes them.
struct SpawnDescriptors {
    var cgroupProcs: [Int32] = []
    /// The v2 cgroup directory to clone into; the child falls back to writing `cgroupProcs`.
    var cgroup: Int32 = -1
    var networkNamespace: Int32 = -1
    var stdin: Int32 = -1
    var stdout: Int32 = -1
    var stderr: Int32 = -1
    var logDirectory: Int32 = -1
    var status: Int32 = -1
    var joinPidfd: Int32 = -1
}

/// C memory for one flotilla_spawn call, freed when the arena goes.
private final class CArena {
    private var strings: [UnsafeMutablePointer<CChar>] = []
    private var buffers: [UnsafeMutableRawPointer] = []

    func string(_ value: String) -> UnsafePointer<CChar> {
        let pointer = strdup(value)!
        strings.append(pointer)
        return UnsafePointer(pointer)
    }

    func string(_ value: String?) -> UnsafePointer<CChar>? { value.map { string($0) } }

    func array<Element>(_ values: [Element]) -> UnsafePointer<Element> {
        let pointer = UnsafeMutablePointer<Element>.allocate(capacity: max(1, values.count))
        pointer.initialize(from: values, count: values.count)
        buffers.append(UnsafeMutableRawPointer(pointer))
        return UnsafePointer(pointer)
    }

    func nullTerminated(_ values: [String]) -> UnsafePointer<UnsafePointer<CChar>?> {
        array(values.map { Optional(string($0)) } + [nil])
    }

    deinit {
        strings.forEach { free($0) }
        buffers.forEach { $0.deallocate() }
    }
}

/// Spawned: the PID and pidfd of the container's init (or exec's supervisor).
struct SpawnedProcess: Sendable {
    var pid: Int32
    var pidfd: Int32
}

enum Spawner {
    static let defaultSearchPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    /// Calls flotilla_spawn. `namespaceFlags` for a new container, or `joinNamespaces` with `descriptors.joinPidfd`.
    static func spawn(
        process: ProcessSetup, mounts: [MountEntry], newRoot: String?, hostname: String?,
        namespaceFlags: UInt64, joinNamespaces: UInt64, descriptors: SpawnDescriptors,
        logMaxBytes: UInt64, logMaxFiles: Int, container: String
    ) throws(RuntimeError) -> SpawnedProcess {
        let arena = CArena()
        let searchPath = process.environment.last { $0.hasPrefix("PATH=") }.map { String($0.dropFirst(5)) }
        let cMounts = mounts.map { entry in
            flotilla_mount(
                source: arena.string(entry.source), target: arena.string(entry.target),
                fstype: arena.string(entry.fstype), flags: entry.flags, data: arena.string(entry.data),
                op: entry.operation.rawValue, make: entry.make.rawValue)
        }
        let cLimits = process.rlimits.map { flotilla_rlimit(resource: $0.resource, soft: $0.soft, hard: $0.hard) }
        var request = flotilla_spawn_request(
            argv: arena.nullTerminated(process.arguments),
            envp: arena.nullTerminated(process.environment),
            search_path: arena.string(searchPath ?? defaultSearchPath),
            working_directory: arena.string(process.workingDirectory),
            uid: process.user.uid,
            gid: process.user.gid,
            groups: arena.array(process.user.supplementaryGroups),
            group_count: Int32(process.user.supplementaryGroups.count),
            capabilities: process.capabilities,
            no_new_privileges: process.noNewPrivileges ? 1 : 0,
            seccomp_filter: process.seccomp.map { UnsafeRawPointer($0.instructions) },
            seccomp_filter_length: process.seccomp?.length ?? 0,
            rlimits: arena.array(cLimits),
            rlimit_count: Int32(cLimits.count),
            namespace_flags: namespaceFlags,
            network_namespace_fd: descriptors.networkNamespace,
            mounts: arena.array(cMounts),
            mount_count: Int32(cMounts.count),
            new_root: arena.string(newRoot),
            hostname: arena.string(hostname),
            join_pidfd: descriptors.joinPidfd,
            join_namespaces: joinNamespaces,
            cgroup_procs_fds: arena.array(descriptors.cgroupProcs),
            cgroup_procs_count: Int32(descriptors.cgroupProcs.count),
            cgroup_fd: descriptors.cgroup,
            stdin_fd: descriptors.stdin,
            stdout_fd: descriptors.stdout,
            stderr_fd: descriptors.stderr,
            log_dir_fd: descriptors.logDirectory,
            log_max_bytes: logMaxBytes,
            log_max_files: Int32(logMaxFiles),
            status_fd: descriptors.status)

        var pid: pid_t = -1
        var pidfd: Int32 = -1
        var stage = FLOTILLA_STAGE_NONE
        let result = withExtendedLifetime((arena, process.seccomp)) {
            flotilla_spawn(&request, &pid, &pidfd, &stage)
        }
        guard result == 0 else {
            throw RuntimeError(stage: Self.stage(stage), errno: .init(rawValue: result), container: container)
        }
        return SpawnedProcess(pid: pid, pidfd: pidfd)
    }

    static func stage(_ stage: flotilla_stage) -> RuntimeError.Stage {
        switch stage {
        case FLOTILLA_STAGE_CLONE: .clone
        case FLOTILLA_STAGE_CGROUP: .cgroup
        case FLOTILLA_STAGE_SETNS: .setns
        case FLOTILLA_STAGE_MOUNT_PRIVATE: .mountPrivate
        case FLOTILLA_STAGE_MOUNT: .mount
        case FLOTILLA_STAGE_PIVOT_ROOT: .pivotRoot
        case FLOTILLA_STAGE_HOSTNAME: .hostname
        case FLOTILLA_STAGE_RLIMITS: .rlimits
        case FLOTILLA_STAGE_CAPABILITY_BOUNDING: .capabilityBounding
        case FLOTILLA_STAGE_INIT_FORK: .initFork
        case FLOTILLA_STAGE_USER: .user
        case FLOTILLA_STAGE_CAPABILITIES: .capabilities
        case FLOTILLA_STAGE_NO_NEW_PRIVS: .noNewPrivileges
        case FLOTILLA_STAGE_SECCOMP: .seccomp
        case FLOTILLA_STAGE_CHDIR: .chdir
        case FLOTILLA_STAGE_EXEC: .exec
        case FLOTILLA_STAGE_STDIO: .stdio
        default: .clone
        }
    }
}
