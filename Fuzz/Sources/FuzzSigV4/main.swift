import Foundation
import FuzzDriver
import SigV4

/// Any bytes as a SigV4 signature: the first byte picks the form (even: the `Authorization` header, odd: a presigned
/// query string), the rest is its text. Parsing answers an authorization or a `SigV4Failure`, and one that parses is
/// verified, which answers without crashing; what parses stays within the bounds.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSigV4(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 0 else { return 0 }
    let text = String(decoding: UnsafeBufferPointer(start: data + 1, count: size - 1), as: UTF8.self)
    var request = SigV4Request(
        method: "POST", path: "/", headers: [("Host", "localhost"), ("X-Amz-Date", "20261203T120000Z")], body: [])
    if data[0] % 2 == 0 {
        request.headers.append(("Authorization", text))
    } else {
        request.query = text
    }
    guard let authorization = try? SigV4Verifier.authorization(of: request) else { return 0 }
    precondition(authorization.signedHeaders.count <= SigV4Verifier.maximumSignedHeaders)
    precondition(SigV4Timestamp.date(from: authorization.timestamp) != nil)
    do {
        try SigV4Verifier.verify(
            request, authorization, secretAccessKey: "secret", now: Date(timeIntervalSince1970: 1_796_299_200))
    } catch {
        precondition(!error.code.isEmpty && !error.message.isEmpty)
    }
    _ = SigV4Canonical.canonicalPath(text)
    _ = SigV4Canonical.canonicalQuery(text)
    return 0
}

@_cdecl("FuzzSigV4_main")
public func fuzzSigV4Main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    FuzzDriver.run(argc, argv, fuzzSigV4)
}
