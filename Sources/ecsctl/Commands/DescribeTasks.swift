import ArgumentParser
import FlotillaClient
import TaskDefinitions

/// `ecsctl describe-tasks`: ECS DescribeTasks.
struct DescribeTasks: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "describe-tasks", abstract: "Describes tasks.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var scope: ClusterOptions
    @Option(parsing: .upToNextOption, help: "Task IDs or ARNs (at most 100).") var tasks: [String] = []
    @Option(parsing: .upToNextOption, help: "TAGS.") var include: [String] = []

    func validate() throws {
        if tasks.isEmpty { throw ValidationError("--tasks needs at least one task ID or ARN") }
        if tasks.count > 100 { throw ValidationError("--tasks takes at most 100 tasks, got \(tasks.count)") }
    }

    func run() async throws {
        let configuration = try global.configuration(cluster: scope.cluster)
        var body: [String: JSONValue] = ["cluster": .string(configuration.cluster)]
        body.set("tasks", tasks)
        body.set("include", include)
        let answer = try await global.client(configuration).call(.describeTasks, .object(body))
        global.emit(answer) { ECSTables.tasks($0["tasks"]?.arrayValue ?? []) + failuresTable($0) }
    }
}
