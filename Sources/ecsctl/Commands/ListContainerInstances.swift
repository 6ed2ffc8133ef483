import ArgumentParser
import FlotillaClient
import TaskDefinitions

/// `ecsctl list-container-instances`: ECS ListContainerInstances, every page unless `--max-items`.
struct ListContainerInstances: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list-container-instances", abstract: "Lists a cluster's container instance ARNs.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var scope: ClusterOptions
    @Option(help: "A cluster query language expression.") var filter: String?
    @Option(help: "ACTIVE, DRAINING, REGISTERING, DEREGISTERING or REGISTRATION_FAILED.") var status: String?
    @OptionGroup var paging: PaginationOptions

    func run() async throws {
        let configuration = try global.configuration(cluster: scope.cluster)
        var body: [String: JSONValue] = ["cluster": .string(configuration.cluster)]
        body.set("filter", filter)
        body.set("status", status)
        let pages = try await global.client(configuration).callPaginated(
            .listContainerInstances, body, pagination: paging.pagination(resultKey: "containerInstanceArns"))
        global.emit(pages.result) {
            ECSTables.list("CONTAINER INSTANCE ARN", $0["containerInstanceArns"]?.arrayValue ?? []) + nextTokenLine($0)
        }
    }
}
