import ArgumentParser
import FlotillaClient
import TaskDefinitions

/// `ecsctl list-services`: ECS ListServices, every page unless `--max-items`.
struct ListServices: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list-services", abstract: "Lists a cluster's service ARNs.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var scope: ClusterOptions
    @Option(help: "EC2.") var launchType: String?
    @Option(help: "REPLICA or DAEMON.") var schedulingStrategy: String?
    @OptionGroup var paging: PaginationOptions

    func run() async throws {
        let configuration = try global.configuration(cluster: scope.cluster)
        var body: [String: JSONValue] = ["cluster": .string(configuration.cluster)]
        body.set("launchType", launchType)
        body.set("schedulingStrategy", schedulingStrategy)
        let pages = try await global.client(configuration)
            .callPaginated(.listServices, body, pagination: paging.pagination(resultKey: "serviceArns"))
        global.emit(pages.result) {
            ECSTables.list("SERVICE ARN", $0["serviceArns"]?.arrayValue ?? []) + nextTokenLine($0)
        }
    }
}
