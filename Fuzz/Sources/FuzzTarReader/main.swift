import FuzzDriver
import OCIImage

/// Any bytes as a layer tar: the reader answers entries or an `ImageError` (never a crash, an overflow or a huge
/// allocation, whatever the header fields, PAX records or GNU long names say), each entry's data is exactly its size,
/// and the path checks the unpacker makes before it creates anything hold for every entry.
///
/// When the input's length is odd, the harness first sets the checksum of every block that the archive's own sizes
/// make a header (`withHeaderChecksums`): a mutated header then reaches the field parsers instead of failing the
/// checksum, which a mutation almost never keeps right. Even lengths go in as they are.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTarReader(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    var bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if size % 2 == 1 { bytes = withHeaderChecksums(bytes) }
    var reader = TarReader(TarBytes(bytes), path: "fuzz.tar")
    do {
        while let entry = try reader.next() {
            precondition(entry.size >= 0 && (entry.kind == .file || entry.size == 0), "entry size \(entry.size)")
            checkPaths(of: entry)
            // An entry's data is read when its mode is even, else skipped by `next`: the input picks the path.
            if entry.mode % 2 == 0 {
                var read: Int64 = 0
                try reader.readData { (chunk: UnsafeRawBufferPointer) throws(ImageError) in read += Int64(chunk.count) }
                precondition(read == entry.size, "read \(read) bytes of a \(entry.size)-byte entry")
            }
        }
    } catch {
        _ = error.description
    }
    return 0
}

/// `bytes` with the ustar checksum of each header block set, walking the archive as a reader does (a header, then
/// its octal size's worth of data blocks); a size that is not octal ends the walk.
private func withHeaderChecksums(_ bytes: [UInt8]) -> [UInt8] {
    var bytes = bytes
    var offset = 0
    while offset + 512 <= bytes.count {
        let header = offset..<offset + 512
        if bytes[header].allSatisfy({ $0 == 0 }) {
            offset += 512
            continue
        }
        for index in 148..<156 { bytes[offset + index] = UInt8(ascii: " ") }
        let sum = bytes[header].reduce(0) { $0 + Int($1) }
        let digits = Array(String(sum, radix: 8).utf8)
        let field =
            Array(repeating: UInt8(ascii: "0"), count: max(0, 6 - digits.count)) + digits.suffix(6) + [
                0, UInt8(ascii: " "),
            ]
        bytes.replaceSubrange(offset + 148..<offset + 156, with: field)
        var size = 0
        for byte in bytes[offset + 124..<offset + 136] {
            guard (UInt8(ascii: "0")...UInt8(ascii: "7")).contains(byte) else { break }
            size = size * 8 + Int(byte - UInt8(ascii: "0"))
            guard size < 1 << 40 else { return bytes }
        }
        offset += 512 + (size + 511) / 512 * 512
    }
    return bytes
}

/// What `LayerUnpacker` checks before it creates anything, held to what the kernel will see (a path up to its first
/// NUL): no component is `..`, a whiteout names something, a symlink that passes does not leave the layer.
private func checkPaths(of entry: TarEntry) {
    guard let components = try? LayerPath.components(entry.path, archive: "fuzz.tar", entry: entry.path) else { return }
    let seen = components.map { String(decoding: $0.utf8.prefix { $0 != 0 }, as: UTF8.self) }
    precondition(!seen.contains("..") && !seen.contains(".") && !seen.contains(""), "unsafe path passed: \(components)")
    if let name = components.last, name.hasPrefix(".wh."), name != ".wh..wh..opq",
        let hidden = try? LayerPath.whiteoutTarget(name, archive: "fuzz.tar", entry: entry.path)
    {
        precondition(!hidden.isEmpty && hidden != ".." && hidden != ".")
    }
    switch entry.kind {
    case .symlink:
        let directory = Array(components.dropLast())
        if (try? LayerPath.checkSymlinkTarget(
            entry.linkTarget, linkDirectory: directory, archive: "fuzz.tar",
            entry: entry.path)) != nil
        {
            precondition(
                !leaves(directory, entry.linkTarget.utf8.prefix { $0 != 0 }),
                "escaping symlink passed: \(entry.linkTarget)")
        }
    case .hardlink: _ = try? LayerPath.components(entry.linkTarget, archive: "fuzz.tar", entry: entry.path)
    default: break
    }
}

/// True when `target` (bytes as the kernel reads them), resolved from `directory`, climbs above the root.
private func leaves(_ directory: [String], _ target: some Collection<UInt8>) -> Bool {
    guard target.first != UInt8(ascii: "/") else { return false }
    var depth = directory.count
    for part in target.split(separator: UInt8(ascii: "/")) where !part.elementsEqual(".".utf8) {
        depth += part.elementsEqual("..".utf8) ? -1 : 1
        if depth < 0 { return true }
    }
    return false
}

@_cdecl("FuzzTarReader_main")
public func fuzzTarReaderMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    FuzzDriver.run(argc, argv, fuzzTarReader)
}
