#if canImport(Glibc)
import Glibc
#endif

/// `lsetxattr(2)` and `lgetxattr(2)`, looked up in libc at run time.
///
/// Swift's Glibc module does not import <sys/xattr.h>, and the C shim belongs to the runtime; libc exports both
/// functions, so `dlsym` finds them without a new module map.
enum ExtendedAttributes {
    private typealias SetFunction =
        @convention(c) (UnsafePointer<CChar>, UnsafePointer<CChar>, UnsafeRawPointer?, Int, Int32) -> Int32
    private typealias GetFunction =
        @convention(c) (UnsafePointer<CChar>, UnsafePointer<CChar>, UnsafeMutableRawPointer?, Int) -> Int

    /// `lsetxattr(path, name, value, size, 0)`: 0 or -1 with errno set.
    static func set(_ path: String, name: String, value: [UInt8]) -> Int32 {
        guard let symbol = dlsym(nil, "lsetxattr") else {
            errno = ENOSYS
            return -1
        }
        let function = unsafeBitCast(symbol, to: SetFunction.self)
        return value.withUnsafeBytes { function(path, name, $0.baseAddress, $0.count, 0) }
    }

    /// `lgetxattr(path, name, …)`: the value, or nil (errno set) when absent or on error.
    static func get(_ path: String, name: String) -> [UInt8]? {
        guard let symbol = dlsym(nil, "lgetxattr") else { return nil }
        let function = unsafeBitCast(symbol, to: GetFunction.self)
        var buffer = [UInt8](repeating: 0, count: 256)
        let count = buffer.withUnsafeMutableBytes { function(path, name, $0.baseAddress, $0.count) }
        return count < 0 ? nil : Array(buffer[0..<count])
    }
}
