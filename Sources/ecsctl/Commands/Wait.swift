import ArgumentParser
import FlotillaClient
import Foundation
import TaskDefinitions

/// `ecsctl wait`: blocks until a condition holds, as `aws ecs wait` does.
struct Wait: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wait", abstract: "Waits until a condition holds (as aws ecs wait).",
        subcommands: [ServicesStable.self])
}

/// `ecsctl wait services-stable`: polls DescribeServices until every service has one deployment, runs as many tasks
/// as desired and has none pending.
struct ServicesStable: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "services-stable",
        abstract: "Waits until the services are stable: one deployment, runningCount == desiredCount, none pending.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var scope: ClusterOptions
    @Option(parsing: .upToNextOption, help: "Service names or ARNs (at most 10).") var services: [String] = []
    @Option(help: "Seconds to wait before giving up (exit 255).") var timeout: Int = 600
    @Option(help: "Seconds between polls.") var delay: Int = 2

    func validate() throws {
        if services.isEmpty { throw ValidationError("--services needs at least one service name or ARN") }
        if services.count > 10 { throw ValidationError("--services takes at most 10 services, got \(services.count)") }
        if timeout < 1 { throw ValidationError("--timeout must be at least 1 second, got \(timeout)") }
        if !(1...300).contains(delay) {
            throw ValidationError("--delay must be between 1 and 300 seconds, got \(delay)")
        }
    }

    func run() async throws {
        let configuration = try global.configuration(cluster: scope.cluster)
        try await ServiceWaiter(
            client: global.client(configuration), cluster: configuration.cluster, services: services,
            timeout: .seconds(timeout), delay: .seconds(delay), progress: nil
        ).run()
    }
}

/// The loop behind `wait services-stable` and `--wait`: polls until stable, a terminal failure, or the timeout.
struct ServiceWaiter {
    var client: ECSClient
    var cluster: String
    var services: [String]
    var timeout: Duration
    var delay: Duration
    /// Progress printed on stderr (`--wait`); nil prints nothing but the failure.
    var progress: ServiceProgress?

    func run() async throws {
        var progress = progress
        let deadline = ContinuousClock.now + timeout
        let body: JSONValue = .object(["cluster": .string(cluster), "services": .array(services.map(JSONValue.string))])
        while true {
            let answer = try await client.call(.describeServices, body)
            if progress != nil {
                for line in progress!.lines(for: answer) { Self.printError(line) }
            }
            switch ServiceStability.verdict(of: answer) {
            case .stable:
                if progress != nil { Self.printError("\(services.joined(separator: ", ")): steady state") }
                return
            case .failed(let reason):
                Self.fail("Waiter ServicesStable failed: Waiter encountered a terminal failure state: \(reason)")
            case .waiting(let moving):
                guard ContinuousClock.now + delay <= deadline else {
                    Self.fail(
                        "Waiter ServicesStable failed: Max attempts exceeded (not stable after \(timeout.components.seconds) s: \(moving.joined(separator: ", ")))"
                    )
                }
                try await Task.sleep(for: delay)
            }
        }
    }

    static func printError(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// The awscli's waiter failure: one line, exit status 255.
    static func fail(_ message: String) -> Never {
        printError("ecsctl: " + message)
        Foundation.exit(255)
    }
}

/// `--wait` and its timeout for create-service and update-service.
struct WaitOptions: ParsableArguments {
    @Flag(help: "Wait until the service is stable, printing counts and new events on stderr.") var wait = false
    @Option(help: "Seconds --wait waits before giving up (exit 255).") var waitTimeout: Int = 600

    func validate() throws {
        if waitTimeout < 1 { throw ValidationError("--wait-timeout must be at least 1 second, got \(waitTimeout)") }
    }

    /// Waits for `service` (the create/update answer's) when `--wait` was given.
    func waitIfAsked(for service: JSONValue?, client: ECSClient, cluster: String) async throws {
        guard wait, let service, let name = service["serviceName"]?.stringValue else { return }
        try await ServiceWaiter(
            client: client, cluster: cluster, services: [name], timeout: .seconds(waitTimeout),
            delay: .seconds(1), progress: ServiceProgress(known: [service])
        ).run()
    }
}
