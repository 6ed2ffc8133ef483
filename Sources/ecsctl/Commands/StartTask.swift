import ArgumentParser
import FlotillaClient
import TaskDefinitions

/// `ecsctl start-task`: ECS StartTask (on the container instances you name).
struct StartTask: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "start-task", abstract: "Starts a task on each of the named container instances.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var scope: ClusterOptions
    @Option(help: "family, family:revision or ARN.") var taskDefinition: String
    @Option(parsing: .upToNextOption, help: "Container instance IDs or ARNs (at most 10).") var containerInstances:
        [String] = []
    @Option(help: "An identifier to find these tasks by.") var startedBy: String?
    @Option(help: "The task group.") var group: String?
    @Option(help: "Container overrides as JSON.") var overrides: String?

    func validate() throws {
        if containerInstances.isEmpty {
            throw ValidationError("--container-instances needs at least one container instance")
        }
        if containerInstances.count > 10 {
            throw ValidationError("--container-instances takes at most 10 instances, got \(containerInstances.count)")
        }
        try validateDocument(overrides, option: "--overrides")
    }

    func run() async throws {
        let configuration = try global.configuration(cluster: scope.cluster)
        var body: [String: JSONValue] = [
            "cluster": .string(configuration.cluster),
            "taskDefinition": .string(taskDefinition),
        ]
        body.set("containerInstances", containerInstances)
        body.set("startedBy", startedBy)
        body.set("group", group)
        try body.setDocument("overrides", overrides, option: "--overrides")
        let answer = try await global.client(configuration).call(.startTask, .object(body))
        global.emit(answer) { ECSTables.tasks($0["tasks"]?.arrayValue ?? []) + failuresTable($0) }
    }
}
