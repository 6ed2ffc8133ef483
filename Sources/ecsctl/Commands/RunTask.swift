import ArgumentParser
import FlotillaClient
import TaskDefinitions

/// `ecsctl run-task`: ECS RunTask (the control plane places the tasks).
struct RunTask: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run-task", abstract: "Runs tasks from a task definition.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var scope: ClusterOptions
    @Option(help: "family, family:revision or ARN.") var taskDefinition: String
    @Option(parsing: .unconditional, help: "How many tasks (1-10).") var count: Int?
    @Option(help: "An identifier to find these tasks by (list-tasks --started-by).") var startedBy: String?
    @Option(help: "The task group (default: family:NAME).") var group: String?
    @Option(help: "Container overrides as JSON.") var overrides: String?
    @Option(parsing: .upToNextOption, help: "type=memberOf,expression=... or JSON.") var placementConstraints:
        [String] = []
    @Option(parsing: .upToNextOption, help: "type=spread,field=... or JSON.") var placementStrategy: [String] = []
    @Option(help: "EC2.") var launchType: String?
    @Option(parsing: .upToNextOption, help: "Tags: key=K,value=V ... or JSON.") var tags: [String] = []

    func validate() throws {
        if let count, !(1...10).contains(count) {
            throw ValidationError("--count must be between 1 and 10, got \(count)")
        }
        try validateDocument(overrides, option: "--overrides")
        try validateList(placementConstraints, option: "--placement-constraints", shorthand: .strings)
        try validateList(placementStrategy, option: "--placement-strategy", shorthand: .strings)
        try validateList(tags, option: "--tags", shorthand: .strings)
    }

    func run() async throws {
        let configuration = try global.configuration(cluster: scope.cluster)
        var body: [String: JSONValue] = [
            "cluster": .string(configuration.cluster),
            "taskDefinition": .string(taskDefinition),
        ]
        body.set("count", count)
        body.set("startedBy", startedBy)
        body.set("group", group)
        try body.setDocument("overrides", overrides, option: "--overrides")
        try body.setList(
            "placementConstraints", placementConstraints, option: "--placement-constraints", shorthand: .strings)
        try body.setList("placementStrategy", placementStrategy, option: "--placement-strategy", shorthand: .strings)
        body.set("launchType", launchType)
        try body.setList("tags", tags, option: "--tags", shorthand: .strings)
        let answer = try await global.client(configuration).call(.runTask, .object(body))
        global.emit(answer) { ECSTables.tasks($0["tasks"]?.arrayValue ?? []) + failuresTable($0) }
    }
}
