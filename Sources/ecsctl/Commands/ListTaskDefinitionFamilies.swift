import ArgumentParser
import FlotillaClient
import TaskDefinitions

/// `ecsctl list-task-definition-families`: ECS ListTaskDefinitionFamilies, every page unless `--max-items`.
struct ListTaskDefinitionFamilies: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list-task-definition-families", abstract: "Lists task definition families.")

    @OptionGroup var global: GlobalOptions
    @Option(help: "Only families starting with this.") var familyPrefix: String?
    @Option(help: "ACTIVE, INACTIVE or ALL.") var status: String?
    @OptionGroup var paging: PaginationOptions

    func run() async throws {
        let configuration = try global.configuration()
        var body: [String: JSONValue] = [:]
        body.set("familyPrefix", familyPrefix)
        body.set("status", status)
        let pages = try await global.client(configuration)
            .callPaginated(.listTaskDefinitionFamilies, body, pagination: paging.pagination(resultKey: "families"))
        global.emit(pages.result) { ECSTables.list("FAMILY", $0["families"]?.arrayValue ?? []) + nextTokenLine($0) }
    }
}
