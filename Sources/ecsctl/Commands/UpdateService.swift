import ArgumentParser
import FlotillaClient
import TaskDefinitions

/// `ecsctl update-service`: ECS UpdateService.
struct UpdateService: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "update-service", abstract: "Changes a service's desired count, task definition or deployment.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var scope: ClusterOptions
    @OptionGroup var waiting: WaitOptions
    @Option(help: "The service's name or ARN.") var service: String
    @Option(parsing: .unconditional, help: "How many tasks to keep running.") var desiredCount: Int?
    @Option(help: "family, family:revision or ARN to deploy.") var taskDefinition: String?
    @Flag(inversion: .prefixedNo, help: "Start a new deployment even when nothing changed.") var forceNewDeployment:
        Bool?
    @Option(help: "maximumPercent=200,minimumHealthyPercent=100, or JSON.") var deploymentConfiguration: String?
    @Option(parsing: .upToNextOption, help: "type=memberOf,expression=... or JSON.") var placementConstraints:
        [String] = []
    @Option(parsing: .upToNextOption, help: "type=spread,field=... or JSON.") var placementStrategy: [String] = []
    @Option(parsing: .upToNextOption, help: "loadBalancerName=N,containerName=C,containerPort=P ... or JSON.")
    var loadBalancers: [String] = []
    @Option(help: "Seconds to ignore failing health checks after a task starts.") var healthCheckGracePeriodSeconds:
        Int?

    func validate() throws {
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
    }

    func run() async throws {
        let configuration = try global.configuration(cluster: scope.cluster)
        var body: [String: JSONValue] = ["cluster": .string(configuration.cluster), "service": .string(service)]
        body.set("desiredCount", desiredCount)
        body.set("taskDefinition", taskDefinition)
        body.set("forceNewDeployment", forceNewDeployment)
        try body.setDocument("deploymentConfiguration", deploymentConfiguration, option: "--deployment-configuration")
        try body.setList(
            "placementConstraints", placementConstraints, option: "--placement-constraints", shorthand: .strings)
        try body.setList("placementStrategy", placementStrategy, option: "--placement-strategy", shorthand: .strings)
        try body.setList("loadBalancers", loadBalancers, option: "--load-balancers")
        body.set("healthCheckGracePeriodSeconds", healthCheckGracePeriodSeconds)
        let client = try global.client(configuration)
        let answer = try await client.call(.updateService, .object(body))
        global.emit(answer) { ECSTables.services([$0["service"] ?? .null]) }
        try await waiting.waitIfAsked(for: answer["service"], client: client, cluster: configuration.cluster)
    }
}
