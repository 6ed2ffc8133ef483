import AgentProtocol
import Foundation
public import Hummingbird
import NIOCore

/// An agent endpoint error as the wire carries it: `{"__type": "...", "message": "..."}`, the same shape as the
/// control plane's ECS errors, so clients read both with one decoder.
public struct AgentEndpointError: HTTPResponseError, Hashable, Sendable, CustomStringConvertible {
    /// The error code (`AccessDeniedException`), sent as `__type`.
    public var type: String
    /// One line saying what was wrong, naming the field.
    public var message: String
    public var status: HTTPResponse.Status

    public init(_ type: String, _ message: String, status: HTTPResponse.Status) {
        self.type = type
        self.message = message
        self.status = status
    }

    public var description: String { "\(type): \(message)" }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        // Encoding two strings cannot fail.
        let body = try! JSONEncoder().encode(["__type": type, "message": message])
        return Response(
            status: status, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    static let accessDenied = AgentEndpointError(
        "AccessDeniedException",
        "Authorization: a Bearer token from ExecuteCommand or GetContainerLogStream is required.",
        status: .unauthorized)

    /// A bearer token that does not open this container for this action: the problem, as one line.
    static func tokenRefused(_ problem: ContainerAccessTokenError) -> AgentEndpointError {
        AgentEndpointError("AccessDeniedException", "Authorization: \(problem)", status: .unauthorized)
    }

    static func containerNotFound(task: String, container: String) -> AgentEndpointError {
        AgentEndpointError(
            "ResourceNotFoundException",
            "The task \(task) has no container \(container) on this agent.", status: .notFound)
    }

    static func notRunning(task: String, container: String) -> AgentEndpointError {
        AgentEndpointError(
            "InvalidParameterException",
            "container: \(container) of task \(task) is not running.", status: .conflict)
    }

    static func invalidParameter(_ message: String) -> AgentEndpointError {
        AgentEndpointError("InvalidParameterException", message, status: .badRequest)
    }

    static func server(_ message: String) -> AgentEndpointError {
        AgentEndpointError("ServerException", message, status: .internalServerError)
    }
}
