/// The agent endpoint's view of the daemon's task table: which runtime container runs a task's container, and who
/// the agent is.
struct TaskTableDirectory: AgentContainerDirectory {
    let table: AgentTaskTable
    let runtime: ContainerRuntime
    let connection: ControlPlaneConnection

    func container(taskID: String, containerName: String) async -> AgentContainerHandle? {
        guard let name = await table.runtimeName(taskID: taskID, containerName: containerName),
            let info = try? await runtime.state(name)
        else { return nil }
        return AgentContainerHandle(
            containerID: info.id, running: info.status == .running, logDirectory: info.directory)
    }

    func metadata() async -> AgentMetadata {
        AgentMetadata(
            cluster: table.cluster, containerInstanceArn: await connection.containerInstanceArn,
            agentVersion: AgentVersion.current)
    }
}

extension AgentDaemon {
    /// What the agent endpoint serves logs and exec from: this daemon's tasks.
    public var containerDirectory: any AgentContainerDirectory {
        TaskTableDirectory(table: table, runtime: runtime, connection: connection)
    }
}
