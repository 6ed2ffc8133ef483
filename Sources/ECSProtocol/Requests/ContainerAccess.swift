import Foundation

/// ECS `ExecuteCommand`: `{cluster, task, container?, command, interactive}`.
public struct ExecuteCommandRequest: ECSRequest, Decodable {
    public var cluster: String?
    public var task: String
    public var container: String?
    public var command: String
    public var interactive: Bool?
}

/// `FlotillaV1.GetContainerLogStream`: `{cluster, task, container?}`.
public struct GetContainerLogStreamRequest: ECSRequest, Decodable {
    public var cluster: String?
    public var task: String
    public var container: String?
}

extension ExecuteCommandRequest {
    public func validate() throws(ECSError) {
        guard !task.isEmpty else { throw ECSError.invalidParameter("task: must be a task ID or ARN.") }
        guard !command.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw ECSError.invalidParameter("command: must not be empty.")
        }
        guard command.count <= 4096 else {
            throw ECSError.invalidParameter("command: must be at most 4096 characters.")
        }
    }
}

extension GetContainerLogStreamRequest {
    public func validate() throws(ECSError) {
        guard !task.isEmpty else { throw ECSError.invalidParameter("task: must be a task ID or ARN.") }
    }
}
