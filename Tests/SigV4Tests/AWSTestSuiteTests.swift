import Foundation
import SigV4
import Testing

/// AWS's published SigV4 test suite (docs.aws.amazon.com/general/latest/gr/signature-v4-test-suite.html, 2015
/// edition): each request signed with AKIDEXAMPLE at 20150830T123600Z for us-east-1/service, checked for the
/// canonical request, the string to sign and the Authorization header, then accepted by the verifier.
@Suite("SigV4: AWS's test suite", .timeLimit(.minutes(10)))
struct AWSTestSuiteTests {
    struct Vector: Sendable, CustomTestStringConvertible {
        var name: String
        var method: String
        var target: String  // path and query as in the request line
        var headers: [String]  // "Name:value", in order (repeats allowed)
        var body: String = ""
        var canonicalRequest: String?  // nil where the suite's file disagrees with its own signature
        var stringToSignHash: String?
        var signedHeaders: String = "host;x-amz-date"
        var signature: String
        var testDescription: String { name }
    }

    static let credentials = AWSCredentials(
        accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    static let date = Date(timeIntervalSince1970: 1_440_938_160)  // 20150830T123600Z
    static let host = "Host:example.amazonaws.com"
    static let amzDate = "X-Amz-Date:20150830T123600Z"
    static let empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    static let token =
        "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA=="

    static func plain(_ method: String, _ path: String, _ query: String = "") -> String {
        "\(method)\n\(path)\n\(query)\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n\(empty)"
    }

    static let vectors: [Vector] = [
        Vector(
            name: "get-vanilla", method: "GET", target: "/", headers: [host, amzDate],
            canonicalRequest: plain("GET", "/"),
            stringToSignHash: "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
            signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
        Vector(
            name: "post-vanilla", method: "POST", target: "/", headers: [host, amzDate],
            canonicalRequest: plain("POST", "/"),
            stringToSignHash: "553f88c9e4d10fc9e109e2aeb65f030801b70c2f6468faca261d401ae622fc87",
            signature: "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"),
        Vector(
            name: "get-vanilla-empty-query-key", method: "GET", target: "/?Param1=value1", headers: [host, amzDate],
            canonicalRequest: plain("GET", "/", "Param1=value1"),
            stringToSignHash: "1e24db194ed7d0eec2de28d7369675a243488e08526e8c1c73571282f7c517ab",
            signature: "a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb"),
        Vector(
            name: "post-vanilla-query", method: "POST", target: "/?Param1=value1", headers: [host, amzDate],
            canonicalRequest: plain("POST", "/", "Param1=value1"),
            stringToSignHash: "9d659678c1756bb3113e2ce898845a0a79dbbc57b740555917687f1b3340fbbd",
            signature: "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11"),
        Vector(
            name: "get-vanilla-query-order-key", method: "GET", target: "/?Param1=value2&Param1=Value1",
            headers: [host, amzDate], canonicalRequest: plain("GET", "/", "Param1=Value1&Param1=value2"),
            stringToSignHash: "704b4cef673542d84cdff252633f065e8daeba5f168b77116f8b1bcaf3d38f89",
            signature: "eedbc4e291e521cf13422ffca22be7d2eb8146eecf653089df300a15b2382bd1"),
        Vector(
            name: "get-vanilla-query-order-key-case", method: "GET", target: "/?Param2=value2&Param1=value1",
            headers: [host, amzDate], canonicalRequest: plain("GET", "/", "Param1=value1&Param2=value2"),
            stringToSignHash: "816cd5b414d056048ba4f7c5386d6e0533120fb1fcfa93762cf0fc39e2cf19e0",
            signature: "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"),
        Vector(
            name: "get-vanilla-query-order-value", method: "GET", target: "/?Param1=value2&Param1=value1",
            headers: [host, amzDate], canonicalRequest: plain("GET", "/", "Param1=value1&Param1=value2"),
            stringToSignHash: "c968629d70850097a2d8781c9bf7edcb988b04cac14cca9be4acc3595f884606",
            signature: "5772eed61e12b33fae39ee5e7012498b51d56abc0abb7c60486157bd471c4694"),
        Vector(
            name: "get-vanilla-query-unreserved", method: "GET",
            target: "/?-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz="
                + "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
            headers: [host, amzDate],
            canonicalRequest: plain(
                "GET", "/",
                "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz="
                    + "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"),
            stringToSignHash: "c30d4703d9f799439be92736156d47ccfb2d879ddf56f5befa6d1d6aab979177",
            signature: "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197"),
        Vector(
            name: "get-unreserved", method: "GET",
            target: "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", headers: [host, amzDate],
            canonicalRequest: plain("GET", "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"),
            stringToSignHash: "6a968768eefaa713e2a6b16b589a8ea192661f098f37349f4e2c0082757446f9",
            signature: "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f"),
        Vector(
            name: "get-header-key-duplicate", method: "GET", target: "/",
            headers: [host, "My-Header1:value2", "My-Header1:value2", "My-Header1:value1", amzDate],
            canonicalRequest:
                "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value2,value2,value1\nx-amz-date:20150830T123600Z\n\nhost;my-header1;x-amz-date\n\(empty)",
            stringToSignHash: "dc7f04a3abfde8d472b0ab1a418b741b7c67174dad1551b4117b15527fbe966c",
            signedHeaders: "host;my-header1;x-amz-date",
            signature: "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"),
        Vector(
            name: "get-header-value-order", method: "GET", target: "/",
            headers: [
                host, "My-Header1:value4", "My-Header1:value1", "My-Header1:value3", "My-Header1:value2", amzDate,
            ],
            canonicalRequest:
                "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value4,value1,value3,value2\nx-amz-date:20150830T123600Z\n\nhost;my-header1;x-amz-date\n\(empty)",
            stringToSignHash: "31ce73cd3f3d9f66977ad3dd957dc47af14df92fcd8509f59b349e9137c58b86",
            signedHeaders: "host;my-header1;x-amz-date",
            signature: "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01"),
        Vector(
            name: "get-header-value-trim", method: "GET", target: "/",
            headers: [host, "My-Header1: value1", "My-Header2: \"a   b   c\"", amzDate],
            canonicalRequest:
                "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value1\nmy-header2:\"a b c\"\nx-amz-date:20150830T123600Z\n\nhost;my-header1;my-header2;x-amz-date\n\(empty)",
            stringToSignHash: "a726db9b0df21c14f559d0a978e563112acb1b9e05476f0a6a1c7d68f28605c7",
            signedHeaders: "host;my-header1;my-header2;x-amz-date",
            signature: "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"),
        // get-header-value-multiline: the suite folds value2 and value3 onto My-Header1 (obs-fold, which HTTP/1.1
        // parsers refuse or unfold); its canonical request and signature are those of the three values as repeats.
        Vector(
            name: "get-header-value-multiline", method: "GET", target: "/",
            headers: [host, "My-Header1:value1", "My-Header1:  value2", "My-Header1:     value3", amzDate],
            canonicalRequest:
                "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value1,value2,value3\nx-amz-date:20150830T123600Z\n\nhost;my-header1;x-amz-date\n\(empty)",
            stringToSignHash: "b7b6cbfd8a0430b78891e986784da2630c8a135a8595cec25b26ea94f926ee55",
            signedHeaders: "host;my-header1;x-amz-date",
            signature: "ba17b383a53190154eb5fa66a1b836cc297cc0a3d70a5d00705980573d8ff790"),
        Vector(
            name: "post-header-key-case", method: "POST", target: "/", headers: [host, amzDate],
            canonicalRequest: plain("POST", "/"),
            stringToSignHash: "553f88c9e4d10fc9e109e2aeb65f030801b70c2f6468faca261d401ae622fc87",
            signature: "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"),
        Vector(
            name: "post-header-key-sort", method: "POST", target: "/", headers: [host, "My-Header1:value1", amzDate],
            canonicalRequest:
                "POST\n/\n\nhost:example.amazonaws.com\nmy-header1:value1\nx-amz-date:20150830T123600Z\n\nhost;my-header1;x-amz-date\n\(empty)",
            stringToSignHash: "9368318c2967cf6de74404b30c65a91e8f6253e0a8659d6d5319f1a812f87d65",
            signedHeaders: "host;my-header1;x-amz-date",
            signature: "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c"),
        Vector(
            name: "post-header-value-case", method: "POST", target: "/", headers: [host, "My-Header1:VALUE1", amzDate],
            canonicalRequest:
                "POST\n/\n\nhost:example.amazonaws.com\nmy-header1:VALUE1\nx-amz-date:20150830T123600Z\n\nhost;my-header1;x-amz-date\n\(empty)",
            stringToSignHash: "d51ced243e649e3de6ef63afbbdcbca03131a21a7103a1583706a64618606a93",
            signedHeaders: "host;my-header1;x-amz-date",
            signature: "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d"),
        Vector(
            name: "post-x-www-form-urlencoded", method: "POST", target: "/",
            headers: ["Content-Type:application/x-www-form-urlencoded", host, amzDate], body: "Param1=value1",
            canonicalRequest:
                "POST\n/\n\ncontent-type:application/x-www-form-urlencoded\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\ncontent-type;host;x-amz-date\n9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e",
            signedHeaders: "content-type;host;x-amz-date",
            signature: "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"),
        Vector(
            name: "post-sts-header-after", method: "POST", target: "/", headers: [host, amzDate],
            canonicalRequest: plain("POST", "/"),
            stringToSignHash: "553f88c9e4d10fc9e109e2aeb65f030801b70c2f6468faca261d401ae622fc87",
            signature: "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"),
        Vector(
            name: "post-sts-header-before", method: "POST", target: "/",
            headers: [host, amzDate, "X-Amz-Security-Token:\(token)"],
            canonicalRequest:
                "POST\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\nx-amz-security-token:\(token)\n\nhost;x-amz-date;x-amz-security-token\n\(empty)",
            stringToSignHash: "c237e1b440d4c63c32ca95b5b99481081cb7b13c7e40434868e71567c1a882f6",
            signedHeaders: "host;x-amz-date;x-amz-security-token",
            signature: "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead"),
        Vector(
            name: "get-utf8", method: "GET", target: "/ሴ", headers: [host, amzDate],
            canonicalRequest: plain("GET", "/%E1%88%B4"),
            stringToSignHash: "2a0a97d02205e45ce2e994789806b19270cfbbb0921b278ccf58f5249ac42102",
            signature: "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"),
        Vector(
            name: "get-vanilla-utf8-query", method: "GET", target: "/?ሴ=bar", headers: [host, amzDate],
            canonicalRequest: plain("GET", "/", "%E1%88%B4=bar"),
            stringToSignHash: "eb30c5bed55734080471a834cc727ae56beb50e5f39d1bff6d0d38cb192a7073",
            signature: "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"),
        // normalize-path
        Vector(
            name: "get-relative", method: "GET", target: "/example/..", headers: [host, amzDate],
            canonicalRequest: plain("GET", "/"),
            signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
        Vector(
            name: "get-relative-relative", method: "GET", target: "/example1/example2/../..", headers: [host, amzDate],
            canonicalRequest: plain("GET", "/"),
            signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
        Vector(
            name: "get-slash", method: "GET", target: "//", headers: [host, amzDate],
            canonicalRequest: plain("GET", "/"),
            signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
        Vector(
            name: "get-slash-dot-slash", method: "GET", target: "/./", headers: [host, amzDate],
            canonicalRequest: plain("GET", "/"),
            signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
        Vector(
            name: "get-slash-pointless-dot", method: "GET", target: "/./example", headers: [host, amzDate],
            canonicalRequest: plain("GET", "/example"),
            stringToSignHash: "214d50c111a8edc4819da6a636336472c916b5240f51e9a51b5c3305180cf702",
            signature: "ef75d96142cf21edca26f06005da7988e4f8dc83a165a80865db7089db637ec5"),
        Vector(
            name: "get-slashes", method: "GET", target: "//example//", headers: [host, amzDate],
            canonicalRequest: plain("GET", "/example/"),
            stringToSignHash: "cb96b4ac96d501f7c5c15bc6d67b3035061cfced4af6585ad927f7e6c985c015",
            signature: "9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84"),
        Vector(
            name: "get-space", method: "GET", target: "/example space/", headers: [host, amzDate],
            canonicalRequest: plain("GET", "/example%20space/"),
            stringToSignHash: "63ee75631ed7234ae61b5f736dfc7754cdccfedbff4b5128a915706ee9390d86",
            signature: "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741"),
    ]

    static func request(_ vector: Vector) -> SigV4Request {
        let (path, query) = vector.target.split(separator: "?", maxSplits: 1).map(String.init).pair
        return SigV4Request(
            method: vector.method, path: path, query: query,
            headers: vector.headers.map { line in
                let colon = line.firstIndex(of: ":") ?? line.endIndex
                return (String(line[..<colon]), String(line[line.index(after: colon)...]))
            }, body: Array(vector.body.utf8))
    }

    @Test(arguments: vectors)
    func canonicalRequestStringToSignAndSignature(_ vector: Vector) throws {
        // Given the suite's request, When it is canonicalized and signed
        let request = Self.request(vector)
        let signedHeaders = vector.signedHeaders.split(separator: ";").map(String.init)
        let canonical = SigV4Canonical.canonicalRequest(
            method: request.method, path: request.path, query: request.query, headers: request.headers,
            signedHeaders: signedHeaders, payloadHash: SigV4Canonical.sha256Hex(request.body))
        let stringToSign = SigV4Canonical.stringToSign(
            timestamp: "20150830T123600Z", scope: "20150830/us-east-1/service/aws4_request",
            canonicalRequest: canonical)
        let signature = SigV4Canonical.signature(
            secretAccessKey: Self.credentials.secretAccessKey, date: "20150830", region: "us-east-1",
            service: "service", stringToSign: stringToSign)
        // Then each step is the suite's
        if let expected = vector.canonicalRequest { #expect(canonical == expected) }
        if let hash = vector.stringToSignHash {
            #expect(
                stringToSign
                    == "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n\(hash)")
        }
        if !vector.signature.isEmpty { #expect(signature == vector.signature) }

        // And the verifier accepts the suite's Authorization header at the suite's time
        let authorizationHeader =
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
            + "SignedHeaders=\(vector.signedHeaders), Signature=\(vector.signature.isEmpty ? signature : vector.signature)"
        var signed = request
        signed.headers.append(("Authorization", authorizationHeader))
        let authorization = try SigV4Verifier.authorization(of: signed)
        #expect(authorization.accessKeyID == "AKIDEXAMPLE")
        #expect(authorization.signedHeaders.joined(separator: ";") == vector.signedHeaders)
        try SigV4Verifier.verify(
            signed, authorization, secretAccessKey: Self.credentials.secretAccessKey, now: Self.date,
            service: "service", region: "us-east-1")
    }

    @Test(arguments: vectors.filter { $0.signedHeaders == "host;x-amz-date" && !$0.signature.isEmpty })
    func signerProducesTheSuitesAuthorization(_ vector: Vector) {
        // Given the request without its X-Amz-Date (the signer adds it)
        var request = Self.request(vector)
        request.headers.removeAll { $0.name.lowercased() == "x-amz-date" }
        // When signed at the suite's time
        let added = SigV4Signer(credentials: Self.credentials, region: "us-east-1", service: "service")
            .sign(request, at: Self.date)
        // Then the Authorization header is the suite's, byte for byte
        #expect(added.map(\.name) == ["Authorization", "X-Amz-Date"])
        #expect(
            added.first?.value
                == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
                + "SignedHeaders=host;x-amz-date, Signature=\(vector.signature)")
    }
}

extension Array where Element == String {
    var pair: (String, String) { (first ?? "", count > 1 ? self[1] : "") }
}
