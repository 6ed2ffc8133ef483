public import ECSProtocol
public import Hummingbird
import NIOCore

extension ECSError: HTTPResponseError {
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        response()
    }

    /// The error as an HTTP response.
    public func response() -> Response {
        Response(
            status: status,
            headers: [.contentType: "application/x-amz-json-1.1"],
            body: .init(byteBuffer: ByteBuffer(bytes: body))
        )
    }
}
