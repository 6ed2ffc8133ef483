import ArgumentParser
import FlotillaClient
import TaskDefinitions

/// `ecsctl describe-task-definition`: ECS DescribeTaskDefinition.
struct DescribeTaskDefinition: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "describe-task-definition", abstract: "Describes a task definition.")

    @OptionGroup var global: GlobalOptions
    @Option(help: "family:revision, family (latest ACTIVE revision) or ARN.") var taskDefinition: String
    @Option(parsing: .upToNextOption, help: "TAGS.") var include: [String] = []

    func run() async throws {
        let configuration = try global.configuration()
        var body: [String: JSONValue] = ["taskDefinition": .string(taskDefinition)]
        body.set("include", include)
        let answer = try await global.client(configuration).call(.describeTaskDefinition, .object(body))
        global.emit(answer) { ECSTables.taskDefinition($0["taskDefinition"] ?? .null) }
    }
}
