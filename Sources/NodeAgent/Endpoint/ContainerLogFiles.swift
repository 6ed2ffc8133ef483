#if canImport(Glibc)
import Glibc
#endif

/// One of a container's two log streams as Flotilla's init writes it: `stdout.log`, and after rotation
/// `stdout.log.1` (newer) … `stdout.log.N` (older), each cut at a line end.
///
/// Reads go through one fixed buffer, so serving a log costs the same memory whatever its size.
struct ContainerLogFiles: Sendable {
    /// The container's log directory.
    var directory: String
    /// `stdout.log` or `stderr.log`.
    var name: String

    static let chunkSize = 64 * 1024
    /// Rotated files looked for at most (the runtime keeps a handful).
    static let maxRotated = 1000

    var currentPath: String { directory + "/" + name }

    /// The existing files of the stream, oldest first, the current file last.
    func paths() -> [String] {
        var rotated: [String] = []
        for index in 1...Self.maxRotated {
            let path = "\(currentPath).\(index)"
            guard access(path, F_OK) == 0 else { break }
            rotated.append(path)
        }
        var paths = Array(rotated.reversed())
        if access(currentPath, F_OK) == 0 { paths.append(currentPath) }
        return paths
    }

    /// Where the stream's last `lines` lines begin in `paths` (oldest first): the file's index and the byte offset.
    /// A final newline ends the last line rather than starting an empty one.
    static func tailStart(of paths: [String], lines: Int) -> (file: Int, offset: Int) {
        var needed = lines
        var atStreamEnd = true
        var buffer = [UInt8](repeating: 0, count: chunkSize)
        for file in paths.indices.reversed() {
            let fd = open(paths[file], O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { continue }
            defer { close(fd) }
            var status = stat()
            guard fstat(fd, &status) == 0 else { continue }
            let size = Int(status.st_size)
            if needed == 0 { return (file, size) }
            var end = size
            while end > 0 {
                let start = max(0, end - chunkSize)
                let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, end - start, off_t(start)) }
                guard count == end - start else { break }
                for position in stride(from: count - 1, through: 0, by: -1) {
                    defer { atStreamEnd = false }
                    guard buffer[position] == UInt8(ascii: "\n"), !atStreamEnd else { continue }
                    needed -= 1
                    if needed == 0 { return (file, start + position + 1) }
                }
                end = start
            }
        }
        return (0, 0)
    }
}

/// A log file held open while it is read, so a rotation (a rename) cannot take the unread rest away.
final class OpenLogFile {
    let path: String
    private let fd: Int32
    private let inode: UInt64

    /// Opens `path` at `offset`; nil when it does not exist.
    init?(path: String, offset: Int = 0) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        var status = stat()
        guard fstat(fd, &status) == 0, lseek(fd, off_t(offset), SEEK_SET) >= 0 else {
            close(fd)
            return nil
        }
        self.path = path
        self.fd = fd
        self.inode = UInt64(status.st_ino)
    }

    deinit { close(fd) }

    /// The next bytes, at most one chunk; empty at the end of what has been written so far.
    func read(into buffer: inout [UInt8]) -> ArraySlice<UInt8> {
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            return buffer[0..<max(0, count)]
        }
    }

    /// The file at `path` is no longer this one: the writer rotated it away and writes a new file.
    var isRotated: Bool {
        var status = stat()
        guard stat(path, &status) == 0 else { return false }
        return UInt64(status.st_ino) != inode
    }
}
