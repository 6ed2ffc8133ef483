import FlotillaDigest
#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing
@testable import NodeAgent
import OCIImage

@Suite("Image import: layers expanding beyond the limit are refused as such", .timeLimit(.minutes(10)))
struct ImageExpansionTests {
    /// A layer holding one file of `size` zero bytes (a bomb once compressed).
    static func zeros(_ size: Int) -> [UInt8] {
        var tar = TarWriter()
        tar.addFile("zeros", contents: [UInt8](repeating: 0, count: size))
        return tar.finish()
    }

    @Test(
        "A gzip layer of 32 MiB of zeros (about 32 KiB compressed) against an 8 MiB limit", arguments: ["gzip", "none"])
    func bombIsRefused(_ compression: String) throws {
        // Given a store with an 8 MiB budget per import that already holds an image
        let scratch = try ImageTestDirectory()
        let store = try ImageStore(
            root: scratch.path + "/store", maxExpandedBytes: 8 << 20, logger: ImageFixtures.logger)
        try ImageFixtures.layout(reference: "test/good:1").writeDirectory(to: scratch.path + "/good")
        _ = try store.importImage(from: scratch.path + "/good")
        let before = ImageFixtures.listing(of: scratch.path + "/store")
        let tar = Self.zeros(32 << 20)
        var builder = ImageFixtures.layout(reference: "test/bomb:1", layers: [])
        if compression == "gzip" {
            let gzip = try ImageFixtures.compress(tar, with: ["gzip", "-n", "-c"])
            #expect(gzip.count < 1 << 20)
            builder.layers = [.init(blob: gzip, mediaType: MediaType.layerGzip, diffID: SHA256.digest(tar))]
        } else {
            builder.addLayer(tar: tar)
        }
        try builder.writeDirectory(to: scratch.path + "/bomb")

        // When it is imported
        var failure: ImageError?
        do { _ = try store.importImage(from: scratch.path + "/bomb") } catch { failure = error }

        // Then it is refused for its expansion, not called malformed, and the store is as before
        let error = try #require(failure)
        #expect(error == .expansionLimitExceeded(path: scratch.path + "/bomb", limit: 8 << 20))
        #expect(error.description.contains("expand beyond the limit of 8388608 bytes"))
        #expect(!error.description.contains("malformed"))
        #expect(ImageFixtures.listing(of: scratch.path + "/store") == before)
    }

    @Test func anImageWithinTheLimitImports() throws {
        let scratch = try ImageTestDirectory()
        let store = try ImageStore(
            root: scratch.path + "/store", maxExpandedBytes: 8 << 20, logger: ImageFixtures.logger)
        let tar = Self.zeros(4 << 20)
        var builder = ImageFixtures.layout(reference: "test/fits:1", layers: [])
        builder.layers = [
            .init(
                blob: try ImageFixtures.compress(tar, with: ["gzip", "-n", "-c"]), mediaType: MediaType.layerGzip,
                diffID: SHA256.digest(tar))
        ]
        try builder.writeDirectory(to: scratch.path + "/fits")
        #expect(try store.importImage(from: scratch.path + "/fits").count == 1)
    }
}
