import ArgumentParser
import FlotillaClient
import TaskDefinitions

/// `ecsctl list-clusters`: ECS ListClusters, every page unless `--max-items`.
struct ListClusters: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list-clusters", abstract: "Lists cluster ARNs.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var paging: PaginationOptions

    func run() async throws {
        let configuration = try global.configuration()
        let pages = try await global.client(configuration)
            .callPaginated(.listClusters, [:], pagination: paging.pagination(resultKey: "clusterArns"))
        global.emit(pages.result) {
            ECSTables.list("CLUSTER ARN", $0["clusterArns"]?.arrayValue ?? []) + nextTokenLine($0)
        }
    }
}

/// The awscli's hint when `--max-items` stopped before the last page.
func nextTokenLine(_ answer: JSONValue) -> String {
    answer["NextToken"]?.stringValue.map { "NextToken: \($0)\n" } ?? ""
}
