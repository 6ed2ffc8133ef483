import ArgumentParser
import FlotillaClient
import TaskDefinitions

/// `ecsctl deregister-task-definition`: ECS DeregisterTaskDefinition.
struct DeregisterTaskDefinition: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deregister-task-definition", abstract: "Marks a task definition revision INACTIVE.")

    @OptionGroup var global: GlobalOptions
    @Option(help: "family:revision or ARN.") var taskDefinition: String

    func run() async throws {
        let configuration = try global.configuration()
        let answer = try await global.client(configuration)
            .call(.deregisterTaskDefinition, .object(["taskDefinition": .string(taskDefinition)]))
        global.emit(answer) { ECSTables.taskDefinition($0["taskDefinition"] ?? .null) }
    }
}
