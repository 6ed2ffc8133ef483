import ArgumentParser
import FlotillaClient
import TaskDefinitions

/// `ecsctl list-tags-for-resource`: ECS ListTagsForResource.
struct ListTagsForResource: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list-tags-for-resource", abstract: "Lists a resource's tags.")

    @OptionGroup var global: GlobalOptions
    @Option(help: "The resource's ARN.") var resourceArn: String

    func run() async throws {
        let configuration = try global.configuration()
        let answer = try await global.client(configuration)
            .call(.listTagsForResource, .object(["resourceArn": .string(resourceArn)]))
        global.emit(answer) { ECSTables.tags($0["tags"]?.arrayValue ?? []) }
    }
}
