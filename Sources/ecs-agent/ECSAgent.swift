import ArgumentParser

/// The node agent. `ecs-agent [options]` runs the daemon (`AgentCommand`); `ecs-agent runtime …` drives the
/// namespace runtime directly for debugging.
@main
struct ECSAgent: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ecs-agent",
        abstract: "Flotilla's node agent.",
        subcommands: [AgentCommand.self, RuntimeCommand.self],
        defaultSubcommand: AgentCommand.self
    )
}
