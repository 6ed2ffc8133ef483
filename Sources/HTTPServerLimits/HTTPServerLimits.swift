public import HummingbirdCore
public import Logging
import HTTPTypes
import Metrics
import NIOCore
public import NIOSSL
import Synchronization

/// How long a client of one of Flotilla's HTTP listeners may take, and how many may be connected at once.
///
/// Every deadline closes the connection (the client reads EOF): a request head that is not complete within
/// `headerTimeout` of the connection's start (slowloris), a request body that is not complete within `bodyTimeout`
/// of its head (slow body), and a keep-alive connection with no new request head within `idleTimeout` of the last
/// response. No deadline runs while a response is on its way (blocking polls, followed logs). A connection beyond
/// `maxConnections` is answered `503` (`ServiceUnavailableException`, `Connection: close`) as soon as its request
/// head arrives, or closed at `headerTimeout`, and does not count against the cap.
public struct HTTPServerLimits: Sendable, Hashable {
    public var headerTimeout: Duration
    public var bodyTimeout: Duration
    public var idleTimeout: Duration
    public var maxConnections: Int

    /// - Parameters:
    ///   - headerTimeout: 10 s: a request head is a few hundred bytes; nginx's `client_header_timeout` is 60 s, but
    ///     nothing that talks to Flotilla is that slow and a slowloris client holds a descriptor for all of it.
    ///   - bodyTimeout: 60 s for a whole body: the control plane takes at most 1 MiB (17 KiB/s at worst).
    ///   - idleTimeout: 60 s between requests on a keep-alive connection (ELB's default idle timeout).
    ///   - maxConnections: 4096 open connections.
    public init(
        headerTimeout: Duration = .seconds(10), bodyTimeout: Duration = .seconds(60),
        idleTimeout: Duration = .seconds(60), maxConnections: Int = 4096
    ) {
        self.headerTimeout = headerTimeout
        self.bodyTimeout = bodyTimeout
        self.idleTimeout = idleTimeout
        self.maxConnections = maxConnections
    }

    /// Every field that is out of range, as `field: problem` lines.
    public var issues: [String] {
        var issues: [String] = []
        if headerTimeout <= .zero { issues.append("headerTimeout: must be positive") }
        if bodyTimeout <= .zero { issues.append("bodyTimeout: must be positive") }
        if idleTimeout <= .zero { issues.append("idleTimeout: must be positive") }
        if maxConnections < 1 { issues.append("maxConnections: must be at least 1, got \(maxConnections)") }
        return issues
    }
}

extension HTTPServerBuilder {
    /// An HTTP/1.1 server that enforces `limits`; `server` names it in logs and metrics (`flotilla_http_*{server}`).
    ///
    /// With `tls` (`ServerTLS.context`), every connection is TLS first: the handshake happens within the request
    /// head's deadline (`headerTimeout` runs from the connection's start), so a client that stalls it is closed as a
    /// slowloris is, and the limits count it as any other connection.
    public static func http1(
        limits: HTTPServerLimits, server: String, tls: NIOSSLContext? = nil, logger: Logger
    ) -> HTTPServerBuilder {
        let gate = ConnectionGate(limits: limits, server: server, logger: logger)
        return HTTPServerBuilder { responder in LimitedHTTP1Channel(responder: responder, gate: gate, tls: tls) }
    }
}

/// A TLS server's certificate chain and key, as the daemons load them from PEM files.
public enum ServerTLS {
    /// The context for `http1(limits:server:tls:logger:)`: TLS 1.2 or later, the chain of `certificateFile` (the
    /// server's certificate first, then any intermediates or the CA) with the key of `privateKeyFile`.
    /// - Throws: `ServerTLSError` naming the file that cannot be used.
    public static func context(certificateFile: String, privateKeyFile: String) throws(ServerTLSError) -> NIOSSLContext {
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(certificateFile)
        } catch {
            throw ServerTLSError(path: certificateFile, problem: "not a readable PEM certificate chain")
        }
        guard !chain.isEmpty else { throw ServerTLSError(path: certificateFile, problem: "holds no certificate") }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: privateKeyFile, format: .pem)
        } catch {
            throw ServerTLSError(path: privateKeyFile, problem: "not a readable PEM private key")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw ServerTLSError(
                path: privateKeyFile, problem: "does not go with the certificate in \(certificateFile) (\(error))")
        }
    }
}

/// A certificate or key file a TLS listener cannot use.
public struct ServerTLSError: Error, CustomStringConvertible {
    public var path: String
    public var problem: String
    public var description: String { "\(path): \(problem)" }
}

/// Counts a server's open connections against its cap; shared by every connection of one server.
final class ConnectionGate: Sendable {
    let limits: HTTPServerLimits
    let server: String
    let logger: Logger
    private let open = Atomic<Int>(0)
    /// Whether the last connection was refused (the warning is logged once per burst of refusals).
    private let isRefusing = Atomic<Bool>(false)
    let refused: Counter
    let openGauge: Gauge

    init(limits: HTTPServerLimits, server: String, logger: Logger) {
        self.limits = limits
        self.server = server
        self.logger = logger
        refused = Counter(label: "flotilla_http_refused_connections_total", dimensions: [("server", server)])
        openGauge = Gauge(label: "flotilla_http_open_connections", dimensions: [("server", server)])
    }

    /// Admits one connection, or answers false when `maxConnections` are open.
    func admit() -> Bool {
        let count = open.wrappingAdd(1, ordering: .relaxed).newValue
        guard count <= limits.maxConnections else {
            open.wrappingSubtract(1, ordering: .relaxed)
            refused.increment()
            if !isRefusing.exchange(true, ordering: .relaxed) {
                logger.warning(
                    "connection limit reached; refusing new connections",
                    metadata: [
                        "http.server": "\(server)", "http.max_connections": "\(limits.maxConnections)",
                    ])
            }
            return false
        }
        isRefusing.store(false, ordering: .relaxed)
        openGauge.record(count)
        return true
    }

    func release() {
        openGauge.record(open.wrappingSubtract(1, ordering: .relaxed).newValue)
    }

    func timedOut(_ deadline: RequestDeadlineHandler.Deadline) {
        Counter(
            label: "flotilla_http_timed_out_connections_total",
            dimensions: [("server", server), ("deadline", deadline.rawValue)]
        )
        .increment()
        logger.debug(
            "connection closed at its deadline",
            metadata: ["http.server": "\(server)", "http.deadline": "\(deadline.rawValue)"])
    }
}

/// Hummingbird's HTTP/1.1 child channel with a `RequestDeadlineHandler` in each connection's pipeline.
struct LimitedHTTP1Channel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value
    let responder: HTTPChannelHandler.Responder
    let gate: ConnectionGate
    let tls: NIOSSLContext?
    private let base: HTTP1Channel

    init(responder: @escaping HTTPChannelHandler.Responder, gate: ConnectionGate, tls: NIOSSLContext?) {
        self.responder = responder
        self.gate = gate
        self.tls = tls
        self.base = HTTP1Channel(responder: responder)
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        if let tls {
            do {
                try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls))
            } catch {
                return channel.eventLoop.makeFailedFuture(error)
            }
        }
        let admitted = gate.admit()
        if admitted { channel.closeFuture.whenComplete { [gate] _ in gate.release() } }
        let gate = self.gate
        let perConnection = HTTP1Channel(
            responder: responder,
            configuration: .init(
                additionalChannelHandlers: [RequestDeadlineHandler(gate: gate, refusing: !admitted)]))
        return perConnection.setup(channel: channel, logger: logger)
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

extension HTTPServerLimits {
    /// `500ms`, `10s`, `2m`, `1h` or plain seconds; nil when it is none of these or not positive.
    public static func parseDuration(_ text: String) -> Duration? {
        let units: [(String, Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000)]
        for (suffix, milliseconds) in units where text.hasSuffix(suffix) {
            guard let value = Int64(text.dropLast(suffix.count)), value > 0 else { return nil }
            return .milliseconds(value * milliseconds)
        }
        return Int64(text).flatMap { $0 > 0 ? .seconds($0) : nil }
    }

    /// The limits the executables' flags give (`--header-timeout`, `--body-timeout`, `--idle-timeout`,
    /// `--max-connections`); the error names the bad flag.
    public static func fromFlags(
        headerTimeout: String, bodyTimeout: String, idleTimeout: String,
        maxConnections: Int
    ) -> Result<HTTPServerLimits, FlagError> {
        var limits = HTTPServerLimits(maxConnections: maxConnections)
        for (flag, text, keyPath) in [
            ("--header-timeout", headerTimeout, \HTTPServerLimits.headerTimeout),
            ("--body-timeout", bodyTimeout, \.bodyTimeout), ("--idle-timeout", idleTimeout, \.idleTimeout),
        ] {
            guard let duration = parseDuration(text) else {
                return .failure(
                    FlagError(message: "\(flag): expected a positive duration like 10s, 500ms or 2m, got \(text)"))
            }
            limits[keyPath: keyPath] = duration
        }
        guard maxConnections >= 1 else {
            return .failure(FlagError(message: "--max-connections: must be at least 1, got \(maxConnections)"))
        }
        return .success(limits)
    }

    /// A bad limit flag, with a message naming it.
    public struct FlagError: Error, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }
}

/// Prometheus' text exposition format, as every daemon's `GET /metrics` answers it.
public enum PrometheusExposition {
    public static let contentType = "text/plain; version=0.0.4"

    /// `200` with `text` (a registry's `emitToBuffer()`) and the exposition content type.
    public static func response(_ text: [UInt8]) -> Response {
        Response(status: .ok, headers: [.contentType: contentType], body: .init(byteBuffer: ByteBuffer(bytes: text)))
    }
}
