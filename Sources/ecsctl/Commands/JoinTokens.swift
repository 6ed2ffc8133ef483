import ArgumentParser
import FlotillaClient
import TaskDefinitions

/// `ecsctl get-join-token`: the token agents join the cluster with, printed alone so `$(ecsctl get-join-token)` works.
struct GetJoinToken: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get-join-token", abstract: "Prints the cluster's join token (agents pass it as --join-token).")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var scope: ClusterOptions

    func run() async throws {
        let configuration = try global.configuration(cluster: scope.cluster)
        let answer = try await global.client(configuration)
            .call(.getJoinToken, .object(["cluster": .string(configuration.cluster)]))
        global.emit(answer) { "\($0["joinToken"]?.stringValue ?? "")\n" }
    }
}

/// `ecsctl rotate-join-token`: replaces the cluster's join token; the old one is refused from then on (agents
/// already registered keep their credentials).
struct RotateJoinToken: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotate-join-token",
        abstract: "Replaces the cluster's join token and prints the new one; the old one stops working.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var scope: ClusterOptions

    func run() async throws {
        let configuration = try global.configuration(cluster: scope.cluster)
        let answer = try await global.client(configuration)
            .call(.rotateJoinToken, .object(["cluster": .string(configuration.cluster)]))
        global.emit(answer) { "\($0["joinToken"]?.stringValue ?? "")\n" }
    }
}
