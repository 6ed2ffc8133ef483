public import Logging
import Metrics
public import Prometheus
public import ServiceLifecycle
import UnixSignals
#if canImport(Glibc)
import Glibc
#endif

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

    /// Overwrites the values of `names` in this process's environment block with NUL bytes and removes them from the
    /// environment: `/proc/<pid>/environ` of this process, and of every process it forks from now on (a container's
    /// first process is a fork of the agent), no longer shows them. Call once the values have been read.
    public static func scrubEnvironment(_ names: [String]) {
        for name in names {
            guard let value = getenv(name) else { continue }
            memset(value, 0, strlen(value))
            unsetenv(name)
        }
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
