public import Foundation
public import HTTPTypes

/// An ECS API error as the wire carries it: `{"__type": "...", "message": "..."}`, HTTP 400 for the client's
/// mistakes and 500 (`ServerException`) only for real faults of the control plane.
///
/// The Hummingbird response lives with the server (`ControlPlane`); here is what any decoder or check may throw.
public struct ECSError: Error, Equatable, Sendable, CustomStringConvertible {
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
}

extension ECSError {
    /// `ClientException`: the request is wrong in a way ECS reports as the client's.
    public static func client(_ message: String) -> ECSError { ECSError("ClientException", message) }
    /// `InvalidParameterException`, naming the field.
    public static func invalidParameter(_ message: String) -> ECSError {
        ECSError("InvalidParameterException", message)
    }
    /// `SerializationException`: the body is not the operation's JSON.
    public static func serialization(_ message: String) -> ECSError { ECSError("SerializationException", message) }
    public static let clusterNotFound = ECSError("ClusterNotFoundException", "Cluster not found.")
    public static let serviceNotFound = ECSError("ServiceNotFoundException", "Service not found.")
    public static let serviceNotActive = ECSError("ServiceNotActiveException", "Service was not ACTIVE.")
    public static let clusterContainsServices = ECSError(
        "ClusterContainsServicesException",
        "The Cluster cannot be deleted while Services are active."
    )
    public static let clusterContainsTasks = ECSError(
        "ClusterContainsTasksException",
        "The Cluster cannot be deleted while Tasks are active."
    )
    public static let clusterContainsContainerInstances = ECSError(
        "ClusterContainsContainerInstancesException",
        "The Cluster cannot be deleted while Container Instances are active or draining."
    )
    /// `TargetNotFoundException` for an attribute's target.
    public static func targetNotFound(_ target: String) -> ECSError {
        ECSError("TargetNotFoundException", "Could not find target \(target).")
    }
    /// `AttributeLimitExceededException`: more than ECS's custom attributes on one target.
    public static func attributeLimitExceeded(_ target: String) -> ECSError {
        ECSError(
            "AttributeLimitExceededException", "Attribute limit of \(customAttributeLimit) exceeded for \(target).")
    }
    /// `ResourceNotFoundException` for a tagged resource.
    public static func resourceNotFound(_ arn: String) -> ECSError {
        ECSError("ResourceNotFoundException", "The specified resource could not be found: \(arn).")
    }
    /// `UnknownOperationException`: no operation of that name.
    public static func unknownOperation(_ operation: String) -> ECSError {
        ECSError("UnknownOperationException", "Unknown operation \(operation).")
    }
    /// `ServerException` (500): a fault of the control plane, never of the request.
    public static func server(_ message: String) -> ECSError {
        ECSError("ServerException", message, status: .internalServerError)
    }

    /// ECS allows 10 custom attributes per container instance.
    public static let customAttributeLimit = 10
}
