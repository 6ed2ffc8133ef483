import ArgumentParser
import FlotillaClient
import TaskDefinitions

/// `ecsctl untag-resource`: ECS UntagResource.
struct UntagResource: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "untag-resource", abstract: "Removes tags from a resource.")

    @OptionGroup var global: GlobalOptions
    @Option(help: "The resource's ARN.") var resourceArn: String
    @Option(parsing: .upToNextOption, help: "The keys of the tags to remove.") var tagKeys: [String] = []

    func validate() throws {
        if tagKeys.isEmpty { throw ValidationError("--tag-keys needs at least one key") }
    }

    func run() async throws {
        let configuration = try global.configuration()
        var body: [String: JSONValue] = ["resourceArn": .string(resourceArn)]
        body.set("tagKeys", tagKeys)
        let answer = try await global.client(configuration).call(.untagResource, .object(body))
        global.emit(answer) { _ in "" }
    }
}
