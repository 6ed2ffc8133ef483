public import Foundation

/// Signs requests with SigV4 the way botocore's `SigV4Auth` (headers) and `SigV4QueryAuth` (presigned URLs) do.
public struct SigV4Signer: Sendable {
    /// The key that signs.
    public var credentials: AWSCredentials
    /// The region of the credential scope, e.g. `us-east-1`.
    public var region: String
    /// The service of the credential scope, e.g. `ecs`.
    public var service: String

    /// A signer for one key, region and service.
    public init(credentials: AWSCredentials, region: String, service: String) {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// The headers to add: `Authorization`, `X-Amz-Date` and, when there is a session token, `X-Amz-Security-Token`;
    /// identical to botocore's `SigV4Auth` for the same inputs.
    ///
    /// Every header of `request` is signed except `Expect`, `Transfer-Encoding`, `User-Agent` and `X-Amzn-Trace-Id`
    /// (botocore's list); an `Authorization`, `X-Amz-Date` or (with a token) `X-Amz-Security-Token` already there is
    /// replaced, so the caller must drop those before adding the answer. The payload hash is `X-Amz-Content-SHA256`
    /// when the request has one, else the body's SHA-256.
    /// - Important: `request.headers` must include `Host`. Unlike botocore, a `Date` header is signed as given and not
    ///   rewritten (the timestamp is always `X-Amz-Date`).
    public func sign(_ request: SigV4Request, at date: Date) -> [(name: String, value: String)] {
        let timestamp = SigV4Timestamp.string(from: date)
        let replaced: Set<String> = ["authorization", "x-amz-date", "x-amz-security-token"]
        var headers = request.headers.filter { !replaced.contains($0.name.lowercased()) }
        var added: [(name: String, value: String)] = [("X-Amz-Date", timestamp)]
        if let token = credentials.sessionToken { added.append(("X-Amz-Security-Token", token)) }
        headers += added
        let signedHeaders = SigV4Canonical.signableHeaderNames(headers)
        let signature = signature(
            of: request, headers: headers, query: request.query, signedHeaders: signedHeaders, timestamp: timestamp)
        let authorization =
            "\(SigV4Canonical.algorithm) Credential=\(credentials.accessKeyID)/\(scope(timestamp)), "
            + "SignedHeaders=\(signedHeaders.joined(separator: ";")), Signature=\(signature)"
        return [("Authorization", authorization)] + added
    }

    /// The query string (without `?`) of a presigned URL for `request`, valid `expires` seconds from `date`: the
    /// request's own query, then `X-Amz-Algorithm`, `X-Amz-Credential`, `X-Amz-Date`, `X-Amz-Expires`,
    /// `X-Amz-SignedHeaders`, `X-Amz-Security-Token` (with a token) and `X-Amz-Signature`, as botocore's
    /// `SigV4QueryAuth` builds it.
    ///
    /// The headers of `request` (at least `Host`) are signed and must be sent as they are. The request's own query is
    /// kept as given (botocore re-encodes it and keeps the first of repeated names: same signature for a query that
    /// is already canonically encoded and has no repeats).
    public func presign(_ request: SigV4Request, at date: Date, expires: Int) -> String {
        let timestamp = SigV4Timestamp.string(from: date)
        let headers = request.headers
        let signedHeaders = SigV4Canonical.signableHeaderNames(headers)
        var authParameters = [
            ("X-Amz-Algorithm", SigV4Canonical.algorithm),
            ("X-Amz-Credential", "\(credentials.accessKeyID)/\(scope(timestamp))"),
            ("X-Amz-Date", timestamp),
            ("X-Amz-Expires", String(expires)),
            ("X-Amz-SignedHeaders", signedHeaders.joined(separator: ";")),
        ]
        if let token = credentials.sessionToken { authParameters.append(("X-Amz-Security-Token", token)) }
        let encoded = authParameters.map {
            "\($0.0)=\(SigV4Canonical.uriEncode(Array($0.1.utf8), keepingSlash: false))"
        }.joined(separator: "&")
        let query = request.query.isEmpty ? encoded : request.query + "&" + encoded
        let signature = signature(
            of: request, headers: headers, query: query, signedHeaders: signedHeaders, timestamp: timestamp)
        return query + "&X-Amz-Signature=" + signature
    }

    private func scope(_ timestamp: String) -> String {
        SigV4Canonical.scope(date: String(timestamp.prefix(8)), region: region, service: service)
    }

    private func signature(
        of request: SigV4Request, headers: [(name: String, value: String)], query: String, signedHeaders: [String],
        timestamp: String
    ) -> String {
        let payloadHash = request.values(of: "x-amz-content-sha256").first ?? SigV4Canonical.sha256Hex(request.body)
        let canonicalRequest = SigV4Canonical.canonicalRequest(
            method: request.method, path: request.path, query: query, headers: headers, signedHeaders: signedHeaders,
            payloadHash: payloadHash)
        let stringToSign = SigV4Canonical.stringToSign(
            timestamp: timestamp, scope: scope(timestamp), canonicalRequest: canonicalRequest)
        return SigV4Canonical.signature(
            secretAccessKey: credentials.secretAccessKey, date: String(timestamp.prefix(8)), region: region,
            service: service, stringToSign: stringToSign)
    }
}
