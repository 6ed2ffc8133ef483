#if canImport(Glibc)
import Glibc
#endif
import Foundation
import OCIImage

/// Unpacks a tar stream into a fresh directory, refusing anything that could write outside it.
///
/// Every entry path is checked before anything is created: no `..` component, no parent that is a symlink, no
/// relative symlink or hardlink that leaves the directory. Absolute entry paths are taken relative to the
/// directory (as Docker does). Absolute symlink targets are kept: they resolve inside the container's root.
///
/// With `convertWhiteouts`, OCI whiteouts become overlayfs's form: `.wh.NAME` a 0/0 character device `NAME`,
/// `.wh..wh..opq` the `trusted.overlay.opaque=y` xattr on its directory. Both need root (CAP_MKNOD, CAP_SYS_ADMIN).
struct LayerUnpacker {
    /// The directory to fill; must exist and be empty.
    let destination: String
    /// Names the archive in errors (a file name or a layer digest).
    let archiveName: String
    let convertWhiteouts: Bool
    private let isRoot = geteuid() == 0

    init(destination: String, archiveName: String, convertWhiteouts: Bool) {
        self.destination = destination
        self.archiveName = archiveName
        self.convertWhiteouts = convertWhiteouts
    }

    func unpack(_ reader: inout TarReader<some TarByteSource>) throws(ImageError) {
        var directoryTimes: [(String, Int64)] = []
        while let entry = try reader.next() {
            let components = try safeComponents(entry.path, entry: entry.path)
            guard let name = components.last else { continue }  // "./": the layer root itself
            let parent = Array(components.dropLast())
            try ensureDirectories(parent, entry: entry.path)
            let parentPath = fullPath(parent)

            if convertWhiteouts && name.hasPrefix(".wh.") {
                if name == ".wh..wh..opq" {
                    try setOpaque(parentPath, entry: entry.path)
                } else {
                    let hidden = try LayerPath.whiteoutTarget(name, archive: archiveName, entry: entry.path)
                    let path = parentPath + "/" + hidden
                    try removeExisting(path)
                    try check(mknod(path, S_IFCHR, 0), "mknod", path)
                }
                continue
            }

            let path = fullPath(components)
            var existing = stat()
            if lstat(path, &existing) == 0 {
                if !(entry.kind == .directory && existing.st_mode & S_IFMT == S_IFDIR) { try removeExisting(path) }
            }

            switch entry.kind {
            case .directory:
                if mkdir(path, 0o700) != 0 && errno != EEXIST {
                    throw ImageError.system(operation: "mkdir", path: path, errno: errno)
                }
                directoryTimes.append((path, entry.modificationTime))
            case .file:
                let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
                guard fd >= 0 else { throw ImageError.system(operation: "create", path: path, errno: errno) }
                defer { close(fd) }
                try reader.readData { (chunk: UnsafeRawBufferPointer) throws(ImageError) in
                    try Self.write(chunk, to: fd, path: path)
                }
            case .symlink:
                try LayerPath.checkSymlinkTarget(
                    entry.linkTarget, linkDirectory: parent, archive: archiveName, entry: entry.path)
                try check(symlink(entry.linkTarget, path), "symlink", path)
            case .hardlink:
                let target = try safeComponents(entry.linkTarget, entry: entry.path)
                guard !target.isEmpty else {
                    throw ImageError.unsafeEntry(
                        archive: archiveName, entry: entry.path, reason: "hardlink to the layer root")
                }
                try requireNoSymlinkParents(Array(target.dropLast()), entry: entry.path)
                let targetPath = fullPath(target)
                var targetStat = stat()
                guard lstat(targetPath, &targetStat) == 0, targetStat.st_mode & S_IFMT != S_IFDIR else {
                    throw ImageError.unsafeEntry(
                        archive: archiveName, entry: entry.path,
                        reason: "hardlink target \"\(entry.linkTarget)\" is not a file earlier in the layer")
                }
                try check(link(targetPath, path), "link", path)
                continue  // a hardlink shares its target's inode and metadata
            case .characterDevice, .blockDevice:
                let type = entry.kind == .characterDevice ? S_IFCHR : S_IFBLK
                let device = Self.makeDevice(major: entry.deviceMajor, minor: entry.deviceMinor)
                try check(mknod(path, type | (entry.mode & 0o777), device), "mknod", path)
            case .fifo:
                try check(mkfifo(path, entry.mode & 0o777), "mkfifo", path)
            }

            if isRoot { try check(lchown(path, entry.uid, entry.gid), "lchown", path) }
            if entry.kind != .symlink { try check(chmod(path, entry.mode), "chmod", path) }
            if entry.kind != .directory { try setTime(path, entry.modificationTime) }
        }
        // Directory times last: creating their children changed them.
        for (path, time) in directoryTimes.reversed() { try setTime(path, time) }
    }

    // MARK: - Paths

    private func safeComponents(_ raw: String, entry: String) throws(ImageError) -> [String] {
        try LayerPath.components(raw, archive: archiveName, entry: entry)
    }

    private func fullPath(_ components: [String]) -> String {
        components.isEmpty ? destination : destination + "/" + components.joined(separator: "/")
    }

    /// Creates missing parent directories (mode 0755); a parent that is a symlink or a file is an error.
    private func ensureDirectories(_ components: [String], entry: String) throws(ImageError) {
        for depth in 0..<components.count {
            let path = fullPath(Array(components[0...depth]))
            var info = stat()
            if lstat(path, &info) != 0 {
                guard errno == ENOENT else { throw ImageError.system(operation: "lstat", path: path, errno: errno) }
                try check(mkdir(path, 0o755), "mkdir", path)
                continue
            }
            try requireDirectory(info, components: Array(components[0...depth]), entry: entry)
        }
    }

    private func requireNoSymlinkParents(_ components: [String], entry: String) throws(ImageError) {
        for depth in 0..<components.count {
            var info = stat()
            let path = fullPath(Array(components[0...depth]))
            guard lstat(path, &info) == 0 else {
                throw ImageError.unsafeEntry(
                    archive: archiveName, entry: entry,
                    reason: "link target directory \"\(components[0...depth].joined(separator: "/"))\" does not exist")
            }
            try requireDirectory(info, components: Array(components[0...depth]), entry: entry)
        }
    }

    private func requireDirectory(_ info: stat, components: [String], entry: String) throws(ImageError) {
        let name = components.joined(separator: "/")
        switch info.st_mode & S_IFMT {
        case S_IFDIR: return
        case S_IFLNK:
            throw ImageError.unsafeEntry(
                archive: archiveName, entry: entry, reason: "path passes through the symlink \"\(name)\"")
        default:
            throw ImageError.unsafeEntry(
                archive: archiveName, entry: entry, reason: "parent \"\(name)\" is not a directory")
        }
    }

    // MARK: - Effects

    private func removeExisting(_ path: String) throws(ImageError) {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        if info.st_mode & S_IFMT == S_IFDIR {
            do { try FileManager.default.removeItem(atPath: path) } catch {
                throw ImageError.system(operation: "remove", path: path, errno: EIO)
            }
        } else {
            try check(unlink(path), "unlink", path)
        }
    }

    private func setOpaque(_ path: String, entry: String) throws(ImageError) {
        try check(
            ExtendedAttributes.set(path, name: "trusted.overlay.opaque", value: [UInt8(ascii: "y")]),
            "lsetxattr trusted.overlay.opaque", path)
    }

    private func setTime(_ path: String, _ seconds: Int64) throws(ImageError) {
        var times = [timespec(tv_sec: Int(seconds), tv_nsec: 0), timespec(tv_sec: Int(seconds), tv_nsec: 0)]
        try check(utimensat(AT_FDCWD, path, &times, AT_SYMLINK_NOFOLLOW), "utimensat", path)
    }

    /// Writes all of `chunk` to `fd` (the file `path`), through short writes and EINTR.
    private static func write(_ chunk: UnsafeRawBufferPointer, to fd: Int32, path: String) throws(ImageError) {
        var written = 0
        while written < chunk.count {
            let result = Glibc.write(fd, chunk.baseAddress! + written, chunk.count - written)
            if result < 0 {
                if errno == EINTR { continue }
                throw ImageError.system(operation: "write", path: path, errno: errno)
            }
            written += result
        }
    }

    private func check(_ result: Int32, _ operation: String, _ path: String) throws(ImageError) {
        if result != 0 { throw ImageError.system(operation: operation, path: path, errno: errno) }
    }

    /// glibc's `makedev`, which Swift does not import (it is a macro).
    static func makeDevice(major: UInt32, minor: UInt32) -> dev_t {
        let major = UInt64(major), minor = UInt64(minor)
        return dev_t((major & 0xffff_f000) << 32 | (major & 0xfff) << 8 | (minor & 0xffff_ff00) << 12 | (minor & 0xff))
    }
}
