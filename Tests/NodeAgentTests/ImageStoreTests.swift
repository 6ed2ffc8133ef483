import FlotillaDigest
#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing
@testable import NodeAgent
import OCIImage

@Suite(.timeLimit(.minutes(10)))
struct ImageStoreTests {
    private func expectApplicationLayer(_ record: ImageRecord) {
        #expect(record.layerDirectories.count == 1)
        guard let layer = record.layerDirectories.first else { return }
        #expect(ImageFixtures.fileText(layer + "/app/greeting.txt") == "hello")
        #expect(ImageFixtures.fileType(layer + "/app/current") == S_IFLNK)
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: layer + "/app/current")) == "greeting.txt")
        var original = stat(), copy = stat()
        #expect(stat(layer + "/app/greeting.txt", &original) == 0 && stat(layer + "/app/copy.txt", &copy) == 0)
        #expect(original.st_ino == copy.st_ino, "the hardlink shares the inode")
        var script = stat()
        #expect(stat(layer + "/app/run.sh", &script) == 0)
        #expect(script.st_mode & 0o7777 == 0o755)
        if getuid() == 0 { #expect(script.st_uid == 65534 && script.st_gid == 65534) }
    }

    @Test func importsAnOCILayoutDirectory() throws {
        // Given an OCI image layout directory with one layer, tagged test/app:2
        let scratch = try ImageTestDirectory()
        let builder = ImageFixtures.layout()
        try builder.writeDirectory(to: scratch.path + "/layout")
        let store = try ImageStore(root: scratch.path + "/store", logger: ImageFixtures.logger)

        // When it is imported
        let records = try store.importImage(from: scratch.path + "/layout")

        // Then the image is named, its config read, its layer unpacked and every blob stored by digest
        let record = try #require(records.first)
        #expect(records.count == 1)
        #expect(record.digest == SHA256.digest(builder.manifestBlob))
        #expect(record.references == ["test/app:2"])
        #expect(
            record.config
                == ImageConfig(
                    env: ["PATH=/bin", "MODE=test"], cmd: ["/app/run.sh"], workingDir: "/app",
                    exposedPorts: ["8080/tcp"]))
        expectApplicationLayer(record)
        #expect(record.layerDirectories[0] == scratch.path + "/store/layers/" + builder.layers[0].diffID.dropFirst(7))
        for file in builder.files() where file.path.hasPrefix("blobs/") {
            #expect(FileManager.default.contents(atPath: scratch.path + "/store/" + file.path) == Data(file.contents))
        }
        #expect(store.images() == records)
    }

    @Test func importsAnOCILayoutTarball() throws {
        // Given the same layout as a tarball
        let scratch = try ImageTestDirectory()
        let builder = ImageFixtures.layout()
        let archive = try scratch.write("image.tar", builder.tarball())
        let store = try ImageStore(root: scratch.path + "/store", logger: ImageFixtures.logger)

        // When it is imported
        let record = try #require(try store.importImage(from: archive).first)

        // Then it gives the same image as the directory would
        #expect(record.digest == SHA256.digest(builder.manifestBlob))
        #expect(record.references == ["test/app:2"])
        expectApplicationLayer(record)
    }

    @Test func importsADockerSaveTarball() throws {
        // Given a docker save archive: manifest.json naming <config>.json and <id>/layer.tar
        let scratch = try ImageTestDirectory()
        let builder = ImageFixtures.layout()
        let config = builder.configBlob
        let configName = String(SHA256.digest(config).dropFirst(7)) + ".json"
        var tar = TarWriter()
        tar.addFile(configName, contents: config)
        tar.addDirectory("0123abcd")
        tar.addFile("0123abcd/layer.tar", contents: builder.layers[0].blob)
        tar.addFile(
            "manifest.json",
            contents: Array(
                #"[{"Config":"\#(configName)","RepoTags":["test/docker:1","test/docker"],"Layers":["0123abcd/layer.tar"]}]"#
                    .utf8))
        let archive = try scratch.write("saved.tar", tar.finish())
        let store = try ImageStore(root: scratch.path + "/store", logger: ImageFixtures.logger)

        // When it is imported
        let record = try #require(try store.importImage(from: archive).first)

        // Then its tags, config and layer are those of the image, under a synthesised manifest that is stored too
        #expect(record.references == ["test/docker:1", "test/docker:latest"])
        #expect(record.config.cmd == ["/app/run.sh"])
        expectApplicationLayer(record)
        #expect(
            FileManager.default.fileExists(atPath: scratch.path + "/store/blobs/sha256/" + record.digest.dropFirst(7)))
        #expect(store.resolve("test/docker")?.digest == record.digest)
    }

    @Test(arguments: [["gzip", "-n", "-c"], ["zstd", "-q", "-c"]])
    func importsCompressedLayers(compressor: [String]) throws {
        // Given a layout whose layer blob is compressed (the diff id is still the uncompressed tar's digest)
        let scratch = try ImageTestDirectory()
        let tar = ImageFixtures.applicationLayer()
        let compressed = try ImageFixtures.compress(tar, with: compressor)
        try #require(compressed.count > 10 && compressed != tar)
        var builder = ImageFixtures.layout(layers: [])
        builder.layers = [
            .init(
                blob: compressed, mediaType: compressor[0] == "gzip" ? MediaType.layerGzip : MediaType.layerZstd,
                diffID: SHA256.digest(tar))
        ]
        try builder.writeDirectory(to: scratch.path + "/layout")
        let store = try ImageStore(root: scratch.path + "/store", logger: ImageFixtures.logger)

        // When it is imported
        let record = try #require(try store.importImage(from: scratch.path + "/layout").first)

        // Then the layer is unpacked under its diff id
        expectApplicationLayer(record)
        #expect(record.layerDirectories[0].hasSuffix(SHA256.digest(tar).dropFirst(7)))
    }

    @Test func sharedLayersAreUnpackedOnce() throws {
        // Given two images sharing their base layer
        let scratch = try ImageTestDirectory()
        let base = ImageFixtures.applicationLayer()
        var top = TarWriter()
        top.addFile("extra.txt", contents: Array("x".utf8))
        let store = try ImageStore(root: scratch.path + "/store", logger: ImageFixtures.logger)
        try ImageFixtures.layout(reference: "test/one:1", layers: [base]).writeDirectory(to: scratch.path + "/one")
        try ImageFixtures.layout(reference: "test/two:1", layers: [base, top.finish()]).writeDirectory(
            to: scratch.path + "/two")

        // When both are imported
        let one = try #require(try store.importImage(from: scratch.path + "/one").first)
        let two = try #require(try store.importImage(from: scratch.path + "/two").first)

        // Then they use the same base directory and the store holds two layer directories in all
        #expect(two.layerDirectories.first == one.layerDirectories.first)
        #expect(two.layerDirectories.count == 2)
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path + "/store/layers").count == 2)
    }

    @Test func theBusyboxImageIsReproducibleAndComplete() throws {
        // Given the busybox image written twice
        let scratch = try ImageTestDirectory()
        try BusyboxImage.writeArchive(to: scratch.path + "/first.tar")
        try BusyboxImage.writeArchive(to: scratch.path + "/second.tar")

        // Then both archives are the same bytes
        let first = try #require(FileManager.default.contents(atPath: scratch.path + "/first.tar"))
        #expect(first == FileManager.default.contents(atPath: scratch.path + "/second.tar"))

        // When it is imported
        let store = try ImageStore(root: scratch.path + "/store", logger: ImageFixtures.logger)
        let record = try #require(try store.importImage(from: scratch.path + "/first.tar").first)

        // Then it is flotilla/busybox:1 with busybox, its applets, users, groups and a sticky /tmp
        #expect(record.references == ["flotilla/busybox:1"])
        #expect(record.config.cmd == ["sh"])
        #expect(record.config.env == ["PATH=" + ImageConfig.defaultPath])
        let root = try #require(record.layerDirectories.first)
        #expect(
            FileManager.default.contents(atPath: root + "/bin/busybox")
                == FileManager.default.contents(atPath: "/bin/busybox"))
        for applet in [
            "sh", "ls", "cat", "echo", "sleep", "id", "hostname", "mkdir", "rm", "mknod", "wget", "httpd",
            "true", "false", "ps", "kill", "mount", "touch", "env", "dd", "head", "tail", "grep", "sed", "yes", "seq",
        ] {
            #expect(
                (try? FileManager.default.destinationOfSymbolicLink(atPath: root + "/bin/" + applet)) == "busybox",
                "applet \(applet)")
        }
        #expect(ImageFixtures.fileText(root + "/etc/passwd")?.contains("nobody:x:65534:65534:") == true)
        #expect(ImageFixtures.fileText(root + "/etc/group")?.contains("nobody:x:65534:") == true)
        var tmp = stat()
        #expect(lstat(root + "/tmp", &tmp) == 0 && tmp.st_mode & 0o7777 == 0o1777)
    }

    @Test func resolvesByNameTagDigestAndPrefix() throws {
        // Given two images: test/app:2 and test/app (= test/app:latest)
        let scratch = try ImageTestDirectory()
        let store = try ImageStore(root: scratch.path + "/store", logger: ImageFixtures.logger)
        try ImageFixtures.layout(reference: "test/app:2").writeDirectory(to: scratch.path + "/two")
        try ImageFixtures.layout(reference: "test/app", layers: [ImageFixtures.applicationLayer(greeting: "latest")])
            .writeDirectory(to: scratch.path + "/latest")
        let two = try #require(try store.importImage(from: scratch.path + "/two").first)
        let latest = try #require(try store.importImage(from: scratch.path + "/latest").first)
        let hex = String(two.digest.dropFirst(7))

        // Then each reference form resolves to the right image, and unknown or too-short ones to nothing
        #expect(store.resolve("test/app:2") == two)
        #expect(store.resolve("test/app") == latest)
        #expect(store.resolve("test/app:latest") == latest)
        #expect(store.resolve(two.digest) == two)
        #expect(store.resolve("test/app@" + two.digest) == two)
        #expect(store.resolve("sha256:" + hex.prefix(12)) == two)
        #expect(store.resolve(String(hex.prefix(12))) == two)
        #expect(store.resolve("sha256:" + hex.prefix(6)) == nil)
        #expect(store.resolve("test/app:3") == nil)
        #expect(store.resolve("") == nil)

        // When test/app:2 is imported again for different content, the tag moves to the new image
        try ImageFixtures.layout(reference: "test/app:2", layers: [ImageFixtures.applicationLayer(greeting: "new")])
            .writeDirectory(to: scratch.path + "/moved")
        let moved = try #require(try store.importImage(from: scratch.path + "/moved").first)
        #expect(store.resolve("test/app:2") == moved)
        #expect(store.images().first { $0.digest == two.digest }?.references == [])

        // And a reopened store has the same index
        let reopened = try ImageStore(root: scratch.path + "/store", logger: ImageFixtures.logger)
        #expect(reopened.images() == store.images())
    }

    @Test func twoStoresOnOneRootSeeEachOthersImports() throws {
        // Given two store objects on one root, as the agent and `ecs-agent runtime import` would have
        let scratch = try ImageTestDirectory()
        let agent = try ImageStore(root: scratch.path + "/store", logger: ImageFixtures.logger)
        let cli = try ImageStore(root: scratch.path + "/store", logger: ImageFixtures.logger)
        try ImageFixtures.layout(reference: "test/one:1").writeDirectory(to: scratch.path + "/one")
        try ImageFixtures.layout(reference: "test/two:1", layers: [ImageFixtures.applicationLayer(greeting: "two")])
            .writeDirectory(to: scratch.path + "/two")

        // When each imports one image
        let one = try #require(try cli.importImage(from: scratch.path + "/one").first)
        #expect(agent.resolve("test/one:1") == one, "the agent sees the CLI's import")
        let two = try #require(try agent.importImage(from: scratch.path + "/two").first)

        // Then neither import was lost and both see both
        #expect(agent.images() == [one, two])
        #expect(cli.images() == [one, two])
    }

    @Test func openingTheStoreRemovesOnlyDeadImportersStaging() throws {
        // Given a staging directory of a process that no longer exists and one of this (live) process
        let scratch = try ImageTestDirectory()
        let root = scratch.path + "/store"
        _ = try ImageStore(root: root, logger: ImageFixtures.logger)
        let dead = root + "/.import-2147483646-abandoned"
        let live = root + "/.import-\(getpid())-running"
        for directory in [dead, live] {
            try FileManager.default.createDirectory(atPath: directory + "/blobs", withIntermediateDirectories: true)
        }

        // When the store is opened again
        _ = try ImageStore(root: root, logger: ImageFixtures.logger)

        // Then the dead importer's staging is gone and the live one's is left alone
        #expect(!FileManager.default.fileExists(atPath: dead))
        #expect(FileManager.default.fileExists(atPath: live))
    }

    @Test(arguments: ["gnu", "pax"])
    func importsLayersWrittenByGNUTar(format: String) throws {
        // Given a layer made by GNU tar in its GNU (long-name L/K headers) or PAX format, with a 150-character path,
        // a symlink with a long target and a hardlink
        let scratch = try ImageTestDirectory()
        let tree = scratch.path + "/tree"
        let longDirectory = (0..<10).map { "directory\($0)xx" }.joined(separator: "/")
        try FileManager.default.createDirectory(atPath: tree + "/" + longDirectory, withIntermediateDirectories: true)
        try Data("deep".utf8).write(to: URL(fileURLWithPath: tree + "/" + longDirectory + "/file.txt"))
        try FileManager.default.createSymbolicLink(
            atPath: tree + "/shortcut", withDestinationPath: longDirectory + "/file.txt")
        try FileManager.default.linkItem(
            atPath: tree + "/" + longDirectory + "/file.txt", toPath: tree + "/hardlink.txt")
        let tar = try ImageFixtures.run([
            "tar", "--format=\(format)", "-C", tree, "-cf", scratch.path + "/layer.tar", ".",
        ])
        try #require(tar.status == 0, "\(tar.output)")
        let layer = try #require(FileManager.default.contents(atPath: scratch.path + "/layer.tar"))
        try ImageFixtures.layout(reference: "test/gnu:1", layers: [Array(layer)]).writeDirectory(
            to: scratch.path + "/layout")
        let store = try ImageStore(root: scratch.path + "/store", logger: ImageFixtures.logger)

        // When it is imported
        let record = try #require(try store.importImage(from: scratch.path + "/layout").first)

        // Then the long names, the link target and the hardlink come through whole
        let root = record.layerDirectories[0]
        #expect(ImageFixtures.fileText(root + "/" + longDirectory + "/file.txt") == "deep")
        #expect(
            (try? FileManager.default.destinationOfSymbolicLink(atPath: root + "/shortcut")) == longDirectory
                + "/file.txt")
        #expect(ImageFixtures.fileText(root + "/hardlink.txt") == "deep")
    }

    @Test func followsAMultiPlatformIndexToThisMachinesManifest() throws {
        // Given index.json pointing to a nested image index with a manifest for another platform (its blob absent)
        // and one for this machine
        let scratch = try ImageTestDirectory()
        let builder = ImageFixtures.layout(reference: nil)
        let layout = scratch.path + "/layout"
        try builder.writeDirectory(to: layout)
        let manifest = builder.manifestBlob
        let nested = CanonicalJSON.encode(
            OCIIndex(
                schemaVersion: 2, mediaType: MediaType.index,
                manifests: [
                    OCIDescriptor(
                        mediaType: MediaType.manifest, digest: "sha256:" + String(repeating: "0", count: 64), size: 10,
                        platform: OCIPlatform(architecture: "s390x", os: "linux")),
                    OCIDescriptor(
                        mediaType: MediaType.manifest, digest: SHA256.digest(manifest), size: Int64(manifest.count),
                        platform: OCIPlatform(architecture: OCILayoutBuilder.hostArchitecture, os: "linux")),
                ]))
        _ = try ImageTestDirectory.write(layout + "/blobs/sha256/" + SHA256.digest(nested).dropFirst(7), nested)
        _ = try ImageTestDirectory.write(
            layout + "/index.json",
            CanonicalJSON.encode(
                OCIIndex(
                    schemaVersion: 2, mediaType: MediaType.index,
                    manifests: [
                        OCIDescriptor(
                            mediaType: MediaType.index, digest: SHA256.digest(nested), size: Int64(nested.count),
                            annotations: [Annotation.refName: "test/multi:3"])
                    ])))
        let store = try ImageStore(root: scratch.path + "/store", logger: ImageFixtures.logger)

        // When it is imported
        let record = try #require(try store.importImage(from: layout).first)

        // Then the image is this machine's manifest, under the index's name
        #expect(record.digest == SHA256.digest(manifest))
        #expect(record.references == ["test/multi:3"])
        expectApplicationLayer(record)
    }
}
