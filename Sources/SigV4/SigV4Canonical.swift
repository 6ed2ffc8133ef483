import FlotillaDigest

/// The SigV4 algorithm's pieces, shared by the signer and the verifier: canonical request, string to sign, signing
/// key. Non-S3 rules throughout (botocore's `SigV4Auth`): the path is normalized and URI-encoded again.
public enum SigV4Canonical {
    /// `AWS4-HMAC-SHA256`, the only algorithm.
    public static let algorithm = "AWS4-HMAC-SHA256"
    /// The credential scope's terminator.
    public static let terminator = "aws4_request"
    /// The SHA-256 of no bytes, hex.
    public static let emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    /// The payload hash of a request whose body is not signed.
    public static let unsignedPayload = "UNSIGNED-PAYLOAD"
    /// Headers botocore never signs (hop-by-hop or rewritten by proxies).
    static let unsignedHeaderNames: Set<String> = ["expect", "transfer-encoding", "user-agent", "x-amzn-trace-id"]

    // MARK: - Canonical request

    /// The canonical request: method, canonical path, canonical query, canonical headers, signed headers, payload hash.
    public static func canonicalRequest(
        method: String, path: String, query: String, headers: [(name: String, value: String)],
        signedHeaders: [String], payloadHash: String
    ) -> String {
        [
            method.uppercased(),
            canonicalPath(path),
            canonicalQuery(query),
            canonicalHeaders(headers, signedHeaders: signedHeaders) + "\n",
            signedHeaders.joined(separator: ";"),
            payloadHash,
        ].joined(separator: "\n")
    }

    /// The string to sign: algorithm, timestamp, scope, the canonical request's SHA-256.
    public static func stringToSign(timestamp: String, scope: String, canonicalRequest: String) -> String {
        [algorithm, timestamp, scope, SHA256.hex(canonicalRequest.utf8)].joined(separator: "\n")
    }

    /// `date/region/service/aws4_request`.
    public static func scope(date: String, region: String, service: String) -> String {
        "\(date)/\(region)/\(service)/\(terminator)"
    }

    /// HMAC-SHA256 of the string to sign under the key derived from the secret, date, region and service; hex.
    public static func signature(
        secretAccessKey: String, date: String, region: String, service: String, stringToSign: String
    ) -> String {
        var key = Array(("AWS4" + secretAccessKey).utf8)
        for part in [date, region, service, terminator] {
            key = HMACSHA256.code(key: key, message: Array(part.utf8))
        }
        return Hex.encode(HMACSHA256.code(key: key, message: Array(stringToSign.utf8)))
    }

    /// The SHA-256 of `bytes`, lowercase hex.
    public static func sha256Hex(_ bytes: [UInt8]) -> String { SHA256.hex(bytes) }

    // MARK: - Path, query, headers

    /// The path with dot segments and empty segments removed (RFC 3986 5.2.4 plus AWS's collapsing of `//`), then
    /// every byte but unreserved ones and `/` percent-encoded: the wire path's own escapes are encoded again
    /// (`%20` → `%2520`), as every non-S3 service expects.
    public static func canonicalPath(_ path: String) -> String {
        guard !path.isEmpty else { return "/" }
        var segments: [Substring] = []
        for segment in path.split(separator: "/", omittingEmptySubsequences: true) {
            switch segment {
            case ".": continue
            case "..": if !segments.isEmpty { segments.removeLast() }
            default: segments.append(segment)
            }
        }
        var normalized = path.hasPrefix("/") ? "/" : ""
        normalized += segments.joined(separator: "/")
        if path.hasSuffix("/") && !segments.isEmpty { normalized += "/" }
        if normalized.isEmpty { normalized = "/" }
        return uriEncode(Array(normalized.utf8), keepingSlash: true)
    }

    /// The query's `name=value` pairs, each side percent-decoded then encoded with the unreserved set, sorted by
    /// encoded name then value, joined with `&`. A pair without `=` has an empty value.
    public static func canonicalQuery(_ query: String) -> String {
        guard !query.isEmpty else { return "" }
        var pairs: [(name: String, value: String)] = []
        for pair in query.split(separator: "&", omittingEmptySubsequences: false) {
            let (rawName, rawValue) = splitPair(pair)
            let name = uriEncode(percentDecode(rawName), keepingSlash: false)
            pairs.append((name, uriEncode(percentDecode(rawValue), keepingSlash: false)))
        }
        pairs.sort {
            $0.name == $1.name
                ? $0.value.utf8.lexicographicallyPrecedes($1.value.utf8)
                : $0.name.utf8.lexicographicallyPrecedes($1.name.utf8)
        }
        return pairs.map { "\($0.name)=\($0.value)" }.joined(separator: "&")
    }

    /// `name:value` lines for the signed headers in the order given: each value trimmed with inner whitespace runs
    /// collapsed to one space, repeats joined with `,`. A signed header the request lacks has an empty value.
    public static func canonicalHeaders(_ headers: [(name: String, value: String)], signedHeaders: [String]) -> String {
        signedHeaders.map { name in
            let values = headers.filter { $0.name.lowercased() == name }.map { trimAll($0.value) }
            return "\(name):\(values.joined(separator: ","))"
        }.joined(separator: "\n")
    }

    /// The lowercase names of `headers` SigV4 signs, sorted, without repeats (botocore's `headers_to_sign`).
    static func signableHeaderNames(_ headers: [(name: String, value: String)]) -> [String] {
        Set(headers.map { $0.name.lowercased() }).subtracting(unsignedHeaderNames).sorted {
            $0.utf8.lexicographicallyPrecedes($1.utf8)
        }
    }

    /// Whitespace runs collapsed to one space, none at either end (Python's `' '.join(value.split())`).
    static func trimAll(_ value: String) -> String {
        var result = ""
        var pendingSpace = false
        for scalar in value.unicodeScalars {
            if scalar.properties.isWhitespace || (0x1C...0x1F).contains(scalar.value) {
                pendingSpace = !result.isEmpty
            } else {
                if pendingSpace { result.append(" ") }
                pendingSpace = false
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    static func splitPair(_ pair: Substring) -> (Substring, Substring) {
        guard let equals = pair.firstIndex(of: "=") else { return (pair, "") }
        return (pair[..<equals], pair[pair.index(after: equals)...])
    }

    // MARK: - Encoding

    /// RFC 3986 unreserved bytes stay, every other byte becomes `%XX` (uppercase); `/` stays when `keepingSlash`.
    public static func uriEncode(_ bytes: [UInt8], keepingSlash: Bool) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        for byte in bytes {
            if isUnreserved(byte) || (keepingSlash && byte == UInt8(ascii: "/")) {
                out.append(byte)
            } else {
                out.append(UInt8(ascii: "%"))
                out.append(hexDigitsUpper[Int(byte >> 4)])
                out.append(hexDigitsUpper[Int(byte & 0x0F)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `%XX` escapes decoded; a `%` not followed by two hex digits stays as it is.
    static func percentDecode(_ text: Substring) -> [UInt8] {
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "%"), index + 2 < bytes.count,
                let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2])
            {
                out.append(high << 4 | low)
                index += 3
            } else {
                out.append(bytes[index])
                index += 1
            }
        }
        return out
    }

    /// A decoded query value as a string (invalid UTF-8 replaced).
    static func percentDecodedString(_ text: Substring) -> String {
        String(decoding: percentDecode(text), as: UTF8.self)
    }

    static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
            UInt8(ascii: "~"):
            true
        default: false
        }
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// Percent-encoding's digits are uppercase (RFC 3986 2.1); digests' are `Hex.encode`'s lowercase.
    private static let hexDigitsUpper = Array("0123456789ABCDEF".utf8)
}
