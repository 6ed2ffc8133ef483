/// Why a request's signature was refused, as AWS's JSON-protocol services answer it: the `__type` (`code`), the
/// `message`, and the HTTP status.
///
/// The codes and messages are AWS's own words (as AWS's JSON 1.0/1.1 services such as DynamoDB, Kinesis, ECR and ECS
/// answer them); AWS's JSON services answer these failures with HTTP 400, not 403 (403 is the REST and query
/// protocols'). Messages that AWS has no words for (our size bounds) say so in their doc comment.
public struct SigV4Failure: Error, Sendable, Hashable, CustomStringConvertible {
    /// The error's `__type`, e.g. `InvalidSignatureException`.
    public var code: String
    /// The error's `message`.
    public var message: String
    /// The HTTP status to answer with.
    public var httpStatus: Int

    /// A failure from its parts.
    public init(code: String, message: String, httpStatus: Int = 400) {
        self.code = code
        self.message = message
        self.httpStatus = httpStatus
    }

    /// `code: message`, one line.
    public var description: String { "\(code): \(message)" }

    // MARK: - Codes

    /// No `Authorization` header and no `X-Amz-Algorithm` query parameter.
    public static let missingAuthenticationTokenCode = "MissingAuthenticationTokenException"
    /// A part of the signature is missing or malformed.
    public static let incompleteSignatureCode = "IncompleteSignatureException"
    /// The signature, its date or its scope is wrong.
    public static let invalidSignatureCode = "InvalidSignatureException"
    /// The access key id (or the session token) is not known.
    public static let unrecognizedClientCode = "UnrecognizedClientException"
    /// `x-amz-content-sha256` is not the body's SHA-256 (S3's code and words: AWS's JSON services have none).
    public static let contentSHA256MismatchCode = "XAmzContentSHA256Mismatch"

    // MARK: - The failures

    /// The request carries no signature at all.
    public static let missingAuthenticationToken = SigV4Failure(
        code: missingAuthenticationTokenCode, message: "Missing Authentication Token")

    /// The access key id is not one the server knows: the caller raises this after `SigV4Verifier.authorization(of:)`
    /// named a key it cannot find (and for a session token it does not accept).
    public static let unrecognizedClient = SigV4Failure(
        code: unrecognizedClientCode, message: "The security token included in the request is invalid.")

    /// The signature does not match the one computed with the key's secret.
    public static let signatureMismatch = SigV4Failure(
        code: invalidSignatureCode,
        message: "The request signature we calculated does not match the signature you provided. "
            + "Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")

    /// Both forms of signature at once.
    public static let bothAuthorizationForms = SigV4Failure(
        code: invalidSignatureCode,
        message: "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header.")

    /// `host` is not among the signed headers.
    public static let hostNotSigned = SigV4Failure(
        code: invalidSignatureCode, message: "'Host' must be a 'SignedHeader' in the AWS Authorization.")

    /// `x-amz-content-sha256` differs from the body's SHA-256, or is `UNSIGNED-PAYLOAD` where that is not allowed.
    public static let contentSHA256Mismatch = SigV4Failure(
        code: contentSHA256MismatchCode,
        message: "The provided 'x-amz-content-sha256' header does not match what was computed.")

    static func incomplete(_ message: String) -> SigV4Failure {
        SigV4Failure(code: incompleteSignatureCode, message: message)
    }

    static func invalid(_ message: String) -> SigV4Failure {
        SigV4Failure(code: invalidSignatureCode, message: message)
    }
}
