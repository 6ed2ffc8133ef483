import FlotillaDigest
#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing
@testable import NodeAgent
import OCIImage

/// A bad image and what its import must say.
struct BadImage: CustomTestStringConvertible, Sendable {
    var name: String
    /// Builds the bad image under the directory given; returns the path to import.
    var build: @Sendable (String) throws -> String
    /// Words the error's description must contain.
    var expected: [String]
    var testDescription: String { name }

    static func layoutWith(layer: [UInt8], in directory: String) throws -> String {
        try ImageFixtures.layout(reference: "test/bad:1", layers: [layer]).writeDirectory(to: directory + "/bad")
        return directory + "/bad"
    }

    static func layer(_ add: (inout TarWriter) -> Void) -> [UInt8] {
        var tar = TarWriter()
        tar.addDirectory("etc")
        add(&tar)
        return tar.finish()
    }

    static let all: [BadImage] = [
        BadImage(
            name: "truncated layer tar",
            build: { directory in
                let layer = ImageFixtures.applicationLayer()
                return try layoutWith(layer: Array(layer.prefix(1100)), in: directory)
            }, expected: ["malformed tar archive", "truncated"]),
        BadImage(
            name: "truncated image tarball",
            build: { directory in
                let archive = ImageFixtures.layout().tarball()
                return try ImageTestDirectory.write(directory + "/cut.tar", Array(archive.prefix(archive.count / 2)))
            }, expected: ["cut.tar", "truncated"]),
        BadImage(
            name: "truncated gzip layer",
            build: { directory in
                let tar = ImageFixtures.applicationLayer()
                let gzip = try ImageFixtures.compress(tar, with: ["gzip", "-n", "-c"])
                var builder = ImageFixtures.layout(reference: "test/bad:1", layers: [])
                builder.layers = [
                    .init(
                        blob: Array(gzip.prefix(gzip.count / 2)), mediaType: MediaType.layerGzip,
                        diffID: SHA256.digest(tar))
                ]
                try builder.writeDirectory(to: directory + "/bad")
                return directory + "/bad"
            }, expected: ["malformed tar archive", "gzip failed"]),
        BadImage(
            name: "missing layer blob",
            build: { directory in
                let builder = ImageFixtures.layout(reference: "test/bad:1")
                try builder.writeDirectory(to: directory + "/bad")
                let digest = SHA256.digest(builder.layers[0].blob)
                try FileManager.default.removeItem(atPath: directory + "/bad/blobs/sha256/" + digest.dropFirst(7))
                return directory + "/bad"
            }, expected: ["blob sha256:", "is missing"]),
        BadImage(
            name: "blob content does not match its digest",
            build: { directory in
                let builder = ImageFixtures.layout(reference: "test/bad:1")
                try builder.writeDirectory(to: directory + "/bad")
                let digest = SHA256.digest(builder.layers[0].blob)
                _ = try ImageTestDirectory.write(
                    directory + "/bad/blobs/sha256/" + digest.dropFirst(7),
                    ImageFixtures.applicationLayer(greeting: "tampered"))
                return directory + "/bad"
            }, expected: ["digest mismatch", "expected sha256:"]),
        BadImage(
            name: "diff id does not match the layer",
            build: { directory in
                var builder = ImageFixtures.layout(reference: "test/bad:1", layers: [])
                builder.layers = [
                    .init(
                        blob: ImageFixtures.applicationLayer(), mediaType: MediaType.layerTar,
                        diffID: SHA256.digest(Array("another layer".utf8)))
                ]
                try builder.writeDirectory(to: directory + "/bad")
                return directory + "/bad"
            }, expected: ["digest mismatch", "uncompressed"]),
        BadImage(
            name: "../ path",
            build: { directory in
                try layoutWith(layer: layer { $0.addFile("../escaped", contents: Array("x".utf8)) }, in: directory)
            }, expected: ["\"../escaped\"", "contains \"..\""]),
        BadImage(
            name: "absolute path climbing out",
            build: { directory in
                try layoutWith(
                    layer: layer { $0.addFile("/../../tmp/escaped", contents: Array("x".utf8)) }, in: directory)
            }, expected: ["/../../tmp/escaped", "contains \"..\""]),
        BadImage(
            name: "symlink escaping the layer",
            build: { directory in
                try layoutWith(layer: layer { $0.addSymlink("etc/up", target: "../../outside") }, in: directory)
            }, expected: ["etc/up", "escapes the layer"]),
        // Found in review while writing the tar fuzz target's oracle: the kernel reads a path up to its first NUL, and
        // PAX records may hold one.
        BadImage(
            name: "symlink whose target escapes after a NUL byte",
            build: { directory in
                let target = "a/../..\u{0}/" + String(repeating: "b", count: 100)  // > 100 bytes: a PAX linkpath record
                return try layoutWith(layer: layer { $0.addSymlink("up", target: target) }, in: directory)
            }, expected: ["\"up\"", "symlink target contains a NUL byte"]),
        BadImage(
            name: "path that is .. before a NUL byte",
            build: { directory in
                let path = "..\u{0}/" + String(repeating: "c", count: 100)  // > 100 bytes: a PAX path record
                return try layoutWith(layer: layer { $0.addFile(path, contents: Array("x".utf8)) }, in: directory)
            }, expected: ["path contains a NUL byte"]),
        BadImage(
            name: "hardlink escaping the layer",
            build: { directory in
                try layoutWith(layer: layer { $0.addHardlink("etc/shadow", target: "../../etc/shadow") }, in: directory)
            }, expected: ["etc/shadow", "contains \"..\""]),
        BadImage(
            name: "path through a symlink",
            build: { directory in
                try layoutWith(
                    layer: layer {
                        $0.addSymlink("etc/host", target: "/etc")
                        $0.addFile("etc/host/passwd", contents: Array("root::0:0::/:/bin/sh\n".utf8))
                    }, in: directory)
            }, expected: ["etc/host/passwd", "passes through the symlink \"etc/host\""]),
        BadImage(
            name: "not an image",
            build: { directory in
                try FileManager.default.createDirectory(atPath: directory + "/empty", withIntermediateDirectories: true)
                return directory + "/empty"
            }, expected: ["neither index.json", "manifest.json"]),
        BadImage(
            name: "manifest that is not JSON",
            build: { directory in
                let builder = ImageFixtures.layout(reference: "test/bad:1")
                try builder.writeDirectory(to: directory + "/bad")
                _ = try ImageTestDirectory.write(directory + "/bad/index.json", Array("{\"schemaVersion\": 2".utf8))
                return directory + "/bad"
            }, expected: ["index.json", "not valid JSON"]),
    ]
}

extension ImageTestDirectory {
    static func write(_ path: String, _ bytes: [UInt8]) throws -> String {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }
}

@Suite(.timeLimit(.minutes(10)))
struct ImageSafetyTests {
    @Test(arguments: BadImage.all)
    func aBadImageFailsAndLeavesTheStoreAsItWas(bad: BadImage) throws {
        // Given a store that already holds an image
        let scratch = try ImageTestDirectory()
        let store = try ImageStore(root: scratch.path + "/store", logger: ImageFixtures.logger)
        try ImageFixtures.layout(reference: "test/good:1").writeDirectory(to: scratch.path + "/good")
        _ = try store.importImage(from: scratch.path + "/good")
        let before = ImageFixtures.listing(of: scratch.path + "/store")
        let imagesBefore = store.images()
        let source = try bad.build(scratch.path)

        // When the bad image is imported
        var failure: ImageError?
        do { _ = try store.importImage(from: source) } catch { failure = error }

        // Then the import fails with an error naming the problem, and the store is exactly as before
        let error = try #require(failure, "importing \(bad.name) must fail")
        for word in bad.expected { #expect(error.description.contains(word), "\(error)") }
        #expect(ImageFixtures.listing(of: scratch.path + "/store") == before)
        #expect(store.images() == imagesBefore)
        #expect(!FileManager.default.fileExists(atPath: scratch.path + "/escaped"))
        #expect(!FileManager.default.fileExists(atPath: "/tmp/escaped"))
    }

    @Test func symlinksInsideTheLayerAreAllowed() throws {
        // Given relative links that stay inside the layer and an absolute one (resolved in the container's root)
        let scratch = try ImageTestDirectory()
        let layer = BadImage.layer {
            $0.addDirectory("usr/lib/deep")
            $0.addSymlink("usr/lib/deep/up", target: "../../../etc")
            $0.addSymlink("usr/lib/absolute", target: "/etc/passwd")
        }
        let store = try ImageStore(root: scratch.path + "/store", logger: ImageFixtures.logger)

        // When imported, Then it succeeds with the links as written
        let record = try #require(
            try store.importImage(from: try BadImage.layoutWith(layer: layer, in: scratch.path)).first)
        let root = record.layerDirectories[0]
        #expect(
            (try? FileManager.default.destinationOfSymbolicLink(atPath: root + "/usr/lib/deep/up")) == "../../../etc")
        #expect(
            (try? FileManager.default.destinationOfSymbolicLink(atPath: root + "/usr/lib/absolute")) == "/etc/passwd")
    }

    @Test(.enabled(if: getuid() == 0, "whiteouts become device nodes and trusted xattrs: root only"))
    func whiteoutsBecomeOverlayWhiteoutsAndHideLowerFiles() throws {
        // Given a lower layer with files and an upper layer deleting one file and making a directory opaque
        let scratch = try ImageTestDirectory()
        var lower = TarWriter()
        lower.addDirectory("a")
        lower.addFile("a/keep", contents: Array("keep".utf8))
        lower.addFile("a/gone", contents: Array("gone".utf8))
        lower.addDirectory("d")
        lower.addFile("d/old", contents: Array("old".utf8))
        var upper = TarWriter()
        upper.addDirectory("a")
        upper.addFile("a/.wh.gone", contents: [])
        upper.addDirectory("d")
        upper.addFile("d/.wh..wh..opq", contents: [])
        upper.addFile("d/new", contents: Array("new".utf8))
        try ImageFixtures.layout(reference: "test/whiteout:1", layers: [lower.finish(), upper.finish()])
            .writeDirectory(to: scratch.path + "/layout")
        let store = try ImageStore(root: scratch.path + "/store", logger: ImageFixtures.logger)

        // When it is imported
        let record = try #require(try store.importImage(from: scratch.path + "/layout").first)
        let (lowerDirectory, upperDirectory) = (record.layerDirectories[0], record.layerDirectories[1])

        // Then the upper layer holds overlayfs's forms: a 0/0 character device and the opaque xattr
        var whiteout = stat()
        #expect(lstat(upperDirectory + "/a/gone", &whiteout) == 0)
        #expect(whiteout.st_mode & S_IFMT == S_IFCHR && whiteout.st_rdev == 0)
        #expect(!FileManager.default.fileExists(atPath: upperDirectory + "/a/.wh.gone"))
        #expect(!FileManager.default.fileExists(atPath: upperDirectory + "/d/.wh..wh..opq"))
        #expect(ExtendedAttributes.get(upperDirectory + "/d", name: "trusted.overlay.opaque") == [UInt8(ascii: "y")])

        // When the two layers are mounted as a read-only overlay
        let merged = scratch.path + "/merged"
        try FileManager.default.createDirectory(atPath: merged, withIntermediateDirectories: true)
        let mount = try ImageFixtures.run([
            "mount", "-t", "overlay", "overlay", "-o",
            "lowerdir=\(upperDirectory):\(lowerDirectory)", merged,
        ])
        try #require(mount.status == 0, "mount: \(mount.output)")
        defer { _ = try? ImageFixtures.run(["umount", merged]) }

        // Then the deleted file and the opaque directory's old content are hidden; the rest shows through
        #expect(ImageFixtures.fileText(merged + "/a/keep") == "keep")
        #expect(!FileManager.default.fileExists(atPath: merged + "/a/gone"))
        #expect(ImageFixtures.fileText(merged + "/d/new") == "new")
        #expect(!FileManager.default.fileExists(atPath: merged + "/d/old"))
    }
}
