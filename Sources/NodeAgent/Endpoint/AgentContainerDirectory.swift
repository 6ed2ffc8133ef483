/// What the agent endpoint needs from the agent's task table: which runtime container runs a task's container,
/// and who the agent is.
///
/// The agent daemon implements it over the tasks it supervises; the endpoint never reads the task table itself, so
/// the endpoint can be tested against a small fake.
public protocol AgentContainerDirectory: Sendable {
    /// The runtime container running `containerName` of the task whose ARN ends in `taskID`, or nil when this agent
    /// has no such task or the task has no such container.
    func container(taskID: String, containerName: String) async -> AgentContainerHandle?
    /// The agent's identity, served at `/v1/metadata`.
    func metadata() async -> AgentMetadata
}

/// One container of one task as the runtime knows it.
public struct AgentContainerHandle: Hashable, Sendable {
    /// The `ContainerRuntime` id; exec goes through `ContainerRuntime.exec` with it.
    public var containerID: String
    /// Whether the container's main process is running: exec needs it, and a log follow ends once it is false.
    public var running: Bool
    /// The directory holding `stdout.log` and `stderr.log` (and their rotated files) as `ContainerRuntime` writes them.
    public var logDirectory: String

    public init(containerID: String, running: Bool, logDirectory: String) {
        self.containerID = containerID
        self.running = running
        self.logDirectory = logDirectory
    }
}

/// Who the agent is, served at `/v1/metadata` as `{"cluster", "containerInstanceArn", "agentVersion"}`.
public struct AgentMetadata: Codable, Hashable, Sendable {
    /// The cluster the agent joined.
    public var cluster: String
    /// The container instance ARN Register returned; nil until the agent has registered.
    public var containerInstanceArn: String?
    /// The agent's version string.
    public var agentVersion: String

    public init(cluster: String, containerInstanceArn: String?, agentVersion: String) {
        self.cluster = cluster
        self.containerInstanceArn = containerInstanceArn
        self.agentVersion = agentVersion
    }

    private enum CodingKeys: String, CodingKey { case cluster, containerInstanceArn, agentVersion }

    /// Every key, `containerInstanceArn` as null before registration, so clients see one shape.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(cluster, forKey: .cluster)
        try container.encode(containerInstanceArn, forKey: .containerInstanceArn)
        try container.encode(agentVersion, forKey: .agentVersion)
    }
}
