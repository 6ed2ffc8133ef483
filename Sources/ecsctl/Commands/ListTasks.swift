import ArgumentParser
import ECSVocabulary
import FlotillaClient
import TaskDefinitions

/// `ecsctl list-tasks`: ECS ListTasks, every page unless `--max-items`.
struct ListTasks: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list-tasks", abstract: "Lists a cluster's task ARNs.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var scope: ClusterOptions
    @Option(help: "Only this service's tasks.") var serviceName: String?
    @Option(help: "Only tasks of this family.") var family: String?
    @Option(help: "Only tasks on this container instance.") var containerInstance: String?
    @Option(help: "RUNNING (the default), PENDING or STOPPED.") var desiredStatus: String?
    @Option(help: "Only tasks started with this --started-by.") var startedBy: String?
    @Option(help: "EC2.") var launchType: String?
    @OptionGroup var paging: PaginationOptions

    func validate() throws {
        if let desiredStatus, !TaskStatus.listFilters.map(\.rawValue).contains(desiredStatus) {
            throw ValidationError("--desired-status must be RUNNING, PENDING or STOPPED, got '\(desiredStatus)'")
        }
    }

    func run() async throws {
        let configuration = try global.configuration(cluster: scope.cluster)
        var body: [String: JSONValue] = ["cluster": .string(configuration.cluster)]
        body.set("serviceName", serviceName)
        body.set("family", family)
        body.set("containerInstance", containerInstance)
        body.set("desiredStatus", desiredStatus)
        body.set("startedBy", startedBy)
        body.set("launchType", launchType)
        let pages = try await global.client(configuration)
            .callPaginated(.listTasks, body, pagination: paging.pagination(resultKey: "taskArns"))
        global.emit(pages.result) { ECSTables.list("TASK ARN", $0["taskArns"]?.arrayValue ?? []) + nextTokenLine($0) }
    }
}
