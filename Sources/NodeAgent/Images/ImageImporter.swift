import FlotillaDigest
#if canImport(Glibc)
import Glibc
#endif
import Foundation
import OCIImage

/// An image read and verified into the staging directory, not yet in the store.
struct PendingImage {
    var digest: String
    var references: [String]
    var config: ImageConfig
    var diffIDs: [String]
}

/// Reads an OCI layout or a `docker save` directory into a staging directory, verifying every digest and
/// unpacking every layer the store does not have yet. Touches nothing outside `staging`.
struct ImageImporter {
    let store: String
    let staging: String
    /// The layout directory (the user's, or the tarball unpacked inside `staging`).
    let source: String
    /// The path the user gave, for error messages.
    let displayName: String
    /// Staged blob files by hex digest.
    private(set) var stagedBlobs: [String: String] = [:]
    /// Staged layer directories by hex diff id.
    private(set) var stagedLayers: [String: String] = [:]
    private var counter = 0
    /// The budget of uncompressed layer bytes for this import, and what the layers staged so far used of it.
    let maxExpandedBytes: Int64
    private(set) var expandedBytes: Int64 = 0

    init(
        store: String, staging: String, source: String, displayName: String,
        maxExpandedBytes: Int64 = ImageStore.defaultMaxExpandedBytes
    ) {
        self.maxExpandedBytes = maxExpandedBytes
        self.store = store
        self.staging = staging
        self.source = source
        self.displayName = displayName
    }

    // MARK: - OCI image layout

    mutating func importOCILayout() throws(ImageError) -> [PendingImage] {
        let indexPath = "\(displayName)/index.json"
        guard let data = FileManager.default.contents(atPath: source + "/index.json") else {
            throw ImageError.malformedManifest(
                path: displayName,
                reason: "neither index.json (OCI image layout) nor manifest.json (docker save) found")
        }
        let index: OCIIndex = try OCIDocument.decode(data, as: OCIIndex.self, path: indexPath)
        guard !index.manifests.isEmpty else {
            throw ImageError.malformedManifest(path: indexPath, reason: "manifests is empty")
        }
        var images: [PendingImage] = []
        for descriptor in index.manifests {
            let references =
                [descriptor.annotations?[Annotation.containerdName], descriptor.annotations?[Annotation.refName]]
                .compactMap { $0 }.first.flatMap(ImageStore.normalize(reference:)).map { [$0] } ?? []
            let manifest = try resolveManifest(descriptor, referencedBy: indexPath, depth: 0)
            images.append(try importManifest(manifest, references: references))
        }
        return images
    }

    /// Follows image indexes (multi-platform) down to the manifest for this machine.
    private mutating func resolveManifest(
        _ descriptor: OCIDescriptor, referencedBy: String, depth: Int
    ) throws(ImageError) -> OCIDescriptor {
        guard descriptor.isIndex else { return descriptor }
        guard depth < 4 else {
            throw ImageError.malformedManifest(path: referencedBy, reason: "image indexes nested too deeply")
        }
        let path = try stageBlob(descriptor.digest, referencedBy: referencedBy)
        let nested: OCIIndex = try OCIDocument.decode(
            try contents(path), as: OCIIndex.self, path: blobName(descriptor.digest))
        let architecture = OCILayoutBuilder.hostArchitecture
        guard let chosen = nested.manifest(forArchitecture: architecture) else {
            throw ImageError.unsupported(
                path: blobName(descriptor.digest), reason: "no manifest for linux/\(architecture)")
        }
        return try resolveManifest(chosen, referencedBy: blobName(descriptor.digest), depth: depth + 1)
    }

    private mutating func importManifest(
        _ descriptor: OCIDescriptor, references: [String]
    ) throws(ImageError) -> PendingImage {
        let manifestName = blobName(descriptor.digest)
        let manifestPath = try stageBlob(descriptor.digest, referencedBy: "\(displayName)/index.json")
        let manifest: OCIManifest = try OCIDocument.decode(
            try contents(manifestPath), as: OCIManifest.self, path: manifestName)
        let configPath = try stageBlob(manifest.config.digest, referencedBy: manifestName)
        let configFile: OCIImageConfigFile = try OCIDocument.decode(
            try contents(configPath), as: OCIImageConfigFile.self,
            path: blobName(manifest.config.digest))
        let diffIDs = try configFile.diffIDs(
            pairedWith: manifest.layers.count, path: blobName(manifest.config.digest),
            listing: "the manifest has")
        for (layer, diffID) in zip(manifest.layers, diffIDs) {
            let blob = try stageBlob(layer.digest, referencedBy: manifestName)
            try stageLayer(blob: blob, diffID: diffID, name: blobName(layer.digest))
        }
        return PendingImage(
            digest: descriptor.digest, references: references, config: configFile.imageConfig, diffIDs: diffIDs)
    }

    // MARK: - docker save

    mutating func importDockerSave() throws(ImageError) -> [PendingImage] {
        let manifestName = "\(displayName)/manifest.json"
        let entries: [DockerSaveEntry] = try OCIDocument.decode(
            try contents(source + "/manifest.json"), as: [DockerSaveEntry].self, path: manifestName)
        guard !entries.isEmpty else {
            throw ImageError.malformedManifest(path: manifestName, reason: "no images listed")
        }
        var images: [PendingImage] = []
        for entry in entries {
            let (configPath, configDigest) = try stageFile(entry.Config, referencedBy: manifestName)
            let configBlob = try contents(configPath)
            let configFile: OCIImageConfigFile = try OCIDocument.decode(
                configBlob, as: OCIImageConfigFile.self, path: "\(displayName)/\(entry.Config)")
            let diffIDs = try configFile.diffIDs(
                pairedWith: entry.Layers.count, path: "\(displayName)/\(entry.Config)",
                listing: "manifest.json lists")
            var layers: [OCIDescriptor] = []
            for (file, diffID) in zip(entry.Layers, diffIDs) {
                let (blob, digest) = try stageFile(file, referencedBy: manifestName)
                let compression = try stageLayer(blob: blob, diffID: diffID, name: "\(displayName)/\(file)")
                layers.append(OCIDescriptor(mediaType: compression.mediaType, digest: digest, size: try size(blob)))
            }
            // docker save has no manifest; synthesise the OCI manifest so the image has a manifest digest like any other.
            let manifest = CanonicalJSON.encode(
                OCIManifest(
                    schemaVersion: 2, mediaType: MediaType.manifest,
                    config: OCIDescriptor(
                        mediaType: MediaType.config, digest: configDigest, size: Int64(configBlob.count)),
                    layers: layers))
            let manifestDigest = SHA256.digest(manifest)
            let manifestPath = staging + "/blobs/" + manifestDigest.dropFirst(7)
            do { try Data(manifest).write(to: URL(fileURLWithPath: manifestPath)) } catch {
                throw ImageError.system(operation: "write", path: manifestPath, errno: EIO)
            }
            stagedBlobs[String(manifestDigest.dropFirst(7))] = manifestPath
            let references = (entry.RepoTags ?? []).compactMap(ImageStore.normalize(reference:))
            images.append(
                PendingImage(
                    digest: manifestDigest, references: references, config: configFile.imageConfig, diffIDs: diffIDs))
        }
        return images
    }

    // MARK: - Blobs

    private func blobName(_ digest: String) -> String {
        "\(displayName)/blobs/sha256/\(digest.dropFirst(7))"
    }

    /// Copies (or, from an unpacked tarball, moves) blob `digest` into staging and checks its content hashes to it.
    private mutating func stageBlob(_ digest: String, referencedBy: String) throws(ImageError) -> String {
        let hex = try OCIDocument.hexDigest(digest, referencedBy: referencedBy)
        if let staged = stagedBlobs[hex] { return staged }
        let origin = source + "/blobs/sha256/" + hex
        var info = stat()
        guard lstat(origin, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            throw ImageError.missingBlob(digest: digest, referencedBy: referencedBy)
        }
        let staged = try copyIntoStaging(origin)
        let actual = try SHA256.digest(ofFile: staged)
        guard actual == digest else {
            throw ImageError.digestMismatch(path: blobName(digest), expected: digest, actual: actual)
        }
        stagedBlobs[hex] = staged
        return staged
    }

    /// Stages a file named by a `docker save` manifest (a path relative to the archive); returns it and its digest.
    private mutating func stageFile(_ relative: String, referencedBy: String) throws(ImageError) -> (String, String) {
        try DockerSaveEntry.checkInsideArchive(relative, referencedBy: referencedBy)
        let origin = source + "/" + relative
        var info = stat()
        guard lstat(origin, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            throw ImageError.missingBlob(digest: relative, referencedBy: referencedBy)
        }
        let staged = try copyIntoStaging(origin)
        let digest = try SHA256.digest(ofFile: staged)
        let hex = String(digest.dropFirst(7))
        if let existing = stagedBlobs[hex] {
            unlink(staged)
            return (existing, digest)
        }
        let final = staging + "/blobs/" + hex
        guard rename(staged, final) == 0 else {
            throw ImageError.system(operation: "rename", path: final, errno: errno)
        }
        stagedBlobs[hex] = final
        return (final, digest)
    }

    private mutating func copyIntoStaging(_ origin: String) throws(ImageError) -> String {
        if access(staging + "/blobs", F_OK) != 0 { try ImageStore.makeDirectory(staging + "/blobs") }
        counter += 1
        let staged = staging + "/blobs/incoming-\(counter)"
        if origin.hasPrefix(staging + "/") {
            guard rename(origin, staged) == 0 else {
                throw ImageError.system(operation: "rename", path: origin, errno: errno)
            }
        } else {
            do { try FileManager.default.copyItem(atPath: origin, toPath: staged) } catch {
                throw ImageError.system(operation: "copy", path: origin, errno: EIO)
            }
        }
        return staged
    }

    // MARK: - Layers

    enum Compression {
        case none, gzip, zstd
        var mediaType: String {
            switch self {
            case .none: MediaType.layerTar
            case .gzip: MediaType.layerGzip
            case .zstd: MediaType.layerZstd
            }
        }
    }

    /// Decompresses a layer blob, checks its diff id, and unpacks it into staging unless the store has it.
    @discardableResult
    private mutating func stageLayer(blob: String, diffID: String, name: String) throws(ImageError) -> Compression {
        let hex = try OCIDocument.hexDigest(diffID, referencedBy: name)
        let compression = try Self.compression(of: blob)
        if stagedLayers[hex] != nil || access(store + "/layers/" + hex, F_OK) == 0 {
            // Already unpacked; still prove this blob is that layer.
            if compression == .none {
                let actual = try SHA256.digest(ofFile: blob)
                guard actual == diffID else {
                    throw ImageError.digestMismatch(path: name, expected: diffID, actual: actual)
                }
                return compression
            }
        }
        let tar: String
        switch compression {
        case .none: tar = blob
        case .gzip, .zstd:
            tar = staging + "/layer-" + hex + ".tar"
            try Self.decompress(
                blob, to: tar, with: compression == .gzip ? ["gzip", "-dc"] : ["zstd", "-dcq"], name: name,
                limit: maxExpandedBytes - expandedBytes, displayName: displayName, totalLimit: maxExpandedBytes)
        }
        defer { if tar != blob { unlink(tar) } }
        // Counted once per distinct layer the import writes; a tar layer's unpacked files are about its size.
        let tarSize = try size(tar)
        guard tarSize <= maxExpandedBytes - expandedBytes else {
            throw ImageError.expansionLimitExceeded(path: displayName, limit: maxExpandedBytes)
        }
        expandedBytes += tarSize
        let actual = try SHA256.digest(ofFile: tar)
        guard actual == diffID else {
            throw ImageError.digestMismatch(path: name + " (uncompressed)", expected: diffID, actual: actual)
        }
        if stagedLayers[hex] != nil || access(store + "/layers/" + hex, F_OK) == 0 { return compression }
        if access(staging + "/layers", F_OK) != 0 { try ImageStore.makeDirectory(staging + "/layers") }
        let directory = staging + "/layers/" + hex
        guard mkdir(directory, 0o755) == 0 else {
            throw ImageError.system(operation: "mkdir", path: directory, errno: errno)
        }
        var reader = try TarReader(path: tar)
        try LayerUnpacker(destination: directory, archiveName: name, convertWhiteouts: true).unpack(&reader)
        stagedLayers[hex] = directory
        return compression
    }

    private static func compression(of path: String) throws(ImageError) -> Compression {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ImageError.system(operation: "open", path: path, errno: errno) }
        defer { close(fd) }
        var magic = [UInt8](repeating: 0, count: 4)
        let count = magic.withUnsafeMutableBytes { read(fd, $0.baseAddress, 4) }
        if count >= 2 && magic[0] == 0x1f && magic[1] == 0x8b { return .gzip }
        if count == 4 && magic == [0x28, 0xb5, 0x2f, 0xfd] { return .zstd }
        return .none
    }

    /// Runs `command blob > output` (gzip -dc, zstd -dcq) as a subprocess, stopping it once the output passes
    /// `limit` bytes: the output is read through a pipe and counted, so a bomb never reaches the disk whole.
    private static func decompress(
        _ blob: String, to output: String, with command: [String], name: String,
        limit: Int64, displayName: String, totalLimit: Int64
    ) throws(ImageError) {
        guard FileManager.default.createFile(atPath: output, contents: nil),
            let outputHandle = FileHandle(forWritingAtPath: output)
        else { throw ImageError.system(operation: "create", path: output, errno: errno) }
        defer { try? outputHandle.close() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = command + [blob]
        let decompressed = Pipe()
        process.standardOutput = decompressed
        let errors = Pipe()
        process.standardError = errors
        do { try process.run() } catch {
            throw ImageError.commandFailed(command: command.joined(separator: " "), status: -1, output: "\(error)")
        }
        try? decompressed.fileHandleForWriting.close()
        let input = decompressed.fileHandleForReading.fileDescriptor
        let outputDescriptor = outputHandle.fileDescriptor
        var written: Int64 = 0
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var failure: ImageError?
        copying: while true {
            let count = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            written += Int64(count)
            guard written <= limit else {
                failure = .expansionLimitExceeded(path: displayName, limit: totalLimit)
                break
            }
            var offset = 0
            while offset < count {
                let result = buffer.withUnsafeBytes {
                    write(outputDescriptor, $0.baseAddress! + offset, count - offset)
                }
                if result < 0 && errno == EINTR { continue }
                guard result > 0 else {
                    failure = .system(operation: "write", path: output, errno: errno)
                    break copying
                }
                offset += result
            }
        }
        if failure != nil, process.isRunning { process.terminate() }
        try? decompressed.fileHandleForReading.close()
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        if let failure { throw failure }
        if process.terminationStatus == 127 {  // env: the program is not installed
            throw ImageError.unsupported(
                path: name,
                reason: "decompressing this layer needs \(command[0]); install it (apt-get install \(command[0]))")
        }
        guard process.terminationStatus == 0 else {
            throw ImageError.malformedArchive(
                path: name,
                reason: "\(command[0]) failed: "
                    + String(decoding: message, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }

    // MARK: - Helpers

    private func contents(_ path: String) throws(ImageError) -> Data {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ImageError.system(operation: "read", path: path, errno: errno == 0 ? ENOENT : errno)
        }
        return data
    }

    private func size(_ path: String) throws(ImageError) -> Int64 {
        var info = stat()
        guard stat(path, &info) == 0 else { throw ImageError.system(operation: "stat", path: path, errno: errno) }
        return Int64(info.st_size)
    }

}
