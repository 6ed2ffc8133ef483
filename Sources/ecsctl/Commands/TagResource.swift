import ArgumentParser
import FlotillaClient
import TaskDefinitions

/// `ecsctl tag-resource`: ECS TagResource.
struct TagResource: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tag-resource", abstract: "Adds tags to a resource.")

    @OptionGroup var global: GlobalOptions
    @Option(help: "The resource's ARN.") var resourceArn: String
    @Option(parsing: .upToNextOption, help: "key=K,value=V ... or JSON.") var tags: [String] = []

    func validate() throws {
        if tags.isEmpty { throw ValidationError("--tags needs at least one tag") }
        try validateList(tags, option: "--tags", shorthand: .strings)
    }

    func run() async throws {
        let configuration = try global.configuration()
        var body: [String: JSONValue] = ["resourceArn": .string(resourceArn)]
        try body.setList("tags", tags, option: "--tags", shorthand: .strings)
        let answer = try await global.client(configuration).call(.tagResource, .object(body))
        global.emit(answer) { _ in "" }
    }
}
