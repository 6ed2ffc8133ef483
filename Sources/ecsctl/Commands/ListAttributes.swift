import ArgumentParser
import FlotillaClient
import TaskDefinitions

/// `ecsctl list-attributes`: ECS ListAttributes, every page unless `--max-items`.
struct ListAttributes: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list-attributes", abstract: "Lists attributes of a cluster's resources.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var scope: ClusterOptions
    @Option(help: "container-instance.") var targetType: String
    @Option(help: "Only attributes with this name.") var attributeName: String?
    @Option(help: "Only attributes with this value (needs --attribute-name).") var attributeValue: String?
    @OptionGroup var paging: PaginationOptions

    func validate() throws {
        if targetType != "container-instance" {
            throw ValidationError("--target-type must be container-instance, got '\(targetType)'")
        }
        if attributeValue != nil && attributeName == nil {
            throw ValidationError("--attribute-value needs --attribute-name")
        }
    }

    func run() async throws {
        let configuration = try global.configuration(cluster: scope.cluster)
        var body: [String: JSONValue] = ["cluster": .string(configuration.cluster), "targetType": .string(targetType)]
        body.set("attributeName", attributeName)
        body.set("attributeValue", attributeValue)
        let pages = try await global.client(configuration)
            .callPaginated(.listAttributes, body, pagination: paging.pagination(resultKey: "attributes"))
        global.emit(pages.result) { ECSTables.attributes($0["attributes"]?.arrayValue ?? []) + nextTokenLine($0) }
    }
}
