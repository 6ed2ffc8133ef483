import Foundation
import FuzzDriver
import OCIImage

/// Any bytes as each JSON document of an image (index.json or an image index, a manifest, a config, `docker save`'s
/// manifest.json): decoding answers the document or an `ImageError` naming the field, and the checks an import makes
/// before reading a blob (digests, media types, the platform choice, diff_ids against layers, paths inside the
/// archive) answer without crashing.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOCIImage(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    let json = Data(bytes: data, count: size)
    if let index = try? OCIDocument.decode(json, as: OCIIndex.self, path: "index.json") {
        for descriptor in index.manifests { check(descriptor) }
        for architecture in ["amd64", "arm64"] {
            if let chosen = index.manifest(forArchitecture: architecture) { check(chosen) }
        }
    }
    if let manifest = try? OCIDocument.decode(json, as: OCIManifest.self, path: "manifest") {
        check(manifest.config)
        for layer in manifest.layers { check(layer) }
    }
    if let config = try? OCIDocument.decode(json, as: OCIImageConfigFile.self, path: "config") {
        let diffIDs = try? config.diffIDs(
            pairedWith: config.rootfs.diff_ids.count, path: "config", listing: "the manifest has")
        for diffID in diffIDs ?? [] { _ = try? OCIDocument.hexDigest(diffID, referencedBy: "config") }
        _ = try? config.diffIDs(
            pairedWith: config.rootfs.diff_ids.count + 1, path: "config", listing: "the manifest has")
    }
    if let entries = try? OCIDocument.decode(json, as: [DockerSaveEntry].self, path: "manifest.json") {
        for entry in entries {
            for file in [entry.Config] + entry.Layers {
                _ = try? DockerSaveEntry.checkInsideArchive(file, referencedBy: "manifest.json")
            }
        }
    }
    return 0
}

/// A descriptor's digest is sha256 with 64 lowercase hex digits, or refused.
private func check(_ descriptor: OCIDescriptor) {
    _ = descriptor.isIndex
    if let hex = try? OCIDocument.hexDigest(descriptor.digest, referencedBy: "fuzz") {
        precondition(
            hex.utf8.count == 64 && hex.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) })
    }
}

@_cdecl("FuzzOCIImage_main")
public func fuzzOCIImageMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    FuzzDriver.run(argc, argv, fuzzOCIImage)
}
