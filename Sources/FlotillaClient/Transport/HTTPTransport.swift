public import Foundation
#if canImport(FoundationNetworking)
public import FoundationNetworking
#endif
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// The clients' one HTTP/1.1 transport: SwiftNIO with swift-nio-ssl, keep-alive connections reused per endpoint,
/// answers bounded in size and time. `ECSClient` sends through it, so ecsctl, the agent and ecs-lb all do.
///
/// URLSession on Linux (libcurl) can neither take a CA bundle nor pin a CA, hence this. `https://` is verified
/// against `trust` (certificate chain and host name or IP address); `http://` only goes to loopback unless
/// `allowsPlainHTTPBeyondLoopback`.
public final class HTTPTransport: Sendable {
    /// The transport's bounds on what a peer controls.
    public struct Limits: Sendable, Hashable {
        /// Largest answer body taken; a larger one fails the call (`responseTooLarge`) and closes the connection.
        public var maxResponseBytes: Int
        /// Longest a TCP connect may take.
        public var connectTimeout: Duration
        /// Idle keep-alive connections kept per endpoint.
        public var maxIdleConnectionsPerEndpoint: Int
        /// An idle connection older than this is closed instead of reused (below the servers' 60 s idle timeout,
        /// so a reused connection is rarely one the server is closing).
        public var idleTimeout: Duration

        public init(
            maxResponseBytes: Int = 16 << 20, connectTimeout: Duration = .seconds(10),
            maxIdleConnectionsPerEndpoint: Int = 8, idleTimeout: Duration = .seconds(30)
        ) {
            self.maxResponseBytes = maxResponseBytes
            self.connectTimeout = connectTimeout
            self.maxIdleConnectionsPerEndpoint = maxIdleConnectionsPerEndpoint
            self.idleTimeout = idleTimeout
        }
    }

    /// An answer: status, headers, body.
    public struct Response: Sendable {
        public var statusCode: Int
        public var headers: [(name: String, value: String)]
        public var body: Data
    }

    public let trust: TLSTrust
    public let limits: Limits
    public let allowsPlainHTTPBeyondLoopback: Bool
    private let tlsContext: NIOSSLContext
    private let idle = Mutex<[String: [IdleConnection]]>([:])

    private struct IdleConnection: Sendable {
        var connection: Connection
        var since: ContinuousClock.Instant
    }

    struct Connection: Sendable {
        let channel: any Channel
        let handler: NIOLoopBound<HTTPExchangeHandler>
    }

    /// - Throws: `HTTPTransportError.caBundle` when `trust` names a file that holds no usable certificate.
    public init(
        trust: TLSTrust = .system, limits: Limits = Limits(), allowsPlainHTTPBeyondLoopback: Bool = false
    ) throws(HTTPTransportError) {
        self.trust = trust
        self.limits = limits
        self.allowsPlainHTTPBeyondLoopback = allowsPlainHTTPBeyondLoopback
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        if case .caBundle(let path) = trust {
            configuration.trustRoots = .certificates(try Self.certificates(inBundle: path))
        }
        do {
            tlsContext = try NIOSSLContext(configuration: configuration)
        } catch {
            throw .tls("cannot set up TLS: \(error)")
        }
    }

    /// The certificates of a PEM bundle.
    static func certificates(inBundle path: String) throws(HTTPTransportError) -> [NIOSSLCertificate] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .caBundle(path: path, problem: "cannot be read")
        }
        let certificates: [NIOSSLCertificate]
        do {
            certificates = try NIOSSLCertificate.fromPEMBytes(Array(data))
        } catch {
            throw .caBundle(path: path, problem: "is not a PEM certificate bundle")
        }
        guard !certificates.isEmpty else { throw .caBundle(path: path, problem: "holds no certificate") }
        return certificates
    }

    deinit {
        for connections in idle.withLock({ $0.values }) {
            for idle in connections { idle.connection.channel.close(promise: nil) }
        }
    }

    // MARK: - Sending

    /// Sends `request` (its method, URL, headers and body as they are: sign it first) and answers the whole
    /// response, within `timeout` from the request's first byte (connecting counts against `limits.connectTimeout`).
    public func send(_ request: URLRequest, timeout: Duration) async throws(HTTPTransportError) -> Response {
        guard let url = request.url, let endpoint = Endpoint(url) else {
            throw .invalidURL(request.url?.absoluteString ?? "(none)")
        }
        if !endpoint.isTLS, !endpoint.isLoopback, !allowsPlainHTTPBeyondLoopback {
            throw .plainHTTPRefused(host: endpoint.host)
        }
        var head = HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: request.httpMethod ?? "GET"), uri: endpoint.target)
        for (name, value) in request.allHTTPHeaderFields ?? [:] where name.lowercased() != "host" {
            head.headers.add(name: name, value: value)
        }
        head.headers.replaceOrAdd(name: "Host", value: endpoint.authority)
        let body = request.httpBody
        head.headers.replaceOrAdd(name: "Content-Length", value: String(body?.count ?? 0))

        // A reused connection the server closed meanwhile fails before any answer: try once more on a new one.
        if let reused = takeIdle(endpoint) {
            do {
                return try await exchange(on: reused, endpoint: endpoint, head: head, body: body, timeout: timeout)
            } catch {
                guard error == .connectionClosed else { throw error }
            }
        }
        let connection = try await connect(endpoint)
        return try await exchange(on: connection, endpoint: endpoint, head: head, body: body, timeout: timeout)
    }

    private func exchange(
        on connection: Connection, endpoint: Endpoint, head: HTTPRequestHead, body: Data?, timeout: Duration
    ) async throws(HTTPTransportError) -> Response {
        let channel = connection.channel
        let promise = channel.eventLoop.makePromise(of: HTTPExchangeHandler.Answer.self)
        let limit = limits.maxResponseBytes
        channel.eventLoop.execute {
            let buffer = body.map { ByteBuffer(bytes: $0) }
            connection.handler.value.send(
                head: head, body: buffer, limit: limit, timeout: TimeAmount(timeout), promise: promise)
        }
        let answer: HTTPExchangeHandler.Answer
        do {
            answer = try await withTaskCancellationHandler {
                try await promise.futureResult.get()
            } onCancel: {
                channel.close(promise: nil)
            }
        } catch {
            throw mapped(error)
        }
        if answer.head.isKeepAlive { putIdle(connection, endpoint) } else { channel.close(promise: nil) }
        return Response(
            statusCode: Int(answer.head.status.code),
            headers: answer.head.headers.map { (name: $0.name, value: $0.value) },
            body: Data(answer.body.readableBytesView))
    }

    /// The untrusted-certificate error names this transport's trust.
    private func mapped(_ error: any Error) -> HTTPTransportError {
        let error = HTTPTransportError.from(error)
        if case .untrustedCertificate = error { return .untrustedCertificate(trustSource: trust.source) }
        return error
    }

    // MARK: - Connections

    private func connect(_ endpoint: Endpoint) async throws(HTTPTransportError) -> Connection {
        let tls = endpoint.isTLS ? tlsContext : nil
        // SNI takes names only; an address is verified against the certificate's IP address entries.
        let serverName = endpoint.isAddress ? nil : endpoint.host
        // The handler as it was added: a failed handshake may have emptied the pipeline before `connect` returns, and
        // the handler keeps that failure for the first exchange to answer.
        let added = Mutex<NIOLoopBound<HTTPExchangeHandler>?>(nil)
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(TimeAmount(limits.connectTimeout))
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if let tls {
                            try channel.pipeline.syncOperations.addHandler(
                                NIOSSLClientHandler(context: tls, serverHostname: serverName))
                        }
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        let handler = HTTPExchangeHandler()
                        try channel.pipeline.syncOperations.addHandler(handler)
                        added.withLock { $0 = NIOLoopBound(handler, eventLoop: channel.eventLoop) }
                    }
                }
                .connect(host: endpoint.host, port: endpoint.port).get()
        } catch {
            throw mapped(error)
        }
        guard let handler = added.withLock({ $0 }) else { throw .connectionClosed }
        return Connection(channel: channel, handler: handler)
    }

    private func takeIdle(_ endpoint: Endpoint) -> Connection? {
        let now = ContinuousClock.now
        let (found, stale) = idle.withLock { idle -> (Connection?, [Connection]) in
            var stale: [Connection] = []
            var list = idle[endpoint.key] ?? []
            var found: Connection?
            while let last = list.popLast() {
                if last.connection.channel.isActive, now - last.since < limits.idleTimeout {
                    found = last.connection
                    break
                }
                stale.append(last.connection)
            }
            idle[endpoint.key] = list
            return (found, stale)
        }
        for connection in stale { connection.channel.close(promise: nil) }
        return found
    }

    private func putIdle(_ connection: Connection, _ endpoint: Endpoint) {
        let kept = idle.withLock { idle in
            var list = idle[endpoint.key] ?? []
            guard list.count < limits.maxIdleConnectionsPerEndpoint else { return false }
            list.append(IdleConnection(connection: connection, since: .now))
            idle[endpoint.key] = list
            return true
        }
        if !kept { connection.channel.close(promise: nil) }
    }
}

/// Where a URL's request goes: scheme, host, port, and the request target.
struct Endpoint {
    var isTLS: Bool
    var host: String
    var port: Int
    var target: String
    var key: String { "\(isTLS ? "https" : "http")://\(authority)" }

    init?(_ url: URL) {
        guard let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https", let host = url.host,
            !host.isEmpty
        else { return nil }
        isTLS = scheme == "https"
        self.host = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        port = url.port ?? (isTLS ? 443 : 80)
        let components = URLComponents(url: url, resolvingAgainstBaseURL: false)
        let path = components?.percentEncodedPath ?? "/"
        target = (path.isEmpty ? "/" : path) + (components?.percentEncodedQuery.map { "?\($0)" } ?? "")
        explicitPort = url.port != nil
    }

    private var explicitPort: Bool

    /// The `Host` header as the request was signed with it: the URL's host and any port.
    var authority: String {
        let name = host.contains(":") ? "[\(host)]" : host
        return explicitPort ? "\(name):\(port)" : name
    }

    /// Whether the host is a literal IPv4 or IPv6 address.
    var isAddress: Bool {
        (try? SocketAddress(ipAddress: host, port: 0)) != nil
    }

    /// 127.0.0.0/8, ::1 or localhost.
    var isLoopback: Bool {
        host == "localhost" || host == "::1"
            || (host.hasPrefix("127.") && host.split(separator: ".").count == 4
                && host.split(separator: ".").allSatisfy { UInt8($0) != nil })
    }
}

extension HTTPTransportError {
    /// The transport's error for what NIO or NIOSSL threw.
    static func from(_ error: any Error) -> HTTPTransportError {
        if let error = error as? HTTPTransportError { return error }
        if error is NIOSSLExtraError, String(describing: error).contains("failedToValidateHostname") {
            return .wrongHost(String(describing: error))
        }
        if let error = error as? NIOSSLError {
            let text = "\(error)"
            if text.contains("CERTIFICATE_VERIFY_FAILED") { return .untrustedCertificate(trustSource: "") }
            if case .uncleanShutdown = error { return .connectionClosed }
            return .tls(text)
        }
        if error is ChannelError, "\(error)".contains("connectTimeout") { return .unreachable("connect timed out") }
        if let error = error as? NIOConnectionError {
            return .unreachable(
                "connection refused or unreachable (\(error.connectionErrors.first.map { "\($0.error)" } ?? "no address"))")
        }
        if let error = error as? IOError { return .unreachable("\(error)") }
        if error is ChannelError { return .connectionClosed }
        return .unreachable("\(error)")
    }
}
