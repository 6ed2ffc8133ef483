public import Hummingbird
public import Foundation
import NIOCore

/// An ECS API error as the wire carries it: `{"__type": "...", "message": "..."}`, HTTP 400 for the client's
/// mistakes and 500 (`ServerException`) only for real faults of the control plane.
public struct ECSError: HTTPResponseError, Equatable, Sendable, CustomStringConvertible {
    /// The ECS error code (`ClusterNotFoundException`), sent as `__type`.
    public var type: String
    /// One line saying what was wrong, naming the field.
    public var message: String
    public var status: HTTPResponse.Status

    public init(_ type: String, _ message: String, status: HTTPResponse.Status = .badRequest) {
        self.type = type
        self.message = message
        self.status = status
    }

    public var description: String { "\(type): \(message)" }

    /// The error as ECS JSON.
    public var body: Data {
        // Encoding two strings cannot fail.
        try! JSONEncoder().encode(["__type": type, "message": message])
    }

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

extension ECSError {
    static func client(_ message: String) -> ECSError { ECSError("ClientException", message) }
    static func invalidParameter(_ message: String) -> ECSError { ECSError("InvalidParameterException", message) }
    static func serialization(_ message: String) -> ECSError { ECSError("SerializationException", message) }
    static let clusterNotFound = ECSError("ClusterNotFoundException", "Cluster not found.")
    static let serviceNotFound = ECSError("ServiceNotFoundException", "Service not found.")
    static let serviceNotActive = ECSError("ServiceNotActiveException", "Service was not ACTIVE.")
    static let clusterContainsServices = ECSError(
        "ClusterContainsServicesException",
        "The Cluster cannot be deleted while Services are active."
    )
    static let clusterContainsTasks = ECSError(
        "ClusterContainsTasksException",
        "The Cluster cannot be deleted while Tasks are active."
    )
    static let clusterContainsContainerInstances = ECSError(
        "ClusterContainsContainerInstancesException",
        "The Cluster cannot be deleted while Container Instances are active or draining."
    )
    static func targetNotFound(_ target: String) -> ECSError {
        ECSError("TargetNotFoundException", "Could not find target \(target).")
    }
    static func attributeLimitExceeded(_ target: String) -> ECSError {
        ECSError("AttributeLimitExceededException", "Attribute limit of \(customAttributeLimit) exceeded for \(target).")
    }
    static func resourceNotFound(_ arn: String) -> ECSError {
        ECSError("ResourceNotFoundException", "The specified resource could not be found: \(arn).")
    }
    static func unknownOperation(_ operation: String) -> ECSError {
        ECSError("UnknownOperationException", "Unknown operation \(operation).")
    }
    static func server(_ message: String) -> ECSError {
        ECSError("ServerException", message, status: .internalServerError)
    }

    /// ECS allows 10 custom attributes per container instance.
    static let customAttributeLimit = 10
}
