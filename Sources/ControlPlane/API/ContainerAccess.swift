import AgentProtocol
import ECSVocabulary
import Foundation
import ECSProtocol
import GRDB
import Logging

// MARK: - Requests and responses

/// ECS's answer; the session's `streamUrl` is the agent's exec URL and `tokenValue` a bearer token for that exec
/// only (`ContainerAccessToken`: this task, container and action, 60 s to start, once).
struct ExecuteCommandResponse: Encodable {
    var clusterArn: String
    var containerArn: String?
    var containerName: String
    var interactive: Bool
    var taskArn: String
    var session: Session

    struct Session: Encodable {
        var sessionId: String
        var streamUrl: String
        var tokenValue: String
    }
}

/// `{streamUrl, tokenValue, taskArn, containerName, containerArn}`: GET `streamUrl` with `Authorization: Bearer
/// tokenValue` (and `follow`, `tail`) for the container's output; the token opens this container's logs only, for
/// 5 minutes.
struct GetContainerLogStreamResponse: Encodable {
    var streamUrl: String
    var tokenValue: String
    var taskArn: String
    var containerName: String
    var containerArn: String?
}

extension ECSError {
    static func targetNotConnected(_ message: String) -> ECSError { ECSError("TargetNotConnectedException", message) }
}

// MARK: - Rules

/// Where a task's container can be reached: the agent endpoint of the instance it runs on.
struct ContainerLocation: Sendable {
    var cluster: Cluster
    var task: ECSTask
    var container: TaskContainer
    /// `<agentEndpoint>/v1/tasks/<taskId>/containers/<name>`, without the action.
    var baseURL: String
    /// The agent's endpoint secret, opened: the key of the tokens minted for it. Never answered.
    var endpointSecret: String

    var taskID: String { task.taskArn.split(separator: "/").last.map(String.init) ?? task.taskArn }

    /// `baseURL/<action>` and a token for that action on this container, valid from `now`.
    func access(_ action: ContainerAccessAction, now: Date) -> (streamUrl: String, token: String) {
        (
            baseURL + "/" + action.rawValue,
            ContainerAccessToken.minted(
                task: taskID, container: container.name, action: action, now: now, secret: endpointSecret)
        )
    }
}

extension Database {
    /// Finds the task's container and its instance's agent endpoint; every refusal as ECS words it.
    /// - Parameter requireRunning: exec needs a RUNNING task; logs are served whatever the task's state.
    func containerLocation(
        cluster identifier: String?, task reference: String, container name: String?,
        requireRunning: Bool, secrets: SecretBox
    ) throws -> ContainerLocation {
        let cluster = try activeCluster(identifier)
        guard let task = try task(reference, in: cluster) else {
            throw ECSError.invalidParameter(
                "task: \(reference.prefix(300)) was not found in cluster \(cluster.clusterName).")
        }
        if requireRunning && task.lastStatus != .running {
            throw ECSError.invalidParameter(
                "task: The execute command failed because the task is not RUNNING (lastStatus \(task.lastStatus)).")
        }
        let container: TaskContainer
        if let name {
            guard let found = task.containers.first(where: { $0.name == name }) else {
                let names = task.containers.map(\.name).joined(separator: ", ")
                throw ECSError.invalidParameter(
                    "container: the task has no container \(name.prefix(255)) (it has \(names)).")
            }
            container = found
        } else {
            guard task.containers.count == 1, let only = task.containers.first else {
                let names = task.containers.map(\.name).joined(separator: ", ")
                throw ECSError.invalidParameter(
                    "container: the task has \(task.containers.count) containers (\(names)): name one.")
            }
            container = only
        }
        guard let instanceArn = task.containerInstanceArn,
            let instanceID = ARN.lastComponent(of: instanceArn, kind: "container-instance"),
            let record = try agentEndpoint(instanceID: instanceID, cluster: cluster.clusterName)
        else {
            throw ECSError.targetNotConnected("The task \(task.taskArn) is not placed on a container instance.")
        }
        let instance = record.instance
        guard let endpoint = record.endpoint else {
            throw ECSError.targetNotConnected(
                "The agent of container instance \(instanceArn) registered no endpoint for logs and exec.")
        }
        guard let sealed = record.sealedSecret else {
            // Registered before endpoint secrets were sealed (migration "v10" dropped the clear copies).
            throw ECSError.targetNotConnected(
                "The agent of container instance \(instanceArn) registered no endpoint secret for logs and exec; "
                    + "restart it to register again.")
        }
        let secret: String
        do {
            secret = try secrets.openEndpointSecret(sealed, cluster: cluster.clusterName, instanceID: instanceID)
        } catch {
            throw ECSError.targetNotConnected(
                "The endpoint secret of container instance \(instanceArn) does not open with this master key; "
                    + "restart its agent to register it again.")
        }
        guard instance.agentConnected else {
            throw ECSError.targetNotConnected("The agent of container instance \(instanceArn) is not connected.")
        }
        var base = endpoint
        while base.hasSuffix("/") { base.removeLast() }
        let taskID = task.taskArn.split(separator: "/").last.map(String.init) ?? task.taskArn
        let escapedName = container.name.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? container.name
        return ContainerLocation(
            cluster: cluster, task: task, container: container,
            baseURL: "\(base)/v1/tasks/\(taskID)/containers/\(escapedName)", endpointSecret: secret)
    }
}

// MARK: - Operations

extension ECSAPI {
    /// ECS `ExecuteCommand`.
    static let containerAccessOperations: [String: OperationHandler] = [
        "ExecuteCommand": OperationHandler { (request: ExecuteCommandRequest, context) in
            let location = try await context.store.read { db in
                try db.containerLocation(
                    cluster: request.cluster, task: request.task, container: request.container,
                    requireRunning: true, secrets: context.secretBox)
            }
            let (streamUrl, token) = location.access(.exec, now: context.now)
            context.logger.info(
                "execute command session issued",
                metadata: [
                    "cluster": "\(location.cluster.clusterName)", "task": "\(location.taskID)",
                    "container.name": "\(location.container.name)",
                ])
            return ExecuteCommandResponse(
                clusterArn: location.cluster.clusterArn, containerArn: location.container.containerArn,
                containerName: location.container.name, interactive: request.interactive ?? true,
                taskArn: location.task.taskArn,
                session: .init(
                    sessionId: "ecs-execute-command-\(TaskRules.newID())",
                    streamUrl: streamUrl, tokenValue: token))
        }
    ]

    /// `FlotillaV1.GetContainerLogStream`.
    static let containerLogOperations: [String: OperationHandler] = [
        "GetContainerLogStream": OperationHandler { (request: GetContainerLogStreamRequest, context) in
            let location = try await context.store.read { db in
                try db.containerLocation(
                    cluster: request.cluster, task: request.task, container: request.container,
                    requireRunning: false, secrets: context.secretBox)
            }
            let (streamUrl, token) = location.access(.logs, now: context.now)
            return GetContainerLogStreamResponse(
                streamUrl: streamUrl, tokenValue: token, taskArn: location.task.taskArn,
                containerName: location.container.name, containerArn: location.container.containerArn)
        }
    ]
}
