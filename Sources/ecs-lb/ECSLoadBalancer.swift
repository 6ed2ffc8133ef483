import ArgumentParser
import DaemonSupport
import FlotillaClient
import Foundation
import HTTPServerLimits
import Hummingbird
import LoadBalancer
import Logging
import Prometheus
import ServiceLifecycle

/// `ecs-lb`: one Flotilla load balancer as its own process.
///
/// Parses flags or a JSON file, bootstraps logging and Prometheus metrics, starts the balancer, and runs it with a
/// SIGHUP target reloader and the `/metrics` endpoint in one `ServiceGroup` (SIGTERM/SIGINT: stop accepting, drain,
/// exit).
@main
struct ECSLoadBalancer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ecs-lb",
        abstract: "Run one Flotilla TCP load balancer.",
        discussion: """
            Targets come from --target flags, a --config file (SIGHUP reloads it), or the control plane \
            (--control-plane URL --load-balancer-name NAME: polled every --poll-interval; at start it waits until \
            the control plane answers and defines the balancer; later, while it cannot be reached, the last known \
            targets keep serving). SIGTERM stops accepting, drains, and exits.
            """)

    @OptionGroup var options: LoadBalancerOptions

    func run() async throws {
        let registry = Daemon.bootstrap(logLevel: self.options.logLevel.level)
        let logger = Logger(label: "flotilla.ecs-lb")

        // Errors past flag parsing (an unreadable or malformed file, a port in use) are one line, without usage.
        let source: any TargetSource
        let balancer: LoadBalancer
        do {
            source = try self.options.targetSource()
            let settings = try await Self.firstSettings(
                from: source, waiting: self.options.controlPlane != nil, every: .seconds(self.options.pollInterval),
                logger: logger)
            var configuration = settings.configuration
            configuration.maxConnections = self.options.maxConnections
            configuration.idleTimeout = .seconds(self.options.idleTimeout)
            balancer = try await LoadBalancer.start(configuration, targets: settings.targets, logger: logger)
        } catch {
            FileHandle.standardError.write(Data("Error: \(error)\n".utf8))
            throw ExitCode.failure
        }

        var services: [any Service] = [
            balancer, TargetReloadService(source: source, balancer: balancer, logger: logger),
        ]
        if self.options.controlPlane != nil {
            services.append(
                TargetPollService(
                    source: source, balancer: balancer, interval: .seconds(self.options.pollInterval), logger: logger))
        }
        if let metricsAddress = self.options.metricsListen {
            let router = Router()
            router.get("/metrics") { _, _ in PrometheusExposition.response(registry.emitToBuffer()) }
            services.insert(
                Application(
                    router: router,
                    configuration: .init(address: .hostname(metricsAddress.host, port: metricsAddress.port)),
                    logger: logger),
                at: 0)
        }
        try await Daemon.run(services, logger: logger)
    }

    /// The source's first settings. With the control plane as source (`waiting`), a control plane that cannot be
    /// reached yet or does not define the balancer yet is waited for, polling every `interval` and logging each
    /// new reason once, as the agents wait for it: processes on one host start in any order.
    static func firstSettings(
        from source: any TargetSource, waiting: Bool, every interval: Duration, logger: Logger
    ) async throws -> TargetSettings {
        var loggedReason: String?
        while true {
            do {
                return try await source.load()
            } catch let error where waiting && Self.isWorthWaiting(error) {
                let reason = "\(error)"
                if reason != loggedReason {
                    logger.warning("Waiting for the control plane", metadata: ["reason": "\(reason)"])
                    loggedReason = reason
                }
                try await Task.sleep(for: interval)
            }
        }
    }

    private static func isWorthWaiting(_ error: any Error) -> Bool {
        switch error {
        case ECSClientError.unreachable, ControlPlaneSourceError.noSuchBalancer: true
        default: false
        }
    }
}
