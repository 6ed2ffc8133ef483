#if canImport(Glibc)
import Glibc
#endif
import Foundation
public import Logging
import Metrics
import Synchronization
public import OCIImage

/// A content-addressed image store: blobs by sha256, each layer unpacked once, and an index of images.
///
/// Layout under `root`: `blobs/sha256/<hex>` (manifests, configs, layer blobs), `layers/<diff-id hex>/` (one
/// unpacked layer, an overlayfs lowerdir), `images.json` (the ``ImageRecord``s, replaced atomically).
/// An import stages everything in `root/.import-<pid>-<uuid>/` and moves it into place only after every check
/// passed, so a bad image leaves the store exactly as it was.
///
/// Several processes may share one store (the agent and `ecs-agent runtime import`): commits hold an exclusive
/// `flock` on `root/.lock` and merge into the index as it is on disk, and readers reload `images.json` when it
/// was replaced.
public final class ImageStore: Sendable {
    /// The store's root directory.
    public let root: String
    private let logger: Logger
    /// How many bytes one import's layers may expand to, uncompressed (see ``defaultMaxExpandedBytes``).
    public let maxExpandedBytes: Int64
    /// 8 GiB of uncompressed layers per import. An absolute bound, not a compression ratio: real layers of zeros or
    /// text compress 100:1 or more, so a ratio refuses honest images, while a byte budget bounds what an import can
    /// write to the agent's disk whatever the archive claims. The largest common images (CUDA, ML runtimes) are
    /// 5-7 GiB unpacked; larger ones need `--max-image-bytes`.
    public static let defaultMaxExpandedBytes: Int64 = 8 << 30

    /// The index as last read or written, with the identity of the file it came from.
    private let index: Mutex<CachedIndex>

    private struct CachedIndex {
        var records: [ImageRecord]
        /// (inode, mtime s, mtime ns) of images.json when read; nil when it did not exist.
        var fileIdentity: [Int]?
    }

    /// Opens (creating if needed) the store under `root`, and removes the staging directories of interrupted imports.
    public init(
        root: String, maxExpandedBytes: Int64 = ImageStore.defaultMaxExpandedBytes, logger: Logger
    ) throws(ImageError) {
        self.root = root
        self.maxExpandedBytes = maxExpandedBytes
        self.logger = logger
        for directory in [root, root + "/blobs", root + "/blobs/sha256", root + "/layers"] {
            if mkdir(directory, 0o700) != 0 && errno != EEXIST {
                throw ImageError.system(operation: "mkdir", path: directory, errno: errno)
            }
        }
        index = Mutex(try Self.readIndex(root: root))
        // Staging directories of importers that died: `.import-<pid>-…` whose pid no longer exists.
        for name in (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [] where name.hasPrefix(".import-")
        {
            let pid = name.dropFirst(8).prefix { $0 != "-" }
            if let pid = Int32(pid), kill(pid, 0) != 0 && errno == ESRCH {
                try? FileManager.default.removeItem(atPath: root + "/" + name)
            }
        }
    }

    /// Every image in the store, in import order.
    public func images() -> [ImageRecord] {
        index.withLock { cached in
            if Self.identity(of: root + "/images.json") != cached.fileIdentity,
                let fresh = try? Self.readIndex(root: root)
            {
                cached = fresh
            }
            return cached.records
        }
    }

    private static func identity(of path: String) -> [Int]? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return [Int(info.st_ino), Int(info.st_mtim.tv_sec), Int(info.st_mtim.tv_nsec)]
    }

    private static func readIndex(root: String) throws(ImageError) -> CachedIndex {
        let path = root + "/images.json"
        let identity = identity(of: path)
        guard identity != nil, let data = FileManager.default.contents(atPath: path) else {
            return CachedIndex(records: [], fileIdentity: nil)
        }
        do {
            return CachedIndex(
                records: try JSONDecoder().decode([ImageRecord].self, from: data), fileIdentity: identity)
        } catch {
            throw ImageError.corruptStore(path: path, reason: "\(error)")
        }
    }

    /// Finds an image by `name:tag`, `name` (meaning `name:latest`), `sha256:<hex>`, `name@sha256:<hex>`, or a
    /// unique prefix of 12 or more hex digits of its digest (with or without `sha256:`).
    public func resolve(_ reference: String) -> ImageRecord? {
        let records = images()
        if let at = reference.range(of: "@sha256:") {  // name@sha256:<hex>: the digest decides
            let digest = String(reference[reference.index(after: at.lowerBound)...])
            return records.first { $0.digest == digest }
        }
        let hex = reference.hasPrefix("sha256:") ? String(reference.dropFirst(7)) : reference
        if hex.count >= 12, hex.allSatisfy(\.isHexDigit) {
            let matches = records.filter { $0.digest.dropFirst(7).hasPrefix(hex.lowercased()) }
            if matches.count == 1 { return matches[0] }
            if reference.hasPrefix("sha256:") { return nil }
        }
        guard let normalized = Self.normalize(reference: reference) else { return nil }
        return records.first { $0.references.contains(normalized) }
    }

    /// `name` → `name:latest`; nil for an empty or malformed reference.
    static func normalize(reference: String) -> String? {
        guard !reference.isEmpty, !reference.contains(where: \.isWhitespace), !reference.hasSuffix(":") else {
            return nil
        }
        let lastComponent = reference.split(separator: "/").last ?? ""
        return lastComponent.contains(":") || reference.contains("@") ? reference : reference + ":latest"
    }

    // MARK: - Import

    /// Imports an OCI layout directory, an OCI layout tarball, or a `docker save` tarball (or its directory).
    ///
    /// All or nothing: every blob digest, every layer diff id and every layer entry is checked before anything
    /// enters the store; on error the store is as before. A reference already on another image moves to this one.
    /// - Returns: the imported images.
    public func importImage(from path: String) throws(ImageError) -> [ImageRecord] {
        do {
            let records = try importAll(from: path)
            Counter(label: "flotilla_agent_image_imports_total", dimensions: [("result", "imported")]).increment()
            return records
        } catch {
            Counter(label: "flotilla_agent_image_imports_total", dimensions: [("result", "rejected")]).increment()
            logger.debug("image import rejected", metadata: ["image.source": "\(path)", "error": "\(error)"])
            throw error
        }
    }

    private func importAll(from path: String) throws(ImageError) -> [ImageRecord] {
        let staging = root + "/.import-\(getpid())-" + UUID().uuidString
        guard mkdir(staging, 0o700) == 0 else {
            throw ImageError.system(operation: "mkdir", path: staging, errno: errno)
        }
        defer { try? FileManager.default.removeItem(atPath: staging) }

        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ImageError.system(operation: "open", path: path, errno: ENOENT)
        }
        var source = path
        if !isDirectory.boolValue {
            source = staging + "/archive"
            try Self.makeDirectory(source)
            var reader = try TarReader(path: path)
            try LayerUnpacker(destination: source, archiveName: path, convertWhiteouts: false).unpack(&reader)
        }
        var importer = ImageImporter(
            store: root, staging: staging, source: source, displayName: path,
            maxExpandedBytes: maxExpandedBytes)
        let pending =
            FileManager.default.fileExists(atPath: source + "/manifest.json")
            ? try importer.importDockerSave()
            : try importer.importOCILayout()
        let records = try commit(pending, importer: importer)
        for record in records {
            logger.info(
                "image imported",
                metadata: [
                    "image.digest": "\(record.digest)",
                    "image.references": "\(record.references.joined(separator: ","))",
                    "image.layers": "\(record.layerDirectories.count)",
                ])
        }
        return records
    }

    /// Moves staged blobs and layers into place and writes the new index, under the store lock (in-process mutex
    /// and cross-process flock).
    private func commit(_ pending: [PendingImage], importer: ImageImporter) throws(ImageError) -> [ImageRecord] {
        let lockPath = root + "/.lock"
        let lock = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard lock >= 0 else { throw ImageError.system(operation: "open", path: lockPath, errno: errno) }
        defer { close(lock) }  // closing releases the flock
        while flock(lock, LOCK_EX) != 0 {
            guard errno == EINTR else { throw ImageError.system(operation: "flock", path: lockPath, errno: errno) }
        }
        return try index.withLock { (cached: inout CachedIndex) throws(ImageError) -> [ImageRecord] in
            let records = try Self.readIndex(root: root).records
            for (hex, stagedPath) in importer.stagedBlobs.sorted(by: { $0.key < $1.key }) {
                try Self.moveIntoPlace(stagedPath, root + "/blobs/sha256/" + hex)
            }
            for (hex, stagedPath) in importer.stagedLayers.sorted(by: { $0.key < $1.key }) {
                try Self.moveIntoPlace(stagedPath, root + "/layers/" + hex)
            }
            var updated = records
            var imported: [ImageRecord] = []
            for image in pending {
                let record = ImageRecord(
                    digest: image.digest, references: image.references, config: image.config,
                    layerDirectories: image.diffIDs.map { root + "/layers/" + $0.dropFirst(7) })
                for position in updated.indices {
                    updated[position].references.removeAll { image.references.contains($0) }
                }
                if let position = updated.firstIndex(where: { $0.digest == record.digest }) {
                    var merged = record
                    merged.references = (updated[position].references + record.references).uniqued()
                    updated[position] = merged
                    imported.append(merged)
                } else {
                    updated.append(record)
                    imported.append(record)
                }
            }
            try writeIndex(updated)
            cached = CachedIndex(records: updated, fileIdentity: Self.identity(of: root + "/images.json"))
            return imported
        }
    }

    private func writeIndex(_ records: [ImageRecord]) throws(ImageError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let path = root + "/images.json"
        let temporary = path + ".tmp"
        let data: Data
        do { data = try encoder.encode(records) } catch {
            throw ImageError.corruptStore(path: path, reason: "\(error)")
        }
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ImageError.system(operation: "open", path: temporary, errno: errno) }
        let written = data.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd)
        close(fd)
        guard written == data.count, synced == 0 else {
            unlink(temporary)
            throw ImageError.system(operation: "write", path: temporary, errno: errno)
        }
        guard rename(temporary, path) == 0 else {
            throw ImageError.system(operation: "rename", path: path, errno: errno)
        }
    }

    /// Renames `staged` to `final` unless `final` exists already (content-addressed: same name, same content).
    private static func moveIntoPlace(_ staged: String, _ final: String) throws(ImageError) {
        if access(final, F_OK) == 0 { return }
        guard rename(staged, final) == 0 else {
            throw ImageError.system(operation: "rename", path: final, errno: errno)
        }
    }

    static func makeDirectory(_ path: String) throws(ImageError) {
        guard mkdir(path, 0o700) == 0 else { throw ImageError.system(operation: "mkdir", path: path, errno: errno) }
    }
}

extension Array where Element: Hashable {
    fileprivate func uniqued() -> [Element] {
        var seen: Set<Element> = []
        return filter { seen.insert($0).inserted }
    }
}
