import ArgumentParser
import FlotillaClient
import TaskDefinitions

/// `ecsctl describe-container-instances`: ECS DescribeContainerInstances.
struct DescribeContainerInstances: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "describe-container-instances",
        abstract: "Describes container instances: status and free resources.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var scope: ClusterOptions
    @Option(parsing: .upToNextOption, help: "Container instance IDs or ARNs (at most 100).")
    var containerInstances: [String] = []
    @Option(parsing: .upToNextOption, help: "TAGS, CONTAINER_INSTANCE_HEALTH.") var include: [String] = []

    func validate() throws {
        if containerInstances.isEmpty {
            throw ValidationError("--container-instances needs at least one container instance")
        }
        if containerInstances.count > 100 {
            throw ValidationError("--container-instances takes at most 100 instances, got \(containerInstances.count)")
        }
    }

    func run() async throws {
        let configuration = try global.configuration(cluster: scope.cluster)
        var body: [String: JSONValue] = ["cluster": .string(configuration.cluster)]
        body.set("containerInstances", containerInstances)
        body.set("include", include)
        let answer = try await global.client(configuration).call(.describeContainerInstances, .object(body))
        global.emit(answer) {
            ECSTables.containerInstances($0["containerInstances"]?.arrayValue ?? []) + failuresTable($0)
        }
    }
}
