import ArgumentParser
import FlotillaClient
import TaskDefinitions

/// `ecsctl create-cluster`: ECS CreateCluster.
struct CreateCluster: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create-cluster", abstract: "Creates a cluster.")

    @OptionGroup var global: GlobalOptions
    @Option(help: "The cluster's name (default: FLOTILLA_CLUSTER, the config file's, else 'default').")
    var clusterName: String?
    @Option(parsing: .upToNextOption, help: "Tags: key=K,value=V ... or JSON.") var tags: [String] = []
    @Option(parsing: .upToNextOption, help: "Settings: name=containerInsights,value=enabled ... or JSON.")
    var settings: [String] = []

    func validate() throws {
        try validateList(tags, option: "--tags", shorthand: .strings)
        try validateList(settings, option: "--settings", shorthand: .strings)
    }

    func run() async throws {
        let configuration = try global.configuration()
        var body: [String: JSONValue] = [:]
        body.set("clusterName", clusterName ?? configuration.cluster)
        try body.setList("tags", tags, option: "--tags", shorthand: .strings)
        try body.setList("settings", settings, option: "--settings", shorthand: .strings)
        let answer = try await global.client(configuration).call(.createCluster, .object(body))
        global.emit(answer) { ECSTables.clusters([$0["cluster"] ?? .null]) }
    }
}
