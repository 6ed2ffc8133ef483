import Foundation
import SigV4
import Testing

/// The signer against the real botocore installed here: the same requests through botocore's `SigV4Auth` and
/// `SigV4QueryAuth` (run with `python3`) and through ours must give the same Authorization header and presigned URL,
/// and our verifier must accept botocore's.
/// Whether `python3` can import botocore (the suite is skipped, not failed, without it).
let botocoreIsInstalled: Bool =
    (try? BotocoreCrossCheckTests.python(#"import botocore.auth; print("{}")"#, input: Data("[]".utf8))) != nil

@Suite("SigV4: against botocore", .enabled(if: botocoreIsInstalled), .timeLimit(.minutes(10)))
struct BotocoreCrossCheckTests {

    struct Case: Codable, Sendable, CustomTestStringConvertible {
        var method: String
        var path: String  // raw, as on the wire
        var query: String
        var headers: [[String]]
        var body: String
        var token: String?
        var testDescription: String { "\(method) \(path)?\(query)" }
    }

    static let cases: [Case] = [
        Case(
            method: "POST", path: "/", query: "",
            headers: [
                ["Host", "ecs.us-east-1.amazonaws.com"],
                ["Content-Type", "application/x-amz-json-1.1"],
                ["X-Amz-Target", "AmazonEC2ContainerServiceV20141113.ListClusters"],
            ], body: "{}", token: nil),
        Case(
            method: "POST", path: "/", query: "",
            headers: [
                ["Host", "localhost:8080"], ["Content-Type", "application/x-amz-json-1.1"],
                ["X-Amz-Target", "AmazonEC2ContainerServiceV20141113.RunTask"],
            ], body: #"{"cluster":"défaut","count":2}"#, token: "FwoGZXIvYXdzEXAMPLE//token+with/slashes=="),
        Case(
            method: "GET", path: "/a%20b/c%2Fd/%E2%9C%93/x~y.z", query: "b=2&a=1&a=0&c=%20sp%2Bace&empty=",
            headers: [["Host", "example.com"], ["My-Header", "  a   b\tc  "]], body: "", token: nil),
        Case(
            method: "PUT", path: "/v2/repo/blobs/uploads/a/../b/./c//d", query: "digest=sha256%3Aabc",
            headers: [["Host", "registry.local:5000"], ["X-Multi", "one"], ["x-multi", "two"]],
            body: "layer bytes \u{0}\u{1}", token: nil),
        Case(
            method: "GET", path: "/presign%20me/ünïcode", query: "",
            headers: [["Host", "example.com"]], body: "", token: "SESSIONTOKEN"),
    ]

    /// botocore's answers for `cases`: [{"authorization": ..., "amzDate": ..., "presigned": query}].
    static func botocore(_ cases: [Case]) throws -> [[String: String]] {
        let script = #"""
            import json, sys
            from botocore.auth import SigV4Auth, SigV4QueryAuth
            from botocore.awsrequest import AWSRequest
            from botocore.credentials import Credentials
            import datetime
            from unittest import mock
            out = []
            for case in json.load(sys.stdin):
                creds = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", case.get("token"))
                host = [v for k, v in case["headers"] if k.lower() == "host"][0]
                url = "https://" + host + case["path"] + ("?" + case["query"] if case["query"] else "")
                def request(body=True):
                    # SigV4QueryAuth moves a body into the query (as JSON): presigned requests here have none.
                    r = AWSRequest(method=case["method"], url=url, data=case["body"].encode() if body else b"")
                    for k, v in case["headers"]:
                        r.headers.add_header(k, v) if k.lower() != "host" else None
                    r.headers["Host"] = host
                    return r
                fixed = datetime.datetime(2026, 12, 3, 12, 0, 0)
                with mock.patch("botocore.auth.get_current_datetime", return_value=fixed):
                    r = request()
                    SigV4Auth(creds, "ecs", "us-east-1").add_auth(r)
                    q = request(body=False)
                    SigV4QueryAuth(creds, "ecs", "us-east-1", expires=300).add_auth(q)
                out.append({"authorization": r.headers["Authorization"], "amzDate": r.headers["X-Amz-Date"],
                            "presigned": q.url.split("?", 1)[1]})
            print(json.dumps(out))
            """#
        let data = try python(script, input: try JSONEncoder().encode(cases))
        return try JSONDecoder().decode([[String: String]].self, from: data)
    }

    static func python(_ script: String, input: Data) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script]
        let stdin = Pipe()
        let stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        let stderr = Pipe()
        process.standardError = stderr
        try process.run()
        stdin.fileHandleForWriting.write(input)
        try stdin.fileHandleForWriting.close()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw PythonFailure(
                stderr: String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
        }
        return output
    }

    struct PythonFailure: Error { var stderr: String }

    static let now = Date(timeIntervalSince1970: 1_796_299_200)  // 20261203T120000Z
    static let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"

    static func request(_ testCase: Case) -> SigV4Request {
        SigV4Request(
            method: testCase.method, path: testCase.path, query: testCase.query,
            headers: testCase.headers.map { ($0[0], $0[1]) }, body: Array(testCase.body.utf8))
    }

    @Test func headerSignaturesAreBotocoresAndVerify() throws {
        let answers = try Self.botocore(Self.cases)
        try #require(answers.count == Self.cases.count)
        for (testCase, answer) in zip(Self.cases, answers) {
            // Given botocore's signature of the request, When ours signs it at the same time
            let signer = SigV4Signer(
                credentials: AWSCredentials(
                    accessKeyID: "AKIDEXAMPLE", secretAccessKey: Self.secret, sessionToken: testCase.token),
                region: "us-east-1", service: "ecs")
            let added = signer.sign(Self.request(testCase), at: Self.now)
            // Then the Authorization header is botocore's
            #expect(added.first { $0.name == "Authorization" }?.value == answer["authorization"], "\(testCase)")
            #expect(answer["amzDate"] == "20261203T120000Z")

            // And our verifier accepts botocore's signed request
            var received = Self.request(testCase)
            received.headers += [("Authorization", answer["authorization"] ?? ""), ("X-Amz-Date", "20261203T120000Z")]
            if let token = testCase.token { received.headers.append(("X-Amz-Security-Token", token)) }
            let authorization = try SigV4Verifier.authorization(of: received)
            #expect(authorization.securityToken == testCase.token)
            try SigV4Verifier.verify(received, authorization, secretAccessKey: Self.secret, now: Self.now)
        }
    }

    @Test func presignedURLsAreBotocoresAndVerify() throws {
        let answers = try Self.botocore(Self.cases)
        try #require(answers.count == Self.cases.count)
        for (testCase, answer) in zip(Self.cases, answers) where !testCase.query.contains("a=0") {
            // botocore re-encodes the URL's own query and keeps one value per name: compare where that is a no-op.
            let signer = SigV4Signer(
                credentials: AWSCredentials(
                    accessKeyID: "AKIDEXAMPLE", secretAccessKey: Self.secret, sessionToken: testCase.token),
                region: "us-east-1", service: "ecs")
            var bodiless = Self.request(testCase)
            bodiless.body = []
            let ours = signer.presign(bodiless, at: Self.now, expires: 300)
            #expect(ours.hasSuffix(String(answer["presigned"]?.split(separator: "&").last ?? "")), "\(testCase)")
            if !testCase.query.contains("%20") { #expect(ours == answer["presigned"], "\(testCase)") }

            var received = bodiless
            received.query = answer["presigned"] ?? ""
            let authorization = try SigV4Verifier.authorization(of: received)
            #expect(authorization.isPresigned && authorization.expires == 300)
            try SigV4Verifier.verify(received, authorization, secretAccessKey: Self.secret, now: Self.now)
        }
    }
}
