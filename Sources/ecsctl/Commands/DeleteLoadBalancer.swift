import ArgumentParser
import FlotillaClient
import TaskDefinitions

/// `ecsctl delete-load-balancer`: Flotilla's DeleteLoadBalancer.
struct DeleteLoadBalancer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete-load-balancer",
        abstract: "Deletes a load balancer no service uses; its listener drains and stops.")

    @OptionGroup var global: GlobalOptions
    @Option(help: "The balancer's name.") var loadBalancerName: String

    func run() async throws {
        let configuration = try global.configuration()
        let answer = try await global.client(configuration).call(
            .deleteLoadBalancer, .object(["loadBalancerName": .string(loadBalancerName)]))
        global.emit(answer) { LoadBalancerTables.loadBalancers([$0["loadBalancer"] ?? .null]) }
    }
}
