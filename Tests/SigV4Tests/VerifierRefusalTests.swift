import Foundation
import SigV4
import Testing

/// Every way `SigV4Verifier` refuses a request, with AWS's code, message and status.
@Suite("SigV4: refusals", .timeLimit(.minutes(10)))
struct VerifierRefusalTests {
    static let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
    static let signer = SigV4Signer(
        credentials: AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: secret), region: "us-east-1",
        service: "ecs")
    static let now = Date(timeIntervalSince1970: 1_796_299_200)  // 20261203T120000Z

    static func unsigned(body: String = #"{"cluster":"default"}"#) -> SigV4Request {
        SigV4Request(
            method: "POST", path: "/",
            headers: [
                ("Host", "localhost:8080"), ("Content-Type", "application/x-amz-json-1.1"),
                ("X-Amz-Target", "AmazonEC2ContainerServiceV20141113.ListServices"),
            ], body: Array(body.utf8))
    }

    static func signed(_ request: SigV4Request = unsigned(), at date: Date = now) -> SigV4Request {
        var request = request
        request.headers += signer.sign(request, at: date)
        return request
    }

    /// The failure of both steps, or nil when the request is accepted.
    static func refusal(
        _ request: SigV4Request, secret: String = secret, now: Date = now, region: String? = nil,
        allowUnsignedPayload: Bool = false
    ) -> SigV4Failure? {
        do {
            let authorization = try SigV4Verifier.authorization(of: request)
            try SigV4Verifier.verify(
                request, authorization, secretAccessKey: secret, now: now, region: region,
                allowUnsignedPayload: allowUnsignedPayload)
            return nil
        } catch {
            return error
        }
    }

    static func replacing(_ name: String, with value: String, in request: SigV4Request) -> SigV4Request {
        var request = request
        request.headers = request.headers.map { $0.name.lowercased() == name.lowercased() ? ($0.name, value) : $0 }
        return request
    }

    @Test func aSignedRequestIsAccepted() {
        #expect(Self.refusal(Self.signed()) == nil)
        #expect(Self.refusal(Self.signed(), region: "us-east-1") == nil)
    }

    @Test func unsigned() {
        let failure = Self.refusal(Self.unsigned())
        #expect(
            failure
                == SigV4Failure(
                    code: "MissingAuthenticationTokenException", message: "Missing Authentication Token",
                    httpStatus: 400))
    }

    @Test func garbageAuthorization() {
        var request = Self.unsigned()
        request.headers += [("Authorization", "Bearer abc"), ("X-Amz-Date", "20261203T120000Z")]
        #expect(
            Self.refusal(request)
                == SigV4Failure(
                    code: "IncompleteSignatureException",
                    message:
                        "'abc' not a valid key=value pair (missing equal-sign) in Authorization header: 'Bearer abc'.",
                    httpStatus: 400))
        request = Self.replacing("Authorization", with: "AWS4-HMAC-SHA256 Signature=00", in: request)
        request.headers.removeAll { $0.name == "X-Amz-Date" }
        #expect(
            Self.refusal(request)?.message
                == "Authorization header requires 'Credential' parameter. "
                + "Authorization header requires 'SignedHeaders' parameter. "
                + "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. "
                + "Authorization=AWS4-HMAC-SHA256 Signature=00")
        request = Self.replacing(
            "Authorization", with: "AWS4-HMAC-SHA1 Credential=a/b/c/d/e, SignedHeaders=host, Signature=00", in: request)
        request.headers.append(("X-Amz-Date", "20261203T120000Z"))
        #expect(
            Self.refusal(request)?.message
                == "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA1' (only AWS4-HMAC-SHA256 for now). ")
        request = Self.replacing(
            "Authorization", with: "AWS4-HMAC-SHA256 Credential=a/b/c/d, SignedHeaders=host, Signature=00", in: request)
        #expect(
            Self.refusal(request)?.message
                == "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got 'a/b/c/d'"
        )
        request = Self.replacing("X-Amz-Date", with: "201", in: request)
        #expect(
            Self.refusal(request)?.message
                == "Date must be in ISO-8601 'basic format'. Got '201'. See http://en.wikipedia.org/wiki/ISO_8601")
    }

    @Test func oversizedAuthorization() {
        var request = Self.signed()
        let names = (0..<65).map { "x-h\($0)" }.joined(separator: ";")
        request = Self.replacing(
            "Authorization",
            with: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261203/us-east-1/ecs/aws4_request, "
                + "SignedHeaders=\(names), Signature=00", in: request)
        #expect(Self.refusal(request)?.code == "IncompleteSignatureException")
        #expect(Self.refusal(request)?.message == "SignedHeaders names 65 headers; at most 64 are accepted.")
        request = Self.replacing(
            "Authorization", with: "AWS4-HMAC-SHA256 Credential=" + String(repeating: "A", count: 8200), in: request)
        #expect(Self.refusal(request)?.message == "Authorization header is longer than 8192 bytes.")
    }

    @Test func wrongSecret() {
        #expect(Self.refusal(Self.signed(), secret: "not-the-secret") == .signatureMismatch)
        #expect(
            SigV4Failure.signatureMismatch.message
                == "The request signature we calculated does not match the signature you provided. Check your AWS "
                + "Secret Access Key and signing method. Consult the service documentation for details.")
        #expect(SigV4Failure.signatureMismatch.code == "InvalidSignatureException")
    }

    @Test func alteredBody() {
        var request = Self.signed()
        request.body = Array(#"{"cluster":"other"}"#.utf8)
        #expect(Self.refusal(request) == .signatureMismatch)
    }

    @Test func alteredSignedHeader() {
        let request = Self.replacing(
            "X-Amz-Target", with: "AmazonEC2ContainerServiceV20141113.DeleteCluster", in: Self.signed())
        #expect(Self.refusal(request) == .signatureMismatch)
        // An unsigned header may change: it is not part of the signature.
        var extra = Self.signed()
        extra.headers.append(("User-Agent", "anything"))
        #expect(Self.refusal(extra) == nil)
    }

    @Test func unsignedHost() {
        var request = Self.signed()
        let authorization = request.values("Authorization").replacingOccurrences(
            of: "SignedHeaders=content-type;host;", with: "SignedHeaders=content-type;")
        request = Self.replacing("Authorization", with: authorization, in: request)
        #expect(
            Self.refusal(request)
                == SigV4Failure(
                    code: "InvalidSignatureException",
                    message: "'Host' must be a 'SignedHeader' in the AWS Authorization.", httpStatus: 400))
    }

    @Test func contentSHA256() {
        // A declared hash that is the body's is accepted (and signed)
        var request = Self.unsigned()
        request.headers.append(("X-Amz-Content-SHA256", SigV4Canonical.sha256Hex(request.body)))
        #expect(Self.refusal(Self.signed(request)) == nil)
        // A declared hash that is not the body's is refused before the signature
        var wrong = Self.unsigned()
        wrong.headers.append(("X-Amz-Content-SHA256", SigV4Canonical.emptySHA256))
        #expect(Self.refusal(Self.signed(wrong)) == .contentSHA256Mismatch)
        #expect(
            SigV4Failure.contentSHA256Mismatch
                == SigV4Failure(
                    code: "XAmzContentSHA256Mismatch",
                    message: "The provided 'x-amz-content-sha256' header does not match what was computed.",
                    httpStatus: 400))
        // UNSIGNED-PAYLOAD only when the caller allows it
        var unsignedPayload = Self.unsigned()
        unsignedPayload.headers.append(("X-Amz-Content-SHA256", "UNSIGNED-PAYLOAD"))
        #expect(Self.refusal(Self.signed(unsignedPayload)) == .contentSHA256Mismatch)
        #expect(Self.refusal(Self.signed(unsignedPayload), allowUnsignedPayload: true) == nil)
    }

    @Test func sixMinutesOfSkewEitherWay() {
        // Signed 6 minutes before the server's now
        let old = Self.refusal(Self.signed(at: Self.now.addingTimeInterval(-360)))
        #expect(
            old
                == SigV4Failure(
                    code: "InvalidSignatureException",
                    message:
                        "Signature expired: 20261203T115400Z is now earlier than 20261203T115500Z (20261203T120000Z - 5 min.)",
                    httpStatus: 400))
        // Signed 6 minutes after it
        let future = Self.refusal(Self.signed(at: Self.now.addingTimeInterval(360)))
        #expect(
            future?.message
                == "Signature not yet current: 20261203T120600Z is still later than 20261203T120500Z (20261203T120000Z + 5 min.)"
        )
        #expect(future?.code == "InvalidSignatureException")
        // Exactly 5 minutes is still accepted
        #expect(Self.refusal(Self.signed(at: Self.now.addingTimeInterval(-300))) == nil)
        #expect(Self.refusal(Self.signed(at: Self.now.addingTimeInterval(300))) == nil)
    }

    @Test func credentialScope() {
        // Wrong service and region
        let other = SigV4Signer(
            credentials: AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: Self.secret),
            region: "eu-west-1", service: "dynamodb")
        var request = Self.unsigned()
        request.headers += other.sign(request, at: Self.now)
        #expect(
            Self.refusal(request, region: "us-east-1")?.message
                == "Credential should be scoped to a valid region, not 'eu-west-1'. "
                + "Credential should be scoped to correct service: 'ecs'. ")
        #expect(Self.refusal(request)?.message == "Credential should be scoped to correct service: 'ecs'. ")
        // A scope date other than the request's
        var stale = Self.signed()
        stale = Self.replacing(
            "Authorization",
            with: stale.values("Authorization").replacingOccurrences(of: "/20261203/", with: "/20261202/"), in: stale)
        #expect(
            Self.refusal(stale)?.message
                == "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
                + "'20261202' != '20261203', from '20261203T120000Z'.")
    }

    @Test func unrecognizedClient() {
        #expect(
            SigV4Failure.unrecognizedClient
                == SigV4Failure(
                    code: "UnrecognizedClientException",
                    message: "The security token included in the request is invalid.",
                    httpStatus: 400))
    }

    @Test func bothForms() {
        var request = Self.signed()
        request.query = "X-Amz-Algorithm=AWS4-HMAC-SHA256"
        #expect(Self.refusal(request) == .bothAuthorizationForms)
    }

    @Test func aDateHeaderInsteadOfXAmzDate() throws {
        // Given a request dated by an HTTP Date header, signed over date;host
        var request = SigV4Request(
            method: "POST", path: "/", headers: [("Host", "h"), ("Date", "Thu, 03 Dec 2026 12:00:00 GMT")], body: [])
        let canonical = SigV4Canonical.canonicalRequest(
            method: "POST", path: "/", query: "", headers: request.headers, signedHeaders: ["date", "host"],
            payloadHash: SigV4Canonical.emptySHA256)
        let signature = SigV4Canonical.signature(
            secretAccessKey: Self.secret, date: "20261203", region: "us-east-1", service: "ecs",
            stringToSign: SigV4Canonical.stringToSign(
                timestamp: "20261203T120000Z", scope: "20261203/us-east-1/ecs/aws4_request",
                canonicalRequest: canonical))
        request.headers.append(
            (
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261203/us-east-1/ecs/aws4_request, SignedHeaders=date;host, "
                    + "Signature=\(signature)"
            ))
        // When parsed, Then its time is the Date header's, and it verifies
        let authorization = try SigV4Verifier.authorization(of: request)
        #expect(authorization.timestamp == "20261203T120000Z")
        #expect(Self.refusal(request) == nil)
        // And a Date header that is not an HTTP date is refused as AWS refuses a bad date
        #expect(
            Self.refusal(Self.replacing("Date", with: "yesterday", in: request))?.message
                == "Date must be in ISO-8601 'basic format'. Got 'yesterday'. See http://en.wikipedia.org/wiki/ISO_8601"
        )
    }

    // MARK: - Presigned

    static func presigned(at date: Date = now, expires: Int = 300) -> SigV4Request {
        var request = SigV4Request(
            method: "GET", path: "/v2/repo/manifests/latest", query: "tag=a%20b", headers: [("Host", "registry:5000")],
            body: [])
        request.query = signer.presign(request, at: date, expires: expires)
        return request
    }

    @Test func presignedURL() throws {
        // Accepted until its expiry
        #expect(Self.refusal(Self.presigned()) == nil)
        #expect(Self.refusal(Self.presigned(), now: Self.now.addingTimeInterval(300)) == nil)
        let authorization = try SigV4Verifier.authorization(of: Self.presigned())
        #expect(authorization.isPresigned && authorization.expires == 300 && authorization.accessKeyID == "AKIDEXAMPLE")
        // Refused one second after
        #expect(
            Self.refusal(Self.presigned(), now: Self.now.addingTimeInterval(301))
                == SigV4Failure(
                    code: "InvalidSignatureException",
                    message:
                        "Signature expired: 20261203T120000Z is now earlier than 20261203T120001Z (20261203T120501Z - 300 sec.)",
                    httpStatus: 400))
        // A changed query parameter breaks the signature
        var altered = Self.presigned()
        altered.query = altered.query.replacingOccurrences(of: "tag=a%20b", with: "tag=c")
        #expect(Self.refusal(altered) == .signatureMismatch)
        // Missing parameters, and a week's limit
        var partial = Self.presigned()
        partial.query = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20261203T120000Z"
        #expect(
            Self.refusal(partial)?.message
                == "AWS query-string parameters must include 'X-Amz-Credential'. AWS query-string parameters must "
                + "include 'X-Amz-Signature'. AWS query-string parameters must include 'X-Amz-SignedHeaders'. "
                + "Re-examine the query-string parameters.")
        #expect(Self.refusal(Self.presigned(expires: 604_801))?.code == "IncompleteSignatureException")
    }
}

extension SigV4Request {
    func values(_ name: String) -> String {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value ?? ""
    }
}
