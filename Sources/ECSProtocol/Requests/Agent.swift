public import AgentProtocol
import ECSVocabulary
import Foundation
import TaskDefinitions

/// The agent protocol's limits and the checks of Register and PollDesiredTasks.
public enum AgentRules {
    /// Longest accepted hostname and address.
    public static let maxNameLength = 255
    /// Task state changes in one batch.
    public static let maxBatch = 100
    public static let defaultWait = 30

    /// The poll's wait the agent asked for (30 s when it asked none): 0 to 60 seconds.
    public static func checkWait(_ seconds: Int?) throws(ECSError) -> Int {
        let seconds = seconds ?? defaultWait
        guard (0...60).contains(seconds) else {
            throw .invalidParameter("waitSeconds: must be between 0 and 60, got \(seconds).")
        }
        return seconds
    }

    /// Register's checks: hostname, address, endpoint and token, resources, attributes.
    public static func check(_ request: RegisterAgentRequest) throws(ECSError) {
        guard !request.hostname.isEmpty, request.hostname.count <= maxNameLength else {
            throw .invalidParameter("hostname: must be 1 to \(maxNameLength) characters.")
        }
        if let address = request.address, address.isEmpty || address.count > maxNameLength {
            throw .invalidParameter("address: must be 1 to \(maxNameLength) characters.")
        }
        if let endpoint = request.agentEndpoint {
            guard endpoint.count <= maxNameLength, let url = URL(string: endpoint),
                ["http", "https"].contains(url.scheme),
                url.host?.isEmpty == false
            else {
                throw .invalidParameter("agentEndpoint: must be an http or https URL such as http://10.0.0.2:51678.")
            }
            guard let token = request.agentToken, (16...256).contains(token.count) else {
                throw .invalidParameter("agentToken: must be 16 to 256 characters when agentEndpoint is given.")
            }
        }
        guard request.resources.cpu > 0 else {
            throw .invalidParameter(
                "resources.cpu: must be positive (1024 units per core), got \(request.resources.cpu).")
        }
        guard request.resources.memory > 0 else {
            throw .invalidParameter("resources.memory: must be positive (MiB), got \(request.resources.memory).")
        }
        for (index, port) in (request.resources.ports ?? []).enumerated() where !(1...65535).contains(port) {
            throw .invalidParameter("resources.ports[\(index)]: must be between 1 and 65535, got \(port).")
        }
        let attributes = request.attributes ?? []
        guard attributes.count <= 100 else { throw .invalidParameter("attributes: at most 100 attributes.") }
        for (index, attribute) in attributes.enumerated() {
            guard !attribute.name.isEmpty, attribute.name.count <= 128 else {
                throw .invalidParameter("attributes[\(index)].name: must be 1 to 128 characters.")
            }
            if let value = attribute.value, value.count > 128 {
                throw .invalidParameter("attributes[\(index)].value: must be at most 128 characters.")
            }
        }
    }
}

/// How an agent's report folds into a stored task: forward only, first timestamp wins, so a batch sent twice or
/// late changes nothing. The statuses and the checks of a report are here; the merge is the control plane's.
public enum TaskStateMerge {
    /// Checks a change's values; the error names the field.
    public static func validate(_ change: TaskStateChange, at index: Int) throws(ECSError) {
        let path = "tasks[\(index)]"
        guard let status = change.lastStatus.word, TaskStatus.throughStopped.contains(status) else {
            let statuses = TaskStatus.throughStopped.map(\.rawValue).joined(separator: ", ")
            throw .invalidParameter(
                "\(path).lastStatus: must be one of \(statuses), got \(change.lastStatus.rawValue.prefix(40)).")
        }
        if let health = change.healthStatus, health.word == nil {
            throw .invalidParameter(
                "\(path).healthStatus: must be HEALTHY, UNHEALTHY or UNKNOWN, got \(health.rawValue.prefix(40)).")
        }
        if let reason = change.stoppedReason, reason.count > 1024 {
            throw .invalidParameter("\(path).stoppedReason: must be at most 1024 characters.")
        }
        for (number, container) in (change.containers ?? []).enumerated() {
            let containerPath = "\(path).containers[\(number)]"
            if let status = container.lastStatus, status.word == nil {
                throw .invalidParameter(
                    "\(containerPath).lastStatus: must be PENDING, RUNNING or STOPPED, got \(status.rawValue.prefix(40))."
                )
            }
            if let health = container.healthStatus, health.word == nil {
                throw .invalidParameter(
                    "\(containerPath).healthStatus: must be HEALTHY, UNHEALTHY or UNKNOWN, got \(health.rawValue.prefix(40))."
                )
            }
            if let reason = container.reason, reason.count > 1024 {
                throw .invalidParameter("\(containerPath).reason: must be at most 1024 characters.")
            }
        }
    }
}

extension RegisterAgentRequest: ECSRequest {
    public func validate() throws(ECSError) { try AgentRules.check(self) }
}

extension RotateCredentialRequest: ECSRequest {}

extension PollDesiredTasksRequest: ECSRequest {
    public func validate() throws(ECSError) { _ = try AgentRules.checkWait(waitSeconds) }
}

extension SubmitStateChangesRequest: ECSRequest {
    public func validate() throws(ECSError) {
        let changes = tasks ?? []
        guard changes.count <= AgentRules.maxBatch else {
            throw ECSError.invalidParameter(
                "tasks: at most \(AgentRules.maxBatch) task state changes per batch, got \(changes.count).")
        }
        for (index, change) in changes.enumerated() { try TaskStateMerge.validate(change, at: index) }
        if let metrics, metrics.objectValue == nil {
            throw ECSError.invalidParameter("metrics: must be a JSON object.")
        }
    }
}

/// `FlotillaAgentV1.GetJoinToken` / `RotateJoinToken`: `{"cluster": "NAME or ARN"}` (default `default`).
public struct JoinTokenRequest: ECSRequest, Decodable {
    public var cluster: String?
}
