/// Builds a ustar archive in memory, deterministically: the bytes depend only on the entries added, in order.
///
/// Used for the busybox image and for test images. Names longer than ustar allows get a PAX `path` record.
public struct TarWriter: Sendable {
    public private(set) var bytes: [UInt8] = []

    public struct Metadata: Sendable {
        public var mode: UInt32
        public var uid: UInt32 = 0
        public var gid: UInt32 = 0
        public var modificationTime: Int64 = 0

        public init(mode: UInt32, uid: UInt32 = 0, gid: UInt32 = 0, modificationTime: Int64 = 0) {
            self.mode = mode
            self.uid = uid
            self.gid = gid
            self.modificationTime = modificationTime
        }
    }

    public init() {}

    public mutating func addDirectory(_ path: String, mode: UInt32 = 0o755, uid: UInt32 = 0, gid: UInt32 = 0) {
        let name = path.hasSuffix("/") ? path : path + "/"
        addEntry(name, type: UInt8(ascii: "5"), metadata: .init(mode: mode, uid: uid, gid: gid), data: [])
    }

    public mutating func addFile(
        _ path: String, contents: some Collection<UInt8>, mode: UInt32 = 0o644, uid: UInt32 = 0, gid: UInt32 = 0
    ) {
        addEntry(path, type: UInt8(ascii: "0"), metadata: .init(mode: mode, uid: uid, gid: gid), data: Array(contents))
    }

    public mutating func addSymlink(_ path: String, target: String) {
        addEntry(path, type: UInt8(ascii: "2"), metadata: .init(mode: 0o777), data: [], linkTarget: target)
    }

    public mutating func addHardlink(_ path: String, target: String) {
        addEntry(path, type: UInt8(ascii: "1"), metadata: .init(mode: 0o644), data: [], linkTarget: target)
    }

    public mutating func addCharacterDevice(_ path: String, major: UInt32, minor: UInt32, mode: UInt32 = 0o666) {
        addEntry(path, type: UInt8(ascii: "3"), metadata: .init(mode: mode), data: [], device: (major, minor))
    }

    /// Appends the end-of-archive marker (two zero blocks) and returns the archive.
    public mutating func finish() -> [UInt8] {
        bytes.append(contentsOf: [UInt8](repeating: 0, count: 1024))
        return bytes
    }

    /// Appends a raw entry; the type is a ustar type flag. Exposed for tests that need unusual entries.
    public mutating func addEntry(
        _ path: String, type: UInt8, metadata: Metadata, data: [UInt8],
        linkTarget: String = "", device: (UInt32, UInt32) = (0, 0)
    ) {
        var pax: [(String, String)] = []
        if path.utf8.count > 100 { pax.append(("path", path)) }
        if linkTarget.utf8.count > 100 { pax.append(("linkpath", linkTarget)) }
        if !pax.isEmpty {
            var records: [UInt8] = []
            for (key, value) in pax {
                let body = " \(key)=\(value)\n"
                var length = body.utf8.count + 1
                while String(length).utf8.count + body.utf8.count > length { length += 1 }
                records.append(contentsOf: Array((String(length) + body).utf8))
            }
            appendHeader(
                "PaxHeader", type: UInt8(ascii: "x"), metadata: .init(mode: 0o644), size: records.count,
                linkTarget: "", device: (0, 0))
            appendData(records)
        }
        appendHeader(path, type: type, metadata: metadata, size: data.count, linkTarget: linkTarget, device: device)
        appendData(data)
    }

    private mutating func appendData(_ data: [UInt8]) {
        bytes.append(contentsOf: data)
        bytes.append(contentsOf: [UInt8](repeating: 0, count: (512 - data.count % 512) % 512))
    }

    private mutating func appendHeader(
        _ path: String, type: UInt8, metadata: Metadata, size: Int,
        linkTarget: String, device: (UInt32, UInt32)
    ) {
        var header = [UInt8](repeating: 0, count: 512)
        func put(_ value: some Collection<UInt8>, at offset: Int, length: Int) {
            for (index, byte) in value.prefix(length).enumerated() { header[offset + index] = byte }
        }
        func octal(_ value: Int64, at offset: Int, length: Int) {
            let digits = String(value, radix: 8)
            let padded = String(repeating: "0", count: max(0, length - 1 - digits.count)) + digits
            put(Array(padded.utf8), at: offset, length: length - 1)
        }
        put(Array(path.utf8), at: 0, length: 100)
        octal(Int64(metadata.mode), at: 100, length: 8)
        octal(Int64(metadata.uid), at: 108, length: 8)
        octal(Int64(metadata.gid), at: 116, length: 8)
        octal(Int64(size), at: 124, length: 12)
        octal(metadata.modificationTime, at: 136, length: 12)
        header[156] = type
        put(Array(linkTarget.utf8), at: 157, length: 100)
        put(Array("ustar\u{0}00".utf8), at: 257, length: 8)
        octal(Int64(device.0), at: 329, length: 8)
        octal(Int64(device.1), at: 337, length: 8)
        for index in 148..<156 { header[index] = UInt8(ascii: " ") }
        let sum = header.reduce(0) { $0 + Int($1) }
        octal(Int64(sum), at: 148, length: 7)
        header[154] = 0
        header[155] = UInt8(ascii: " ")
        bytes.append(contentsOf: header)
    }
}
