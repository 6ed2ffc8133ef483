#if canImport(Glibc)
import Glibc
#endif

/// One entry of a tar archive, after GNU long-name and PAX headers have been applied.
public struct TarEntry: Sendable {
    public enum Kind: Sendable { case file, hardlink, symlink, characterDevice, blockDevice, directory, fifo }
    public var path: String
    public var kind: Kind
    public var mode: UInt32
    public var uid: UInt32
    public var gid: UInt32
    public var size: Int64
    public var modificationTime: Int64
    public var linkTarget: String
    public var deviceMajor: UInt32
    public var deviceMinor: UInt32
}

/// Where a ``TarReader`` reads its archive from: a file (NodeAgent's `TarFile`) or bytes in memory (``TarBytes``).
public protocol TarByteSource {
    /// Reads up to `buffer.count` bytes into `buffer` and answers how many; 0 only at the end of the input.
    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws(ImageError) -> Int
}

/// An archive already in memory (tests, fuzzing).
public struct TarBytes: TarByteSource {
    private let bytes: [UInt8]
    private var offset = 0

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public mutating func read(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        let count = min(buffer.count, bytes.count - offset)
        bytes.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + offset, byteCount: count) }
        offset += count
        return count
    }
}

/// A streaming reader of tar archives: ustar, GNU long names and links (`L`, `K`), and PAX headers (`x`, `g`).
///
/// Strict on purpose: a bad header checksum, a short read, a missing end-of-archive marker or an unknown entry type
/// is an error, so a truncated or corrupt layer can never import as a smaller image. Pure: the bytes come from
/// `Source`, an entry's data goes to the caller (`readData`).
public struct TarReader<Source: TarByteSource>: ~Copyable {
    private var source: Source
    /// The archive's path (or a name for one in memory), for errors.
    public let path: String
    private var buffer: [UInt8]
    private var start = 0
    private var end = 0
    /// Bytes of the current entry's data (plus padding) not yet consumed.
    private var remainingData: Int64 = 0
    private var remainingPadding: Int64 = 0

    public init(_ source: Source, path: String) {
        self.source = source
        self.path = path
        self.buffer = [UInt8](repeating: 0, count: 1 << 16)
    }

    /// The next entry, or nil at the end-of-archive marker. Skips whatever of the previous entry's data was not read.
    public mutating func next() throws(ImageError) -> TarEntry? {
        // Apart: an entry may claim up to Int64.max bytes, and its padding on top would overflow.
        try skip(remainingData)
        try skip(remainingPadding)
        remainingData = 0
        remainingPadding = 0

        var longName: String?
        var longLink: String?
        var pax: [String: String] = [:]
        while true {
            guard let block = try readBlock(allowEndOfFile: true) else {
                throw ImageError.malformedArchive(
                    path: path, reason: "truncated: the archive ends without an end-of-archive marker")
            }
            let header = Array(block)
            if header.allSatisfy({ $0 == 0 }) {
                // End of archive: one zero block, normally followed by a second.
                return nil
            }
            try verifyChecksum(header)
            let type = header[156]
            let size = try number(header, 124, 12, field: "size")
            switch type {
            case UInt8(ascii: "L"):
                longName = cString(try readPayload(size: size))
                continue
            case UInt8(ascii: "K"):
                longLink = cString(try readPayload(size: size))
                continue
            case UInt8(ascii: "x"):
                pax.merge(try parsePAX(try readPayload(size: size))) { $1 }
                continue
            case UInt8(ascii: "g"):
                _ = try readPayload(size: size)  // global defaults: nothing we honour changes meaning
                continue
            default:
                break
            }

            var name = string(header, 0, 100)
            if header[257..<262].elementsEqual("ustar".utf8) {
                let prefix = string(header, 345, 155)
                if !prefix.isEmpty { name = prefix + "/" + name }
            }
            let headerUID = try number(header, 108, 8, field: "uid")
            let headerGID = try number(header, 116, 8, field: "gid")
            let headerTime = try number(header, 136, 12, field: "mtime")
            var entrySize = size
            if let value = pax["size"] {
                guard let paxSize = Int64(value), paxSize >= 0 else {
                    throw ImageError.malformedArchive(path: path, reason: "bad PAX size \"\(value)\"")
                }
                entrySize = paxSize
            }
            var entry = TarEntry(
                path: pax["path"] ?? longName ?? name,
                kind: .file,
                mode: UInt32(truncatingIfNeeded: try number(header, 100, 8, field: "mode")) & 0o7777,
                uid: UInt32(truncatingIfNeeded: pax["uid"].flatMap { Int64($0) } ?? headerUID),
                gid: UInt32(truncatingIfNeeded: pax["gid"].flatMap { Int64($0) } ?? headerGID),
                size: entrySize,
                modificationTime: pax["mtime"].flatMap { Int64($0.prefix { $0 != "." }) } ?? headerTime,
                linkTarget: pax["linkpath"] ?? longLink ?? string(header, 157, 100),
                deviceMajor: UInt32(truncatingIfNeeded: try number(header, 329, 8, field: "devmajor")),
                deviceMinor: UInt32(truncatingIfNeeded: try number(header, 337, 8, field: "devminor")))
            switch type {
            case 0, UInt8(ascii: "0"), UInt8(ascii: "7"): entry.kind = entry.path.hasSuffix("/") ? .directory : .file
            case UInt8(ascii: "1"): entry.kind = .hardlink
            case UInt8(ascii: "2"): entry.kind = .symlink
            case UInt8(ascii: "3"): entry.kind = .characterDevice
            case UInt8(ascii: "4"): entry.kind = .blockDevice
            case UInt8(ascii: "5"): entry.kind = .directory
            case UInt8(ascii: "6"): entry.kind = .fifo
            default:
                throw ImageError.unsupported(
                    path: path, reason: "tar entry \"\(entry.path)\" has type '\(Character(Unicode.Scalar(type)))'")
            }
            // Only regular files carry data; other types' size fields are ignored (POSIX ustar).
            if entry.kind != .file { entry.size = 0 }
            remainingData = entry.size
            remainingPadding = (512 - entry.size % 512) % 512
            return entry
        }
    }

    /// Hands the current entry's data to `consume`, a buffered chunk at a time, until it is all read.
    public mutating func readData(_ consume: (UnsafeRawBufferPointer) throws(ImageError) -> Void) throws(ImageError) {
        while remainingData > 0 {
            try fill(minimum: 1)
            let count = min(end - start, Int(clamping: remainingData))
            let chunkStart = start
            var failure: ImageError?
            buffer.withUnsafeBytes { bytes in
                do throws(ImageError) {
                    try consume(UnsafeRawBufferPointer(rebasing: bytes[chunkStart..<chunkStart + count]))
                } catch {
                    failure = error
                }
            }
            if let failure { throw failure }
            start += count
            remainingData -= Int64(count)
        }
    }

    // MARK: - Blocks

    private mutating func readBlock(allowEndOfFile: Bool) throws(ImageError) -> ArraySlice<UInt8>? {
        if end - start < 512 {
            try fill(minimum: 512, allowEndOfFile: allowEndOfFile)
            if end - start < 512 { return nil }
        }
        defer { start += 512 }
        return buffer[start..<start + 512]
    }

    private mutating func readPayload(size: Int64) throws(ImageError) -> [UInt8] {
        guard size <= 1 << 20 else {
            throw ImageError.malformedArchive(path: path, reason: "extended header of \(size) bytes")
        }
        var payload: [UInt8] = []
        var left = Int(size)
        while left > 0 {
            try fill(minimum: 1)
            let count = min(left, end - start)
            payload.append(contentsOf: buffer[start..<start + count])
            start += count
            left -= count
        }
        try skip((512 - size % 512) % 512)
        return payload
    }

    private mutating func skip(_ count: Int64) throws(ImageError) {
        var left = count
        while left > 0 {
            try fill(minimum: 1)
            let step = min(Int(clamping: left), end - start)
            start += step
            left -= Int64(step)
        }
    }

    /// Makes at least `minimum` bytes available, or throws "truncated" (or returns short when `allowEndOfFile`).
    private mutating func fill(minimum: Int, allowEndOfFile: Bool = false) throws(ImageError) {
        if end - start >= minimum { return }
        if start > 0 {
            buffer.withUnsafeMutableBytes { raw in
                _ = memmove(raw.baseAddress!, raw.baseAddress! + start, end - start)
            }
            end -= start
            start = 0
        }
        while end < minimum {
            let filled = end
            var failure: ImageError?
            let count = buffer.withUnsafeMutableBytes { raw in
                do throws(ImageError) {
                    return try source.read(into: UnsafeMutableRawBufferPointer(rebasing: raw[filled...]))
                } catch {
                    failure = error
                    return 0
                }
            }
            if let failure { throw failure }
            if count == 0 {
                if allowEndOfFile && end == 0 { return }
                throw ImageError.malformedArchive(path: path, reason: "truncated: unexpected end of file")
            }
            end += count
        }
    }

    // MARK: - Header fields

    private func verifyChecksum(_ header: [UInt8]) throws(ImageError) {
        var sum = 0
        for (index, byte) in header.enumerated() { sum += (index >= 148 && index < 156) ? 32 : Int(byte) }
        let stored = try number(header, 148, 8, field: "checksum")
        guard stored == Int64(sum) else {
            let name = string(header, 0, 100)
            throw ImageError.malformedArchive(
                path: path, reason: "header checksum mismatch at \"\(name)\" (corrupt or not a tar file)")
        }
    }

    /// An octal field, or GNU base-256 when the high bit of the first byte is set.
    private func number(_ header: [UInt8], _ offset: Int, _ length: Int, field: String) throws(ImageError) -> Int64 {
        let bytes = header[(header.startIndex + offset)..<(header.startIndex + offset + length)]
        if let first = bytes.first, first & 0x80 != 0 {
            var value: Int64 = Int64(first & 0x7f)
            for byte in bytes.dropFirst() {
                guard value < Int64.max >> 8 else {
                    throw ImageError.malformedArchive(path: path, reason: "\(field) field overflows")
                }
                value = value << 8 | Int64(byte)
            }
            return value
        }
        var value: Int64 = 0
        var seenDigit = false
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "7"):
                guard value < Int64.max >> 3 else {
                    throw ImageError.malformedArchive(path: path, reason: "\(field) field overflows")
                }
                value = value << 3 | Int64(byte - UInt8(ascii: "0"))
                seenDigit = true
            case 0, UInt8(ascii: " "):
                if seenDigit { return value }
            default:
                throw ImageError.malformedArchive(path: path, reason: "\(field) field is not octal")
            }
        }
        return value
    }

    private func string(_ header: [UInt8], _ offset: Int, _ length: Int) -> String {
        cString(Array(header[(header.startIndex + offset)..<(header.startIndex + offset + length)]))
    }

    private func cString(_ bytes: [UInt8]) -> String {
        String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
    }

    /// PAX records: `<length> <key>=<value>\n`.
    private func parsePAX(_ payload: [UInt8]) throws(ImageError) -> [String: String] {
        var records: [String: String] = [:]
        var index = 0
        while index < payload.count {
            guard let space = payload[index...].firstIndex(of: UInt8(ascii: " ")),
                let length = Int(String(decoding: payload[index..<space], as: UTF8.self)),
                length > space - index, index + length <= payload.count,
                payload[index + length - 1] == UInt8(ascii: "\n")
            else { throw ImageError.malformedArchive(path: path, reason: "malformed PAX header") }
            let record = payload[(space + 1)..<(index + length - 1)]
            guard let equals = record.firstIndex(of: UInt8(ascii: "=")) else {
                throw ImageError.malformedArchive(path: path, reason: "malformed PAX record")
            }
            records[String(decoding: record[record.startIndex..<equals], as: UTF8.self)] =
                String(decoding: record[(equals + 1)...], as: UTF8.self)
            index += length
        }
        return records
    }
}
