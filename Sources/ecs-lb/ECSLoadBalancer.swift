import ArgumentParser
import Foundation
import Hummingbird
import LoadBalancer
import Logging
import Metrics
import Prometheus
import ServiceLifecycle
import UnixSignals

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
            (--control-plane URL --load-balancer-name NAME: polled every --poll-interval; while the control plane \
            cannot be reached the last known targets keep serving). SIGTERM stops accepting, drains, and exits.
            """)

    @OptionGroup var options: LoadBalancerOptions

    func run() async throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = self.options.logLevel.level
            return handler
        }
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let logger = Logger(label: "flotilla.ecs-lb")

        // Errors past flag parsing (an unreadable or malformed file, a port in use) are one line, without usage.
        let source: any TargetSource
        let balancer: LoadBalancer
        do {
            source = try self.options.targetSource()
            let settings = try await source.load()
            balancer = try await LoadBalancer.start(settings.configuration, targets: settings.targets, logger: logger)
        } catch {
            FileHandle.standardError.write(Data("Error: \(error)\n".utf8))
            throw ExitCode.failure
        }

        var services: [any Service] = [balancer, TargetReloadService(source: source, balancer: balancer, logger: logger)]
        if self.options.controlPlane != nil {
            services.append(TargetPollService(
                source: source, balancer: balancer, interval: .seconds(self.options.pollInterval), logger: logger))
        }
        if let metricsAddress = self.options.metricsListen {
            let router = Router()
            router.get("/metrics") { _, _ in
                String(decoding: registry.emitToBuffer(), as: UTF8.self)
            }
            services.insert(
                Application(
                    router: router,
                    configuration: .init(address: .hostname(metricsAddress.host, port: metricsAddress.port)),
                    logger: logger),
                at: 0)
        }
        let group = ServiceGroup(
            configuration: .init(
                services: services.map { .init(service: $0) },
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        try await group.run()
    }
}
