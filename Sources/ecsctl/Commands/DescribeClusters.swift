import ArgumentParser
import FlotillaClient
import TaskDefinitions

/// `ecsctl describe-clusters`: ECS DescribeClusters.
struct DescribeClusters: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "describe-clusters", abstract: "Describes clusters.")

    @OptionGroup var global: GlobalOptions
    @Option(parsing: .upToNextOption, help: "Cluster names or ARNs (default: the configured cluster).")
    var clusters: [String] = []
    @Option(parsing: .upToNextOption, help: "ATTACHMENTS, CONFIGURATIONS, SETTINGS, STATISTICS, TAGS.")
    var include: [String] = []

    func run() async throws {
        let configuration = try global.configuration()
        var body: [String: JSONValue] = [:]
        body.set("clusters", clusters.isEmpty ? [configuration.cluster] : clusters)
        body.set("include", include)
        let answer = try await global.client(configuration).call(.describeClusters, .object(body))
        global.emit(answer) { ECSTables.clusters($0["clusters"]?.arrayValue ?? []) + failuresTable($0) }
    }
}
