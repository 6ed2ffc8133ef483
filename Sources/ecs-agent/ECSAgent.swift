import ArgumentParser

/// The node agent. The daemon (sync with the control plane) is not ready yet; `ecs-agent runtime` drives the
/// namespace runtime directly for debugging.
@main
struct ECSAgent: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ecs-agent",
        abstract: "Flotilla's node agent.",
        subcommands: [RuntimeCommand.self]
    )

    func run() async throws {
        print("ecs-agent: the agent daemon is not ready yet; use `ecs-agent runtime --help`")
        throw ExitCode.failure
    }
}
