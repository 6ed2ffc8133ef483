import ArgumentParser
import FlotillaClient
import TaskDefinitions

/// `ecsctl list-task-definitions`: ECS ListTaskDefinitions, every page unless `--max-items`.
struct ListTaskDefinitions: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list-task-definitions", abstract: "Lists task definition ARNs.")

    @OptionGroup var global: GlobalOptions
    @Option(help: "Only revisions of this family (its full name, as ECS takes it).") var familyPrefix: String?
    @Option(help: "ACTIVE, INACTIVE or DELETE_IN_PROGRESS.") var status: String?
    @Option(help: "ASC or DESC.") var sort: String?
    @OptionGroup var paging: PaginationOptions

    func validate() throws {
        if let sort, !["ASC", "DESC"].contains(sort) {
            throw ValidationError("--sort must be ASC or DESC, got '\(sort)'")
        }
    }

    func run() async throws {
        let configuration = try global.configuration()
        var body: [String: JSONValue] = [:]
        body.set("familyPrefix", familyPrefix)
        body.set("status", status)
        body.set("sort", sort)
        let pages = try await global.client(configuration)
            .callPaginated(.listTaskDefinitions, body, pagination: paging.pagination(resultKey: "taskDefinitionArns"))
        global.emit(pages.result) {
            ECSTables.list("TASK DEFINITION ARN", $0["taskDefinitionArns"]?.arrayValue ?? []) + nextTokenLine($0)
        }
    }
}
