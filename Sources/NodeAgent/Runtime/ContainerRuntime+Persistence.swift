internal import CFlotillaRuntime
import Foundation
import SystemPackage
#if canImport(Glibc)
import Glibc
#endif

/// Persistence: state.json, the shared directories, cgroups, descriptors and removing what a container leaves.
extension ContainerRuntime {
    /// Replaces state.json through a temporary file and rename(2), so a runtime killed at any point leaves the old
    /// state or the new one, never half of one.
    ///
    /// Not fsync'd: the state describes processes, which a host crash ends anyway; after one, recovery finds no
    /// matching process (or an unreadable file, which it removes) either way.
    func persist(_ info: ContainerInfo) throws(RuntimeError) {
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
    static func write(
        _ data: Data, to path: String, flags: Int32, stage: RuntimeError.Stage,
        id: String
    ) throws(RuntimeError) {
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
    static func makeSharedDirectories(_ runtime: String) throws(RuntimeError) {
        let layer = runtime + "/mountpoints"
        for path in [
            runtime, runtime + "/rootfs", layer, layer + "/etc", layer + "/proc", layer + "/dev", layer + "/sys",
        ]
        where mkdir(path, 0o755) != 0 && errno != EEXIST {
            throw RuntimeError(stage: .state, errno: Errno(rawValue: errno), container: "")
        }
        for name in ["hosts", "hostname", "resolv.conf"] {
            let fd = Glibc.open(layer + "/etc/" + name, O_RDONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw RuntimeError(stage: .state, errno: Errno(rawValue: errno), container: "") }
            close(fd)
        }
    }

    func openCgroup(_ id: String) throws -> (attach: [Int32], directory: Int32) {
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

    func open(_ path: String, _ flags: Int32, stage: RuntimeError.Stage, id: String) throws(RuntimeError) -> Int32 {
        let fd = Glibc.open(path, flags | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw RuntimeError(stage: stage, errno: Errno(rawValue: errno), container: id) }
        return fd
    }

    func anonymousFile(in directory: String, id: String) throws(RuntimeError) -> Int32 {
        let fd = Glibc.open(directory, 0o20200000 | O_RDWR /* O_TMPFILE */ | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw RuntimeError(stage: .stdio, errno: Errno(rawValue: errno), container: id) }
        return fd
    }

    func closeAll(_ descriptors: SpawnDescriptors) {
        for fd in descriptors.cgroupProcs + [
            descriptors.cgroup, descriptors.networkNamespace, descriptors.stdin, descriptors.stdout,
            descriptors.stderr, descriptors.logDirectory, descriptors.status,
        ]
        where fd >= 0 {
            close(fd)
        }
    }

    func cgroup(_ id: String) -> Cgroup? {
        if let cgroup = cgroups[id] { return cgroup }
        let cgroup = cgroupLayout.flatMap { Cgroup.open(name: id, parent: cgroupParent, layout: $0) }
        cgroups[id] = cgroup
        return cgroup
    }

    func removeDirectory(_ path: String) {
        Self.removeTree(path)
    }

    static func removeTree(_ path: String) {
        // The rootfs mount point is empty on the host: the overlay only ever exists in the container's namespace.
        let fd = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return }
        removeContents(of: fd)
        rmdir(path)
    }

    /// Empties a directory with unlinkat, never following symlinks (the upper directory holds the container's files).
    /// Closes `directory`.
    static func removeContents(of directory: Int32) {
        guard let stream = fdopendir(directory) else {
            close(directory)
            return
        }
        defer { closedir(stream) }
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) {
                String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name == "." || name == ".." { continue }
            if entry.pointee.d_type == UInt8(DT_DIR) {
                let child = openat(directory, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                if child >= 0 {
                    fchmod(child, 0o700)  // overlay's work/work is mode 000
                    removeContents(of: child)
                }
                unlinkat(directory, name, AT_REMOVEDIR)
            } else {
                unlinkat(directory, name, 0)
            }
        }
    }
}
