#if canImport(Glibc)
import Glibc
#endif

// Reading and writing the kernel's small control files (cgroup and /proc), each in as few system calls as the
// kernel expects: a read to EOF, one write(2) per value.

/// Reads a (small) cgroup or proc file.
func readFile(_ path: String) throws(CgroupError) -> String {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw CgroupError.system(operation: "open", path: path, errno: errno) }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 8192)
    while true {
        let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if count < 0 {
            if errno == EINTR { continue }
            throw CgroupError.system(operation: "read", path: path, errno: errno)
        }
        if count == 0 { break }
        bytes.append(contentsOf: chunk[0..<count])
    }
    return String(decoding: bytes, as: UTF8.self)
}

/// Writes `value` to a cgroup file in one write(2), as the kernel expects.
func writeFile(_ path: String, _ value: String) throws(CgroupError) {
    let fd = open(path, O_WRONLY | O_CLOEXEC)
    guard fd >= 0 else { throw CgroupError.system(operation: "open", path: path, errno: errno) }
    defer { close(fd) }
    let bytes = Array(value.utf8)
    let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    guard written == bytes.count else {
        throw CgroupError.system(operation: "write \(value)", path: path, errno: errno)
    }
}

/// Writes each of `values` to a cgroup file in a write(2) of its own (files such as `devices.allow` take one entry
/// per write), opening the file once.
func writeEach(_ path: String, _ values: [String]) throws(CgroupError) {
    let fd = open(path, O_WRONLY | O_CLOEXEC)
    guard fd >= 0 else { throw CgroupError.system(operation: "open", path: path, errno: errno) }
    defer { close(fd) }
    for value in values {
        let bytes = Array(value.utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count else {
            throw CgroupError.system(operation: "write \(value)", path: path, errno: errno)
        }
    }
}
