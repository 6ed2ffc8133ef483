import ArgumentParser
import FlotillaClient
import TaskDefinitions

/// `ecsctl delete-cluster`: ECS DeleteCluster.
struct DeleteCluster: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete-cluster", abstract: "Deletes an empty cluster.")

    @OptionGroup var global: GlobalOptions
    @Option(help: "The cluster's name or ARN.") var cluster: String

    func run() async throws {
        let configuration = try global.configuration(cluster: cluster)
        let answer = try await global.client(configuration)
            .call(.deleteCluster, .object(["cluster": .string(configuration.cluster)]))
        global.emit(answer) { ECSTables.clusters([$0["cluster"] ?? .null]) }
    }
}
