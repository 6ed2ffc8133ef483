import OCIImage
import Testing

@Suite("Tar reader: hostile headers end in an ImageError", .timeLimit(.minutes(10)))
struct TarReaderTests {
    /// A PAX `size` record (or a base-256 size field) may say anything up to Int64.max.
    static func archive(secondEntrySize size: String) -> [UInt8] {
        var tar = TarWriter()
        tar.addFile("first", contents: Array("1".utf8))
        let record = " size=\(size)\n"
        var length = record.utf8.count + 1  // the record's length counts its own digits
        while String(length).utf8.count + record.utf8.count > length { length += 1 }
        tar.addEntry(
            "PaxHeader", type: UInt8(ascii: "x"), metadata: .init(mode: 0o644),
            data: Array((String(length) + record).utf8))
        tar.addFile("second", contents: Array("abc".utf8))
        return tar.finish()
    }

    /// Reads every entry without reading its data (the reader skips it), as far as the archive goes.
    static func entries(of bytes: [UInt8]) -> (paths: [String], error: ImageError?) {
        var reader = TarReader(TarBytes(bytes), path: "test.tar")
        var paths: [String] = []
        do {
            while let entry = try reader.next() { paths.append(entry.path) }
            return (paths, nil)
        } catch {
            return (paths, error)
        }
    }

    // Found by the tar fuzz target (Fuzz/Corpus/tar/regression-skip-overflow-int64-max-size): skipping an unread
    // entry of Int64.max bytes overflowed (size + padding).
    @Test func anEntryOfInt64MaxBytesLeftUnreadIsATruncatedArchive() {
        // Given an archive whose second entry claims 9223372036854775807 bytes
        let bytes = Self.archive(secondEntrySize: String(Int64.max))
        // When its entries are listed without reading their data
        let (paths, error) = Self.entries(of: bytes)
        // Then both entries are seen and the skip past the second one fails as truncated
        #expect(paths == ["first", "second"])
        #expect(error == .malformedArchive(path: "test.tar", reason: "truncated: unexpected end of file"))
    }

    @Test func aPAXSizeOverridesTheHeaderAndTheDataIsExactlyThatLong() throws {
        // Given an archive whose second entry's PAX size (2) is smaller than its header size (3)
        var reader = TarReader(TarBytes(Self.archive(secondEntrySize: "2")), path: "test.tar")
        _ = try reader.next()
        // When the second entry's data is read
        let entry = try #require(try reader.next())
        var data: [UInt8] = []
        try reader.readData { (chunk: UnsafeRawBufferPointer) throws(ImageError) in data += chunk }
        // Then it is the PAX size's 2 bytes, and the archive ends after it
        #expect(entry.size == 2 && data == Array("ab".utf8))
        #expect(try reader.next() == nil)
    }
}

@Suite("Layer paths: what the unpacker refuses before it creates anything", .timeLimit(.minutes(10)))
struct LayerPathTests {
    @Test(arguments: ["../x", "a/../../x", "/../etc/passwd", "..\u{0}/x", "a/b\u{0}c"])
    func unsafePathsAreRefused(path: String) {
        #expect(throws: ImageError.self) { _ = try LayerPath.components(path, archive: "layer", entry: path) }
    }

    @Test func absoluteAndDottedPathsAreTakenUnderTheRoot() throws {
        #expect(try LayerPath.components("/etc/./passwd", archive: "layer", entry: "e") == ["etc", "passwd"])
        #expect(try LayerPath.components("./", archive: "layer", entry: "e") == [])
    }

    // Found in review while writing the tar fuzz target's oracle (what the kernel sees: a path up to its first NUL).
    @Test(arguments: [
        ("../../etc", ["usr"], "escapes the layer"),
        ("a/../..\u{0}/b", [], "contains a NUL byte"),
        ("", ["usr"], "empty target"),
    ])
    func escapingOrMalformedSymlinkTargetsAreRefused(target: String, directory: [String], reason: String) {
        #expect {
            try LayerPath.checkSymlinkTarget(target, linkDirectory: directory, archive: "layer", entry: "link")
        } throws: { error in
            "\(error)".contains(reason)
        }
    }

    @Test func symlinkTargetsInsideTheLayerOrAbsolutePass() throws {
        try LayerPath.checkSymlinkTarget(
            "../../../etc", linkDirectory: ["usr", "lib", "deep"], archive: "layer", entry: "up")
        try LayerPath.checkSymlinkTarget("/etc/passwd", linkDirectory: [], archive: "layer", entry: "abs")
    }
}
