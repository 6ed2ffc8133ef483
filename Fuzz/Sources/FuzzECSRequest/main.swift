import Foundation
import ECSProtocol
import FuzzDriver
import HTTPTypes

/// Any request a client can send to the control plane's `POST /`, as the three parts it controls: the first line is the
/// `X-Amz-Target` header, the second the `Content-Type` (an empty line: the header is absent), the rest the body.
/// Routing, the content type, decoding of the operation's input and its checks that need no store must answer the
/// operation's input or a client error (`ECSError`, HTTP 400) that ECS would send: never a crash, a hang, or a server
/// fault (500) for what the client sent.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzECSRequest(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    let bytes = UnsafeBufferPointer(start: data, count: size)
    var lines = bytes.split(separator: UInt8(ascii: "\n"), maxSplits: 2, omittingEmptySubsequences: false)
        .makeIterator()
    let target = lines.next().flatMap(header)
    let contentType = lines.next().flatMap(header)
    let body = lines.next().map { Data($0) } ?? Data()
    do {
        _ = try ECSWire.request(target: target, contentType: contentType, body: body)
    } catch {
        guard let answer = ECSWire.ecsError(from: error) else {
            preconditionFailure("a request's decoding failed with \(error), which the API answers as a server fault")
        }
        precondition(answer.status == .badRequest, "\(answer) is not a client error")
        precondition(
            !answer.message.isEmpty && answer.message.count <= 4096,
            "\(answer.type): message of \(answer.message.count) characters")
        _ = answer.body
    }
    return 0
}

/// A header line as the HTTP server hands it over: nil when empty (absent).
private func header(_ line: Slice<UnsafeBufferPointer<UInt8>>) -> String? {
    line.isEmpty ? nil : String(decoding: line, as: UTF8.self)
}

@_cdecl("FuzzECSRequest_main")
public func fuzzECSRequestMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    FuzzDriver.run(argc, argv, fuzzECSRequest)
}
