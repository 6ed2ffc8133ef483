import ArgumentParser
import FlotillaClient
import TaskDefinitions

/// `ecsctl describe-services`: ECS DescribeServices, with deployments and recent events in the table.
struct DescribeServices: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "describe-services", abstract: "Describes services: counts, deployments, recent events.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var scope: ClusterOptions
    @Option(parsing: .upToNextOption, help: "Service names or ARNs (at most 10).") var services: [String] = []
    @Option(parsing: .upToNextOption, help: "TAGS.") var include: [String] = []

    func validate() throws {
        if services.isEmpty { throw ValidationError("--services needs at least one service name or ARN") }
        if services.count > 10 { throw ValidationError("--services takes at most 10 services, got \(services.count)") }
    }

    func run() async throws {
        let configuration = try global.configuration(cluster: scope.cluster)
        var body: [String: JSONValue] = ["cluster": .string(configuration.cluster)]
        body.set("services", services)
        body.set("include", include)
        let answer = try await global.client(configuration).call(.describeServices, .object(body))
        global.emit(answer) { ECSTables.serviceDetails($0["services"]?.arrayValue ?? []) + failuresTable($0) }
    }
}
