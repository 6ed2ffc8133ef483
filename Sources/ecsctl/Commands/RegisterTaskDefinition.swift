import ArgumentParser
import FlotillaClient
import TaskDefinitions

/// `ecsctl register-task-definition`: ECS RegisterTaskDefinition, from `--cli-input-json file://PATH` and/or flags.
struct RegisterTaskDefinition: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "register-task-definition",
        abstract: "Registers a task definition (a new revision of its family).")

    @OptionGroup var global: GlobalOptions
    @Option(help: "The whole request as JSON, usually file://PATH; flags given too override its members.")
    var cliInputJson: String?
    @Option(help: "The family.") var family: String?
    @Option(help: "The container definitions as a JSON list, or file://PATH.") var containerDefinitions: String?
    @Option(help: "bridge, host, awsvpc or none.") var networkMode: String?
    @Option(help: "Task-level CPU units (\"256\", \"1 vCPU\").") var cpu: String?
    @Option(help: "Task-level memory (\"512\", \"1 GB\").") var memory: String?
    @Option var taskRoleArn: String?
    @Option var executionRoleArn: String?
    @Option(parsing: .upToNextOption) var requiresCompatibilities: [String] = []
    @Option(parsing: .upToNextOption, help: "Volumes as JSON.") var volumes: [String] = []
    @Option(parsing: .upToNextOption, help: "Placement constraints: type=memberOf,expression=... or JSON.")
    var placementConstraints: [String] = []
    @Option(parsing: .upToNextOption, help: "Tags: key=K,value=V ... or JSON.") var tags: [String] = []

    func validate() throws {
        if cliInputJson == nil && (family == nil || containerDefinitions == nil) {
            throw ValidationError("give --cli-input-json file://PATH, or both --family and --container-definitions")
        }
        if let input = try validateDocument(cliInputJson, option: "--cli-input-json"), input.objectValue == nil {
            throw ValidationError("--cli-input-json: must be a JSON object (the RegisterTaskDefinition request)")
        }
        try validateDocument(containerDefinitions, option: "--container-definitions")
        try validateList(volumes, option: "--volumes")
        try validateList(placementConstraints, option: "--placement-constraints", shorthand: .strings)
        try validateList(tags, option: "--tags", shorthand: .strings)
    }

    func run() async throws {
        let configuration = try global.configuration()
        var body =
            try cliInputJson.map { try ArgumentDocument.parse($0, option: "--cli-input-json").objectValue ?? [:] }
            ?? [:]
        body.set("family", family)
        if let containerDefinitions {
            let value = try ArgumentDocument.parse(containerDefinitions, option: "--container-definitions")
            body["containerDefinitions"] = value.arrayValue != nil ? value : .array([value])
        }
        body.set("networkMode", networkMode)
        body.set("cpu", cpu)
        body.set("memory", memory)
        body.set("taskRoleArn", taskRoleArn)
        body.set("executionRoleArn", executionRoleArn)
        body.set("requiresCompatibilities", requiresCompatibilities)
        try body.setList("volumes", volumes, option: "--volumes")
        try body.setList(
            "placementConstraints", placementConstraints, option: "--placement-constraints", shorthand: .strings)
        try body.setList("tags", tags, option: "--tags", shorthand: .strings)
        let answer = try await global.client(configuration).call(.registerTaskDefinition, .object(body))
        global.emit(answer) { ECSTables.taskDefinition($0["taskDefinition"] ?? .null) }
    }
}
