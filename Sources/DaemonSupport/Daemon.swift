public import Logging
import Metrics
public import Prometheus
public import ServiceLifecycle
import UnixSignals

/// What every Flotilla daemon (`ecs-control-plane`, `ecs-agent`, `ecs-lb`) does the same way around its own work.
public enum Daemon {
    /// Logs to stderr at `level` and records metrics into a Prometheus registry, whose text the daemon serves on
    /// `/metrics` (see `PrometheusExposition`). Call once, first thing in `run()`.
    public static func bootstrap(logLevel level: Logger.Level) -> PrometheusCollectorRegistry {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }

    /// Runs `services` in one `ServiceGroup` until they end or SIGTERM/SIGINT starts a graceful shutdown, which
    /// reaches the services in reverse order (the first listed shuts down last).
    public static func run(_ services: [any Service], logger: Logger) async throws {
        let group = ServiceGroup(
            configuration: .init(
                services: services.map { .init(service: $0) },
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        try await group.run()
    }
}
