public import Foundation

// The JSON documents of the OCI image layout and of `docker save`, as far as the store reads and writes them, and the
// checks an import makes on them before it reads a blob.

/// The media types the store reads and writes.
public enum MediaType {
    public static let index = "application/vnd.oci.image.index.v1+json"
    public static let manifest = "application/vnd.oci.image.manifest.v1+json"
    public static let config = "application/vnd.oci.image.config.v1+json"
    public static let layerTar = "application/vnd.oci.image.layer.v1.tar"
    public static let layerGzip = "application/vnd.oci.image.layer.v1.tar+gzip"
    public static let layerZstd = "application/vnd.oci.image.layer.v1.tar+zstd"
    public static let dockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
}

/// The annotations that name an image in an index.
public enum Annotation {
    public static let refName = "org.opencontainers.image.ref.name"
    public static let containerdName = "io.containerd.image.name"
}

/// A manifest's platform in an image index.
public struct OCIPlatform: Codable, Hashable, Sendable {
    public var architecture: String
    public var os: String

    public init(architecture: String, os: String) {
        self.architecture = architecture
        self.os = os
    }
}

/// A content descriptor: what a document points at, by digest.
public struct OCIDescriptor: Codable, Hashable, Sendable {
    public var mediaType: String?
    public var digest: String
    public var size: Int64
    public var annotations: [String: String]?
    public var platform: OCIPlatform?

    public init(
        mediaType: String?, digest: String, size: Int64, annotations: [String: String]? = nil,
        platform: OCIPlatform? = nil
    ) {
        self.mediaType = mediaType
        self.digest = digest
        self.size = size
        self.annotations = annotations
        self.platform = platform
    }

    /// True when the descriptor points at an image index (OCI, or Docker's manifest list) rather than a manifest.
    public var isIndex: Bool { mediaType == MediaType.index || mediaType == MediaType.dockerManifestList }
}

/// `index.json` of a layout, or a multi-platform image index blob.
public struct OCIIndex: Codable, Sendable {
    public var schemaVersion: Int
    public var mediaType: String?
    public var manifests: [OCIDescriptor]

    public init(schemaVersion: Int, mediaType: String?, manifests: [OCIDescriptor]) {
        self.schemaVersion = schemaVersion
        self.mediaType = mediaType
        self.manifests = manifests
    }

    /// The manifest for `linux/architecture`, else the first one without a platform (a single-platform index).
    public func manifest(forArchitecture architecture: String) -> OCIDescriptor? {
        manifests.first { $0.platform == OCIPlatform(architecture: architecture, os: "linux") }
            ?? manifests.first { $0.platform == nil }
    }
}

/// An image manifest blob.
public struct OCIManifest: Codable, Sendable {
    public var schemaVersion: Int
    public var mediaType: String?
    public var config: OCIDescriptor
    public var layers: [OCIDescriptor]

    public init(schemaVersion: Int, mediaType: String?, config: OCIDescriptor, layers: [OCIDescriptor]) {
        self.schemaVersion = schemaVersion
        self.mediaType = mediaType
        self.config = config
        self.layers = layers
    }
}

/// The image config blob (`application/vnd.oci.image.config.v1+json`), the fields we use.
public struct OCIImageConfigFile: Codable, Sendable {
    public struct Empty: Codable, Hashable, Sendable { public init() {} }
    public struct Container: Codable, Sendable {
        public var Env: [String]?
        public var Entrypoint: [String]?
        public var Cmd: [String]?
        public var WorkingDir: String?
        public var User: String?
        public var ExposedPorts: [String: Empty]?

        public init(
            Env: [String]?, Entrypoint: [String]?, Cmd: [String]?, WorkingDir: String?, User: String?,
            ExposedPorts: [String: Empty]?
        ) {
            self.Env = Env
            self.Entrypoint = Entrypoint
            self.Cmd = Cmd
            self.WorkingDir = WorkingDir
            self.User = User
            self.ExposedPorts = ExposedPorts
        }
    }
    public struct RootFS: Codable, Sendable {
        public var type: String
        public var diff_ids: [String]

        public init(type: String, diff_ids: [String]) {
            self.type = type
            self.diff_ids = diff_ids
        }
    }
    public var architecture: String?
    public var os: String?
    public var config: Container?
    public var rootfs: RootFS

    public init(architecture: String?, os: String?, config: Container?, rootfs: RootFS) {
        self.architecture = architecture
        self.os = os
        self.config = config
        self.rootfs = rootfs
    }

    /// `rootfs.diff_ids`, which must pair one to one with the image's `layerCount` layers.
    /// - Parameters:
    ///   - path: names this config in the error.
    ///   - listing: how the layers are listed, for the error ("the manifest has", "manifest.json lists").
    public func diffIDs(pairedWith layerCount: Int, path: String, listing: String) throws(ImageError) -> [String] {
        guard rootfs.diff_ids.count == layerCount else {
            throw ImageError.malformedManifest(
                path: path,
                reason: "rootfs.diff_ids has \(rootfs.diff_ids.count) entries but \(listing) \(layerCount) layers")
        }
        return rootfs.diff_ids
    }
}

/// One entry of a `docker save` manifest.json.
public struct DockerSaveEntry: Codable, Sendable {
    public var Config: String
    public var RepoTags: [String]?
    public var Layers: [String]

    /// Checks a file name the entry lists (`Config`, a layer): relative, inside the archive, not empty.
    public static func checkInsideArchive(_ relative: String, referencedBy: String) throws(ImageError) {
        let parts = relative.split(separator: "/")
        guard !relative.hasPrefix("/"), !parts.isEmpty, !parts.contains("..") else {
            throw ImageError.malformedManifest(path: referencedBy, reason: "path \"\(relative)\" leaves the archive")
        }
    }
}

/// Decoding a document, and the digests in it.
public enum OCIDocument {
    /// Decodes one JSON document; the error names the document (`path`) and the field.
    public static func decode<T: Decodable>(_ data: Data, as type: T.Type, path: String) throws(ImageError) -> T {
        do { return try JSONDecoder().decode(type, from: data) } catch let error as DecodingError {
            throw ImageError.malformedManifest(path: path, reason: describe(error))
        } catch {
            throw ImageError.malformedManifest(path: path, reason: "\(error)")
        }
    }

    /// The 64 hex digits of a `sha256:<64 lowercase hex>` digest; anything else (another algorithm, a path) fails.
    public static func hexDigest(_ digest: String, referencedBy: String) throws(ImageError) -> String {
        let hex = digest.dropFirst(7)
        guard digest.hasPrefix("sha256:"), hex.count == 64, hex.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) else {
            throw ImageError.malformedManifest(
                path: referencedBy, reason: "digest \"\(digest)\" is not sha256:<64 lowercase hex>")
        }
        return String(hex)
    }

    private static func describe(_ error: DecodingError) -> String {
        func field(_ path: [any CodingKey]) -> String {
            path.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().trimmingPrefix(".").description
        }
        switch error {
        case .keyNotFound(let key, let context): return "\(field(context.codingPath + [key])): missing"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "\(field(context.codingPath)): \(context.debugDescription)"
        case .dataCorrupted(let context): return "not valid JSON: \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }
}

/// JSON whose bytes depend only on the value.
public enum CanonicalJSON {
    /// Sorted keys, no escaped slashes: the same value always gives the same bytes (and so the same digest).
    public static func encode(_ value: some Encodable) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding these plain structs cannot fail.
        return Array(try! encoder.encode(value))
    }
}
