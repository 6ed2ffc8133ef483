/// Who claims to have signed a request, and how: a parsed
/// `Authorization: AWS4-HMAC-SHA256 Credential=AKID/20261203/us-east-1/ecs/aws4_request, SignedHeaders=..., Signature=...`
/// or the same fields from a presigned URL's `X-Amz-*` query parameters.
public struct SigV4Authorization: Sendable, Hashable {
    /// The credential's access key id: the caller looks its secret up (and answers
    /// `SigV4Failure.unrecognizedClient` when there is none).
    public var accessKeyID: String
    /// The credential scope's date, `YYYYMMDD` as sent (checked against `timestamp` by `verify`).
    public var date: String
    /// The credential scope's region as sent.
    public var region: String
    /// The credential scope's service as sent.
    public var service: String
    /// The signed header names, lowercased, in the order sent.
    public var signedHeaders: [String]
    /// The signature as sent (64 lowercase hex digits when well-formed).
    public var signature: String
    /// The request's time, ISO 8601 basic (`20261203T120000Z`): `X-Amz-Date` (header or query), else the `Date`
    /// header converted.
    public var timestamp: String
    /// The credential scope's terminator as sent (`aws4_request` when well-formed).
    public var terminator: String
    /// `X-Amz-Expires` of a presigned URL, in seconds (nil for the header form, or a URL without it).
    public var expires: Int?
    /// The session token (`X-Amz-Security-Token` header or query parameter), for the caller to check with the key.
    public var securityToken: String?
    /// True for the query-string (presigned URL) form.
    public var isPresigned: Bool

    /// An authorization from its parts.
    public init(
        accessKeyID: String, date: String, region: String, service: String, signedHeaders: [String],
        signature: String, timestamp: String, terminator: String = SigV4Canonical.terminator, expires: Int? = nil,
        securityToken: String? = nil, isPresigned: Bool = false
    ) {
        self.accessKeyID = accessKeyID
        self.date = date
        self.region = region
        self.service = service
        self.signedHeaders = signedHeaders
        self.signature = signature
        self.timestamp = timestamp
        self.terminator = terminator
        self.expires = expires
        self.securityToken = securityToken
        self.isPresigned = isPresigned
    }

    /// `accessKeyID/date/region/service/terminator`.
    public var credential: String { "\(accessKeyID)/\(date)/\(region)/\(service)/\(terminator)" }
}
