public import SystemPackage

/// Why an image could not be imported, built or stored. Each case names the file and the problem.
///
/// An import that throws leaves the store exactly as it was.
public enum ImageError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A system call failed on `path`.
    case system(operation: String, path: String, errno: Errno)
    /// A tar archive is truncated or corrupt.
    case malformedArchive(path: String, reason: String)
    /// index.json, manifest.json, a manifest or a config is not what the format requires.
    case malformedManifest(path: String, reason: String)
    /// A manifest names a blob that the image does not contain.
    case missingBlob(digest: String, referencedBy: String)
    /// A blob's content does not hash to its name, or a layer's uncompressed content to its diff id.
    case digestMismatch(path: String, expected: String, actual: String)
    /// A layer entry would write outside the layer: `..`, an escaping link, a path through a symlink.
    case unsafeEntry(archive: String, entry: String, reason: String)
    /// Valid but not supported here (a compression, a tar entry type, a platform).
    case unsupported(path: String, reason: String)
    /// A helper program (gzip, zstd, busybox) failed.
    case commandFailed(command: String, status: Int32, output: String)
    /// The store's own index could not be read or written.
    case corruptStore(path: String, reason: String)
    /// The import's layers expand, uncompressed, beyond `limit` bytes (a decompression bomb, or an image larger than
    /// this agent accepts).
    case expansionLimitExceeded(path: String, limit: Int64)

    /// A system call's failure, from the C `errno` it left.
    public static func system(operation: String, path: String, errno: Int32) -> ImageError {
        .system(operation: operation, path: path, errno: Errno(rawValue: errno))
    }

    public var description: String {
        switch self {
        case .system(let operation, let path, let errno): "\(path): \(operation) failed: \(errno)"
        case .malformedArchive(let path, let reason): "\(path): malformed tar archive: \(reason)"
        case .malformedManifest(let path, let reason): "\(path): \(reason)"
        case .missingBlob(let digest, let referencedBy): "\(referencedBy): blob \(digest) is missing"
        case .digestMismatch(let path, let expected, let actual):
            "\(path): digest mismatch: expected \(expected), content is \(actual)"
        case .unsafeEntry(let archive, let entry, let reason): "\(archive): entry \"\(entry)\": \(reason)"
        case .unsupported(let path, let reason): "\(path): unsupported: \(reason)"
        case .commandFailed(let command, let status, let output): "\(command) exited with status \(status): \(output)"
        case .corruptStore(let path, let reason): "\(path): image store index is corrupt: \(reason)"
        case .expansionLimitExceeded(let path, let limit):
            "\(path): the image's layers expand beyond the limit of \(limit) bytes uncompressed per import (ecs-agent --max-image-bytes)"
        }
    }
}
