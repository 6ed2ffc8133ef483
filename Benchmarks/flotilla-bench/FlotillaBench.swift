import ArgumentParser

/// One executable for every benchmark; one subcommand per area, each measured against its reference tool.
@main
struct FlotillaBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flotilla-bench",
        abstract: "Flotilla benchmarks: each prints a table and ends with one JSON line of figures and ratios.",
        subcommands: [
            APIBenchmark.self, RuntimeBenchmark.self, SchedulerBenchmark.self, BalancerBenchmark.self,
            E2EBenchmark.self,
        ]
    )
}
