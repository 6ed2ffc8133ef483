import ArgumentParser
import ECSVocabulary
import FlotillaClient
import TaskDefinitions

/// `ecsctl update-container-instances-state`: ECS UpdateContainerInstancesState (drain or re-activate).
struct UpdateContainerInstancesState: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "update-container-instances-state",
        abstract: "Drains container instances, or makes them ACTIVE again.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var scope: ClusterOptions
    @Option(parsing: .upToNextOption, help: "Container instance IDs or ARNs (at most 10).")
    var containerInstances: [String] = []
    @Option(help: "ACTIVE or DRAINING.") var status: String

    func validate() throws {
        if containerInstances.isEmpty {
            throw ValidationError("--container-instances needs at least one container instance")
        }
        if containerInstances.count > 10 {
            throw ValidationError("--container-instances takes at most 10 instances, got \(containerInstances.count)")
        }
        if !ContainerInstanceStatus.settable.map(\.rawValue).contains(status) {
            throw ValidationError("--status must be ACTIVE or DRAINING, got '\(status)'")
        }
    }

    func run() async throws {
        let configuration = try global.configuration(cluster: scope.cluster)
        var body: [String: JSONValue] = ["cluster": .string(configuration.cluster), "status": .string(status)]
        body.set("containerInstances", containerInstances)
        let answer = try await global.client(configuration).call(.updateContainerInstancesState, .object(body))
        global.emit(answer) {
            ECSTables.containerInstances($0["containerInstances"]?.arrayValue ?? []) + failuresTable($0)
        }
    }
}
