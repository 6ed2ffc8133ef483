public import ArgumentParser
import Foundation
public import HTTPServerLimits

/// The flags of an HTTP listener's limits (`--header-timeout`, `--body-timeout`, `--idle-timeout`,
/// `--max-connections`, each with its `FLOTILLA_*` variable), for a daemon's `@OptionGroup`.
public struct ListenerLimitOptions: ParsableArguments {
    private static let environment = ProcessInfo.processInfo.environment

    @Option(
        help:
            "A request head must be complete this long after the connection opens, e.g. 10s (env FLOTILLA_HEADER_TIMEOUT)."
    )
    var headerTimeout: String = environment["FLOTILLA_HEADER_TIMEOUT"] ?? "10s"

    @Option(help: "A request body must be complete this long after its head, e.g. 60s (env FLOTILLA_BODY_TIMEOUT).")
    var bodyTimeout: String = environment["FLOTILLA_BODY_TIMEOUT"] ?? "60s"

    @Option(
        help: "A keep-alive connection with no new request this long is closed, e.g. 60s (env FLOTILLA_IDLE_TIMEOUT).")
    var idleTimeout: String = environment["FLOTILLA_IDLE_TIMEOUT"] ?? "60s"

    @Option(
        help:
            "Connections open at once; more are answered 503 and closed; default: the daemon's (env FLOTILLA_MAX_CONNECTIONS)."
    )
    var maxConnections: Int?

    public init() {}

    /// The limits, with `defaults.maxConnections` unless the flag or variable sets it; or the error naming the bad
    /// flag (the daemon's `validate()` throws it as a `ValidationError`).
    public func limits(defaults: HTTPServerLimits) -> Result<HTTPServerLimits, HTTPServerLimits.FlagError> {
        HTTPServerLimits.fromFlags(
            headerTimeout: headerTimeout, bodyTimeout: bodyTimeout, idleTimeout: idleTimeout,
            maxConnections: maxConnections ?? Self.environment["FLOTILLA_MAX_CONNECTIONS"].flatMap { Int($0) }
                ?? defaults.maxConnections)
    }
}
