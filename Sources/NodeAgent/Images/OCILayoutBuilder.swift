import FlotillaDigest
import Foundation
import OCIImage

extension OCIImageConfigFile {
    /// The parts of the config a container starts with.
    var imageConfig: ImageConfig {
        ImageConfig(
            env: config?.Env ?? [], entrypoint: config?.Entrypoint, cmd: config?.Cmd,
            workingDir: config?.WorkingDir, user: config?.User,
            exposedPorts: (config?.ExposedPorts ?? [:]).keys.sorted())
    }
}

/// Builds the files of an OCI image layout: `oci-layout`, `index.json` and `blobs/sha256/…`.
///
/// Deterministic: the same layers, config and reference give the same bytes. Tests use it to build good and bad
/// images; ``BusyboxImage`` uses it for the busybox image.
struct OCILayoutBuilder {
    struct Layer {
        var blob: [UInt8]
        var mediaType: String
        /// sha256 of the uncompressed tar.
        var diffID: String
        /// sha256 of `blob` (the diff id when uncompressed).
        var digest: String

        init(blob: [UInt8], mediaType: String, diffID: String, digest: String? = nil) {
            self.blob = blob
            self.mediaType = mediaType
            self.diffID = diffID
            self.digest = digest ?? SHA256.digest(blob)
        }
    }

    var layers: [Layer] = []
    var config: ImageConfig
    var reference: String?
    var architecture: String = OCILayoutBuilder.hostArchitecture

    init(config: ImageConfig, reference: String?) {
        self.config = config
        self.reference = reference
    }

    /// Adds an uncompressed layer.
    mutating func addLayer(tar: [UInt8]) {
        let digest = SHA256.digest(tar)
        layers.append(Layer(blob: tar, mediaType: MediaType.layerTar, diffID: digest, digest: digest))
    }

    var configBlob: [UInt8] {
        let container = OCIImageConfigFile.Container(
            Env: config.env, Entrypoint: config.entrypoint, Cmd: config.cmd, WorkingDir: config.workingDir,
            User: config.user,
            ExposedPorts: config.exposedPorts.isEmpty
                ? nil : Dictionary(uniqueKeysWithValues: config.exposedPorts.map { ($0, .init()) }))
        return CanonicalJSON.encode(
            OCIImageConfigFile(
                architecture: architecture, os: "linux", config: container,
                rootfs: .init(type: "layers", diff_ids: layers.map(\.diffID))))
    }

    var manifestBlob: [UInt8] {
        let configBlob = configBlob
        return CanonicalJSON.encode(
            OCIManifest(
                schemaVersion: 2, mediaType: MediaType.manifest,
                config: OCIDescriptor(
                    mediaType: MediaType.config, digest: SHA256.digest(configBlob), size: Int64(configBlob.count)),
                layers: layers.map {
                    OCIDescriptor(mediaType: $0.mediaType, digest: $0.digest, size: Int64($0.blob.count))
                }))
    }

    /// The layout's files, sorted by path.
    func files() -> [(path: String, contents: [UInt8])] {
        let manifest = manifestBlob
        var blobs: [String: [UInt8]] = [SHA256.digest(manifest): manifest, SHA256.digest(configBlob): configBlob]
        for layer in layers { blobs[layer.digest] = layer.blob }
        let index = OCIIndex(
            schemaVersion: 2, mediaType: MediaType.index,
            manifests: [
                OCIDescriptor(
                    mediaType: MediaType.manifest, digest: SHA256.digest(manifest), size: Int64(manifest.count),
                    annotations: reference.map { [Annotation.refName: $0] })
            ])
        var files: [(String, [UInt8])] = [
            ("index.json", CanonicalJSON.encode(index)),
            ("oci-layout", Array(#"{"imageLayoutVersion":"1.0.0"}"#.utf8)),
        ]
        for (digest, blob) in blobs { files.append(("blobs/sha256/" + digest.dropFirst(7), blob)) }
        return files.sorted { $0.0 < $1.0 }
    }

    /// The layout as one tar archive.
    func tarball() -> [UInt8] {
        var tar = TarWriter()
        tar.addDirectory("blobs")
        tar.addDirectory("blobs/sha256")
        for file in files() { tar.addFile(file.path, contents: file.contents) }
        return tar.finish()
    }

    /// Writes the layout as a directory (created if missing).
    func writeDirectory(to path: String) throws {
        for file in files() {
            let url = URL(fileURLWithPath: path + "/" + file.path)
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(file.contents).write(to: url)
        }
    }

    /// The OCI architecture name of this machine.
    static var hostArchitecture: String {
        #if arch(x86_64)
        "amd64"
        #elseif arch(arm64)
        "arm64"
        #else
        "unknown"
        #endif
    }
}
