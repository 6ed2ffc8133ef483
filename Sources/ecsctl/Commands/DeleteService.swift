import ArgumentParser
import FlotillaClient
import TaskDefinitions

/// `ecsctl delete-service`: ECS DeleteService.
struct DeleteService: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete-service", abstract: "Deletes a service (scaled to 0 first, unless --force).")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var scope: ClusterOptions
    @Option(help: "The service's name or ARN.") var service: String
    @Flag(inversion: .prefixedNo, help: "Delete even when the service still has desired tasks.") var force: Bool?

    func run() async throws {
        let configuration = try global.configuration(cluster: scope.cluster)
        var body: [String: JSONValue] = ["cluster": .string(configuration.cluster), "service": .string(service)]
        body.set("force", force)
        let answer = try await global.client(configuration).call(.deleteService, .object(body))
        global.emit(answer) { ECSTables.services([$0["service"] ?? .null]) }
    }
}
