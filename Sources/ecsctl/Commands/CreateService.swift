import ArgumentParser
import FlotillaClient
import TaskDefinitions

/// `ecsctl create-service`: ECS CreateService.
struct CreateService: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create-service", abstract: "Creates a service that keeps --desired-count tasks running.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var scope: ClusterOptions
    @OptionGroup var waiting: WaitOptions
    @Option(help: "The whole request as JSON, usually file://PATH; flags given too override its members.")
    var cliInputJson: String?
    @Option(help: "The service's name.") var serviceName: String?
    @Option(help: "family, family:revision or ARN.") var taskDefinition: String?
    @Option(parsing: .unconditional, help: "How many tasks to keep running.") var desiredCount: Int?
    @Option(help: "maximumPercent=200,minimumHealthyPercent=100, or JSON.") var deploymentConfiguration: String?
    @Option(parsing: .upToNextOption, help: "type=memberOf,expression=... or JSON.") var placementConstraints:
        [String] = []
    @Option(parsing: .upToNextOption, help: "type=spread,field=attribute:ecs.availability-zone ... or JSON.")
    var placementStrategy: [String] = []
    @Option(parsing: .upToNextOption, help: "loadBalancerName=N,containerName=C,containerPort=P ... or JSON.")
    var loadBalancers: [String] = []
    @Option(help: "Seconds to ignore failing health checks after a task starts.") var healthCheckGracePeriodSeconds:
        Int?
    @Option(help: "REPLICA or DAEMON.") var schedulingStrategy: String?
    @Option(help: "EC2 (the only kind Flotilla runs).") var launchType: String?
    @Option(parsing: .upToNextOption, help: "Tags: key=K,value=V ... or JSON.") var tags: [String] = []

    func validate() throws {
        if let input = try validateDocument(cliInputJson, option: "--cli-input-json"), input.objectValue == nil {
            throw ValidationError("--cli-input-json: must be a JSON object (the CreateService request)")
        }
        if cliInputJson == nil && serviceName == nil { throw ValidationError("--service-name is required") }
        if let desiredCount, desiredCount < 0 {
            throw ValidationError("--desired-count must not be negative, got \(desiredCount)")
        }
        if let healthCheckGracePeriodSeconds, healthCheckGracePeriodSeconds < 0 {
            throw ValidationError(
                "--health-check-grace-period-seconds must not be negative, got \(healthCheckGracePeriodSeconds)")
        }
        try validateDocument(deploymentConfiguration, option: "--deployment-configuration")
        try validateList(placementConstraints, option: "--placement-constraints", shorthand: .strings)
        try validateList(placementStrategy, option: "--placement-strategy", shorthand: .strings)
        try validateList(loadBalancers, option: "--load-balancers")
        try validateList(tags, option: "--tags", shorthand: .strings)
    }

    func run() async throws {
        let configuration = try global.configuration(cluster: scope.cluster)
        var body =
            try cliInputJson.map { try ArgumentDocument.parse($0, option: "--cli-input-json").objectValue ?? [:] }
            ?? [:]
        if body["cluster"] == nil || scope.cluster != nil { body["cluster"] = .string(configuration.cluster) }
        body.set("serviceName", serviceName)
        body.set("taskDefinition", taskDefinition)
        body.set("desiredCount", desiredCount)
        try body.setDocument("deploymentConfiguration", deploymentConfiguration, option: "--deployment-configuration")
        try body.setList(
            "placementConstraints", placementConstraints, option: "--placement-constraints", shorthand: .strings)
        try body.setList("placementStrategy", placementStrategy, option: "--placement-strategy", shorthand: .strings)
        try body.setList("loadBalancers", loadBalancers, option: "--load-balancers")
        body.set("healthCheckGracePeriodSeconds", healthCheckGracePeriodSeconds)
        body.set("schedulingStrategy", schedulingStrategy)
        body.set("launchType", launchType)
        try body.setList("tags", tags, option: "--tags", shorthand: .strings)
        let client = try global.client(configuration)
        let answer = try await client.call(.createService, .object(body))
        global.emit(answer) { ECSTables.services([$0["service"] ?? .null]) }
        try await waiting.waitIfAsked(for: answer["service"], client: client, cluster: configuration.cluster)
    }
}
