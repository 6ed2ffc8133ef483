#if canImport(Glibc)
import Glibc
#endif
import OCIImage

/// A tar archive on disk, as a ``TarReader``'s source: the open file, read as the reader asks, closed with it.
final class TarFile: TarByteSource {
    private let fd: Int32
    private let path: String

    init(path: String) throws(ImageError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ImageError.system(operation: "open", path: path, errno: errno) }
        self.fd = fd
        self.path = path
    }

    deinit { close(fd) }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws(ImageError) -> Int {
        while true {
            let count = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if count >= 0 { return count }
            if errno != EINTR { throw ImageError.system(operation: "read", path: path, errno: errno) }
        }
    }
}

extension TarReader where Source == TarFile {
    /// A reader of the archive at `path`.
    init(path: String) throws(ImageError) {
        self.init(try TarFile(path: path), path: path)
    }
}
