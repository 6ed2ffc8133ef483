import ArgumentParser
import FlotillaClient
import TaskDefinitions

/// `ecsctl stop-task`: ECS StopTask.
struct StopTask: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stop-task", abstract: "Stops a task.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var scope: ClusterOptions
    @Option(help: "The task's ID or ARN.") var task: String
    @Option(help: "Why (shown as the task's stoppedReason).") var reason: String?

    func validate() throws {
        if let reason, reason.count > 255 {
            throw ValidationError("--reason is at most 255 characters, got \(reason.count)")
        }
    }

    func run() async throws {
        let configuration = try global.configuration(cluster: scope.cluster)
        var body: [String: JSONValue] = ["cluster": .string(configuration.cluster), "task": .string(task)]
        body.set("reason", reason)
        let answer = try await global.client(configuration).call(.stopTask, .object(body))
        global.emit(answer) { ECSTables.tasks([$0["task"] ?? .null]) }
    }
}
