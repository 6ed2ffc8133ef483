import FlotillaDigest
public import Foundation

/// Checks SigV4 signatures as an AWS JSON service does, in two steps: `authorization(of:)` says who claims to have
/// signed (no secret needed), the caller looks the key up, and `verify` checks the claim with the key's secret.
///
/// Both the `Authorization` header and the presigned query-string form are accepted. Failures carry AWS's codes and
/// messages (`SigV4Failure`), checked in AWS's order: presence, completeness, date format, algorithm, credential
/// shape; then (verify) the clock, `host` signed, the scope, the payload hash, the signature.
public enum SigV4Verifier {
    /// The longest `Authorization` header accepted (and the longest the `X-Amz-*` query parameters may be together).
    public static let maximumAuthorizationBytes = 8192
    /// The most signed headers accepted.
    public static let maximumSignedHeaders = 64
    /// How far the request's time may be from the server's, either way.
    public static let allowedSkew: TimeInterval = 5 * 60
    /// The longest `X-Amz-Expires` accepted: a week, as AWS.
    public static let maximumExpires = 604_800

    // MARK: - Step 1

    /// Who claims to have signed `request`: the parsed header or presigned query parameters.
    ///
    /// Throws `MissingAuthenticationTokenException` when neither form is there, `InvalidSignatureException` when both
    /// are, and `IncompleteSignatureException` for a missing part, a malformed date, an unsupported algorithm, a
    /// credential without five parts, or more than `maximumAuthorizationBytes` / `maximumSignedHeaders`.
    public static func authorization(of request: SigV4Request) throws(SigV4Failure) -> SigV4Authorization {
        let headers = request.values(of: "authorization")
        let query = queryParameters(request.query)
        let isPresigned = query.contains { $0.name == "X-Amz-Algorithm" }
        switch (headers.isEmpty, isPresigned) {
        case (true, false): throw .missingAuthenticationToken
        case (false, true): throw .bothAuthorizationForms
        case (false, false):
            guard headers.count == 1 else { throw .incomplete("More than one Authorization header.") }
            return try headerAuthorization(headers[0], request: request)
        case (true, true):
            return try queryAuthorization(query, request: request)
        }
    }

    private static func headerAuthorization(
        _ header: String, request: SigV4Request
    ) throws(SigV4Failure)
        -> SigV4Authorization
    {
        guard header.utf8.count <= maximumAuthorizationBytes else {
            throw .incomplete("Authorization header is longer than \(maximumAuthorizationBytes) bytes.")
        }
        let tokens = header.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "\t" })
        let algorithm = tokens.first.map(String.init) ?? ""
        var parameters: [String: String] = [:]
        for token in tokens.dropFirst() {
            guard let equals = token.firstIndex(of: "=") else {
                throw .incomplete(
                    "'\(token)' not a valid key=value pair (missing equal-sign) in Authorization header: '\(header)'.")
            }
            parameters[String(token[..<equals])] = String(token[token.index(after: equals)...])
        }
        let amzDate = request.values(of: "x-amz-date").first
        let httpDate = request.values(of: "date").first
        var missing = ""
        for name in ["Credential", "Signature", "SignedHeaders"] where (parameters[name] ?? "").isEmpty {
            missing += "Authorization header requires '\(name)' parameter. "
        }
        if amzDate == nil && httpDate == nil {
            missing += "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. "
        }
        guard missing.isEmpty else { throw .incomplete(missing + "Authorization=" + header) }
        let timestamp: String
        if let amzDate {
            timestamp = try basicTimestamp(amzDate)
        } else if let httpDate, let date = SigV4Timestamp.date(fromHTTPDate: httpDate) {
            timestamp = SigV4Timestamp.string(from: date)
        } else {
            throw dateFormat(httpDate ?? "")
        }
        return try authorization(
            algorithm: algorithm, credential: parameters["Credential"] ?? "",
            signedHeaders: parameters["SignedHeaders"] ?? "", signature: parameters["Signature"] ?? "",
            timestamp: timestamp, expires: nil, securityToken: request.values(of: "x-amz-security-token").first,
            isPresigned: false)
    }

    private static func queryAuthorization(
        _ query: [(name: String, value: String)], request: SigV4Request
    )
        throws(SigV4Failure) -> SigV4Authorization
    {
        let authParameters = query.filter { $0.name.hasPrefix("X-Amz-") }
        guard authParameters.reduce(0, { $0 + $1.value.utf8.count }) <= maximumAuthorizationBytes else {
            throw .incomplete("The X-Amz-* query-string parameters are longer than \(maximumAuthorizationBytes) bytes.")
        }
        func value(_ name: String) -> String? { query.first { $0.name == name }?.value }
        var missing = ""
        for name in ["X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-SignedHeaders", "X-Amz-Date"]
        where (value(name) ?? "").isEmpty {
            missing += "AWS query-string parameters must include '\(name)'. "
        }
        guard missing.isEmpty else { throw .incomplete(missing + "Re-examine the query-string parameters.") }
        let timestamp = try basicTimestamp(value("X-Amz-Date") ?? "")
        var expires: Int?
        if let text = value("X-Amz-Expires") {
            guard let seconds = Int(text) else { throw .incomplete("X-Amz-Expires should be a number") }
            guard seconds >= 0 else { throw .incomplete("X-Amz-Expires must be non-negative") }
            guard seconds <= maximumExpires else {
                throw .incomplete(
                    "X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be "
                        + "less than 604800 seconds")
            }
            expires = seconds
        }
        return try authorization(
            algorithm: value("X-Amz-Algorithm") ?? "", credential: value("X-Amz-Credential") ?? "",
            signedHeaders: value("X-Amz-SignedHeaders") ?? "", signature: value("X-Amz-Signature") ?? "",
            timestamp: timestamp, expires: expires, securityToken: value("X-Amz-Security-Token"), isPresigned: true)
    }

    private static func authorization(
        algorithm: String, credential: String, signedHeaders: String, signature: String, timestamp: String,
        expires: Int?, securityToken: String?, isPresigned: Bool
    ) throws(SigV4Failure) -> SigV4Authorization {
        guard algorithm == SigV4Canonical.algorithm else {
            throw .incomplete("Unsupported AWS 'algorithm': '\(algorithm)' (only AWS4-HMAC-SHA256 for now). ")
        }
        var trimmed = Substring(credential)
        while trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }  // AWS ignores trailing slashes
        let parts = trimmed.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 5 else {
            throw .incomplete(
                "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, "
                    + "got '\(credential)'")
        }
        let names = signedHeaders.split(separator: ";", omittingEmptySubsequences: false)
        guard names.count <= maximumSignedHeaders else {
            throw .incomplete(
                "SignedHeaders names \(names.count) headers; at most \(maximumSignedHeaders) are accepted.")
        }
        return SigV4Authorization(
            accessKeyID: parts[0], date: parts[1], region: parts[2], service: parts[3],
            signedHeaders: names.map { $0.lowercased() }, signature: signature, timestamp: timestamp,
            terminator: parts[4], expires: expires, securityToken: securityToken, isPresigned: isPresigned)
    }

    private static func basicTimestamp(_ text: String) throws(SigV4Failure) -> String {
        guard SigV4Timestamp.date(from: text) != nil else { throw dateFormat(text) }
        return text
    }

    private static func dateFormat(_ text: String) -> SigV4Failure {
        .incomplete("Date must be in ISO-8601 'basic format'. Got '\(text)'. See http://en.wikipedia.org/wiki/ISO_8601")
    }

    // MARK: - Step 2

    /// Checks `authorization` (from `authorization(of:)`) against `request` with the key's secret.
    ///
    /// In order: the time (at most `allowedSkew` either way from `now`; a presigned URL with `X-Amz-Expires` is
    /// refused once `now` is past its date plus that, and `allowedSkew` before its date), that `host` is signed, the
    /// credential scope (`service` and, when given, `region`; the scope's date against the request's), the payload
    /// (`x-amz-content-sha256`, when sent, must be the body's SHA-256; `UNSIGNED-PAYLOAD` is refused unless
    /// `allowUnsignedPayload`, which only a service whose bodies are authenticated otherwise should pass), then the
    /// signature, compared in constant time.
    /// - Parameters:
    ///   - service: the service name the scope must name (`ecs` by default).
    ///   - region: the region the scope must name, or nil to accept any (the control plane takes its region from
    ///     the scope).
    public static func verify(
        _ request: SigV4Request, _ authorization: SigV4Authorization, secretAccessKey: String, now: Date,
        service: String = "ecs", region: String? = nil, allowUnsignedPayload: Bool = false
    ) throws(SigV4Failure) {
        guard let signedAt = SigV4Timestamp.date(from: authorization.timestamp) else {
            throw dateFormat(authorization.timestamp)
        }
        try checkTime(signedAt, timestamp: authorization.timestamp, expires: authorization.expires, now: now)
        guard authorization.signedHeaders.contains("host") else { throw .hostNotSigned }
        try checkScope(authorization, service: service, region: region)

        var payloadHash = SigV4Canonical.sha256Hex(request.body)
        if let declared = request.values(of: "x-amz-content-sha256").first {
            if declared == SigV4Canonical.unsignedPayload {
                guard allowUnsignedPayload else { throw .contentSHA256Mismatch }
                payloadHash = declared
            } else if declared != payloadHash {
                throw .contentSHA256Mismatch
            }
        }
        let query = authorization.isPresigned ? removingSignature(request.query) : request.query
        let canonicalRequest = SigV4Canonical.canonicalRequest(
            method: request.method, path: request.path, query: query, headers: request.headers,
            signedHeaders: authorization.signedHeaders, payloadHash: payloadHash)
        let scope = SigV4Canonical.scope(
            date: authorization.date, region: authorization.region, service: authorization.service)
        let stringToSign = SigV4Canonical.stringToSign(
            timestamp: authorization.timestamp, scope: scope, canonicalRequest: canonicalRequest)
        let expected = SigV4Canonical.signature(
            secretAccessKey: secretAccessKey, date: authorization.date, region: authorization.region,
            service: authorization.service, stringToSign: stringToSign)
        guard constantTimeEqual(expected, authorization.signature) else { throw .signatureMismatch }
    }

    private static func checkTime(
        _ signedAt: Date, timestamp: String, expires: Int?, now: Date
    )
        throws(SigV4Failure)
    {
        let nowText = SigV4Timestamp.string(from: now)
        let latest = now.addingTimeInterval(allowedSkew)
        if signedAt > latest {
            throw .invalid(
                "Signature not yet current: \(timestamp) is still later than \(SigV4Timestamp.string(from: latest)) "
                    + "(\(nowText) + 5 min.)")
        }
        if let expires {
            let earliest = now.addingTimeInterval(-TimeInterval(expires))
            if signedAt < earliest {
                throw .invalid(
                    "Signature expired: \(timestamp) is now earlier than \(SigV4Timestamp.string(from: earliest)) "
                        + "(\(nowText) - \(expires) sec.)")
            }
        } else {
            let earliest = now.addingTimeInterval(-allowedSkew)
            if signedAt < earliest {
                throw .invalid(
                    "Signature expired: \(timestamp) is now earlier than \(SigV4Timestamp.string(from: earliest)) "
                        + "(\(nowText) - 5 min.)")
            }
        }
    }

    private static func checkScope(
        _ authorization: SigV4Authorization, service: String, region: String?
    )
        throws(SigV4Failure)
    {
        var message = ""
        if let region, authorization.region != region {
            message += "Credential should be scoped to a valid region, not '\(authorization.region)'. "
        }
        if authorization.service != service {
            message += "Credential should be scoped to correct service: '\(service)'. "
        }
        if authorization.terminator != SigV4Canonical.terminator {
            message +=
                "Credential should be scoped with a valid terminator: 'aws4_request', "
                + "not '\(authorization.terminator)'. "
        }
        let day = String(authorization.timestamp.prefix(8))
        if authorization.date != day {
            message +=
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
                + "'\(authorization.date)' != '\(day)', from '\(authorization.timestamp)'."
        }
        guard message.isEmpty else { throw .invalid(message) }
    }

    // MARK: - Query

    /// The query's pairs with names and values percent-decoded.
    static func queryParameters(_ query: String) -> [(name: String, value: String)] {
        guard !query.isEmpty else { return [] }
        return query.split(separator: "&").map { pair in
            let (name, value) = SigV4Canonical.splitPair(pair)
            return (SigV4Canonical.percentDecodedString(name), SigV4Canonical.percentDecodedString(value))
        }
    }

    /// The raw query without its `X-Amz-Signature` pairs.
    static func removingSignature(_ query: String) -> String {
        query.split(separator: "&", omittingEmptySubsequences: false).filter { pair in
            SigV4Canonical.percentDecodedString(SigV4Canonical.splitPair(pair).0) != "X-Amz-Signature"
        }.joined(separator: "&")
    }
}
