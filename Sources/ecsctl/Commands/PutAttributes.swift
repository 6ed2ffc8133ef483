import ArgumentParser
import FlotillaClient
import TaskDefinitions

/// `ecsctl put-attributes`: ECS PutAttributes (custom attributes that placement constraints read).
struct PutAttributes: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "put-attributes", abstract: "Creates or replaces attributes of container instances.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var scope: ClusterOptions
    @Option(
        parsing: .upToNextOption,
        help: "name=N,value=V,targetType=container-instance,targetId=ID ... or JSON (at most 10).")
    var attributes: [String] = []

    func validate() throws {
        if attributes.isEmpty { throw ValidationError("--attributes needs at least one attribute") }
        try validateList(attributes, option: "--attributes", shorthand: .strings)
    }

    func run() async throws {
        let configuration = try global.configuration(cluster: scope.cluster)
        var body: [String: JSONValue] = ["cluster": .string(configuration.cluster)]
        try body.setList("attributes", attributes, option: "--attributes", shorthand: .strings)
        let answer = try await global.client(configuration).call(.putAttributes, .object(body))
        global.emit(answer) { ECSTables.attributes($0["attributes"]?.arrayValue ?? []) }
    }
}
