import AgentProtocol
public import Foundation
public import Hummingbird
public import HTTPServerLimits
public import Logging
import Metrics
import NIOCore
public import ServiceLifecycle
#if canImport(Glibc)
import Glibc
#endif

/// The agent's HTTP server: health, metrics and identity for anyone, a task container's logs and exec for holders of
/// a container access token for that task, container and action (the control plane mints them with `ExecuteCommand`
/// and `GetContainerLogStream` under the endpoint secret the agent registered; `ContainerAccessToken`). Nothing else
/// opens a container: not the secret itself, not a token for another task, container or action, not an expired one,
/// not an exec token used before.
///
/// ```
/// GET  /healthz                                     "ok"                       no auth
/// GET  /metrics                                     Prometheus text            no auth
/// GET  /v1/metadata                                 {"cluster", "containerInstanceArn", "agentVersion"}
/// GET  /v1/tasks/{taskId}/containers/{name}/logs?follow=true|false&tail=N      Bearer <logs token, 5 min>
/// POST /v1/tasks/{taskId}/containers/{name}/exec    {"command": [...], "timeoutSeconds": 30}  Bearer <exec token, 60 s, once>
/// ```
/// Errors are `{"__type", "message"}`: 401 AccessDeniedException, 404 ResourceNotFoundException, 409 and 400
/// InvalidParameterException naming the field.
///
/// - Important: a followed log ends when the container stops, when the client goes away or on graceful shutdown;
///   it holds one 64 KiB buffer and two open files, whatever the log's size.
public struct AgentEndpoint: Service {
    /// Exec output kept per stream; the rest is cut and `stdoutTruncated`/`stderrTruncated` say so.
    public static let maxExecOutputBytes = 1 << 20
    /// Longest exec timeout accepted, in seconds.
    public static let maxExecTimeoutSeconds = 3600
    /// Largest `tail` accepted.
    public static let maxTailLines = 100_000
    /// How often a followed log looks for new output.
    static let followInterval = Duration.milliseconds(200)

    let host: String
    let port: Int
    let access: ContainerAccessCheck
    let directory: any AgentContainerDirectory
    let runtime: ContainerRuntime
    let logger: Logger
    let metrics: (@Sendable () -> [UInt8])?
    let onServerRunning: @Sendable (Int) async -> Void
    let limits: HTTPServerLimits

    /// The endpoint's default limits: its clients are `ecsctl exec`/`logs` users and the control plane, so far
    /// fewer connections than the control plane's.
    public static let defaultLimits = HTTPServerLimits(maxConnections: 256)

    /// - Parameters:
    ///   - host, port: where to listen (port 0: any free port, reported to `onServerRunning`).
    ///   - secret: the endpoint secret (the agent generates it and sends it at Register as `agentToken`): the key
    ///     of the MAC of every container access token. Never accepted as a bearer token itself.
    ///   - clock: the time tokens' expiries are checked against (tests drive it).
    ///   - metrics: renders `/metrics` (the executable passes its Prometheus registry's `emitToBuffer`); without it
    ///     `/metrics` answers 404.
    ///   - onServerRunning: called with the bound port once the server listens.
    ///   - limits: header, body and idle timeouts and the connection cap (`HTTPServerLimits`).
    public init(
        host: String, port: Int, secret: String, clock: @escaping @Sendable () -> Date = { Date() },
        directory: any AgentContainerDirectory,
        runtime: ContainerRuntime, logger: Logger, metrics: (@Sendable () -> [UInt8])? = nil,
        limits: HTTPServerLimits = AgentEndpoint.defaultLimits,
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) {
        self.limits = limits
        self.host = host
        self.port = port
        self.access = ContainerAccessCheck(secret: secret, clock: clock)
        self.directory = directory
        self.runtime = runtime
        self.logger = logger
        self.metrics = metrics
        self.onServerRunning = onServerRunning
    }

    /// Serves until graceful shutdown.
    public func run() async throws {
        let onServerRunning = self.onServerRunning
        let application = Application(
            router: router(),
            server: .http1(limits: limits, server: "agent-endpoint", logger: logger),
            configuration: .init(address: .hostname(host, port: port), serverName: "flotilla-agent"),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) },
            logger: logger)
        try await application.run()
    }

    // MARK: - Routes

    func router() -> Router<AgentRequestContext> {
        let router = Router(context: AgentRequestContext.self)
        router.middlewares.add(AgentEndpointMetricsMiddleware())
        router.get("/healthz") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: "ok\n")))
        }
        if let metrics {
            router.get("/metrics") { _, _ in
                PrometheusExposition.response(metrics())
            }
        }
        router.get("/v1/metadata") { [directory] _, _ in
            let metadata = await directory.metadata()
            let body = try JSONEncoder().encode(metadata)
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(bytes: body)))
        }
        router.get("/v1/tasks/:taskId/containers/:name/logs") { request, context in
            try await logs(request, context: context)
        }
        router.post("/v1/tasks/:taskId/containers/:name/exec") { request, context in
            try await exec(request, context: context)
        }
        return router
    }

    /// The bearer token, checked for this task, container and action (`ContainerAccessCheck`); then the container
    /// the path names.
    func authorizedContainer(
        _ request: Request, context: AgentRequestContext, action: ContainerAccessAction
    ) async throws
        -> (task: String, name: String, handle: AgentContainerHandle)
    {
        let header = request.headers[.authorization] ?? ""
        let prefix = "Bearer "
        guard header.hasPrefix(prefix) else { throw AgentEndpointError.accessDenied }
        let task = context.parameters.get("taskId") ?? ""
        let name = context.parameters.get("name") ?? ""
        do {
            try access.authorize(
                String(header.dropFirst(prefix.count)), task: task, container: name, action: action)
        } catch {
            logger.debug(
                "agent endpoint token refused",
                metadata: ["http.route": "\(context.endpointPath ?? "")", "error": "\(error)"])
            throw AgentEndpointError.tokenRefused(error)
        }
        guard let handle = await directory.container(taskID: task, containerName: name) else {
            throw AgentEndpointError.containerNotFound(task: task, container: name)
        }
        return (task, name, handle)
    }

    // MARK: - Logs

    func logs(_ request: Request, context: AgentRequestContext) async throws -> Response {
        let (task, name, handle) = try await authorizedContainer(request, context: context, action: .logs)
        let query = request.uri.queryParameters
        let logsRequest: AgentLogsRequest
        do {
            logsRequest = try AgentLogsRequest(query: { query.get($0) }, maxTail: Self.maxTailLines)
        } catch {
            throw AgentEndpointError.invalidParameter(error.message)
        }
        let (follow, tail) = (logsRequest.follow, logsRequest.tail)
        logger.debug(
            "container logs requested",
            metadata: [
                "task": "\(task)", "container.name": "\(name)", "logs.follow": "\(follow)",
            ])
        var watcher: ClientDepartureWatcher?
        if follow {
            let departures = ClientDepartureWatcher()
            try await context.channel.pipeline.addHandler(departures, position: .first).get()
            watcher = departures
        }
        let stream = LogStream(
            task: task, name: name, handle: handle, tail: tail, follow: follow,
            directory: directory, channel: context.channel, watcher: watcher)
        return Response(
            status: .ok, headers: [.contentType: "text/plain; charset=utf-8"],
            body: ResponseBody { writer in try await stream.write(to: &writer) })
    }

    // MARK: - Exec

    func exec(_ request: Request, context: AgentRequestContext) async throws -> Response {
        let (task, name, handle) = try await authorizedContainer(request, context: context, action: .exec)
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: 256 * 1024)
        } catch is NIOTooManyBytesError {
            throw AgentEndpointError.invalidParameter("body: must be at most 262144 bytes.")
        }
        let body = try Self.decodeExec(Data(buffer.readableBytesView))
        guard handle.running else { throw AgentEndpointError.notRunning(task: task, container: name) }
        let timeout = body.timeoutSeconds ?? AgentExecRequest.defaultTimeoutSeconds
        logger.info(
            "exec in container",
            metadata: [
                "task": "\(task)", "container.name": "\(name)", "exec.command": "\(body.command.first ?? "")",
            ])
        let result: ExecResult
        do {
            result = try await runtime.exec(handle.containerID, arguments: body.command, timeout: .seconds(timeout))
        } catch let error as ContainerLifecycleError {
            if case .invalidState = error { throw AgentEndpointError.notRunning(task: task, container: name) }
            throw AgentEndpointError.containerNotFound(task: task, container: name)
        } catch let error as ContainerConfigurationError {
            throw AgentEndpointError.invalidParameter(error.description)
        } catch {
            logger.warning(
                "exec failed", metadata: ["task": "\(task)", "container.name": "\(name)", "error": "\(error)"])
            throw AgentEndpointError.server("exec failed: \(error)")
        }
        let limit = Self.maxExecOutputBytes
        let answer = AgentExecResult(
            exitCode: Int(result.exit.exitCode ?? -1),
            stdout: String(decoding: result.standardOutput.prefix(limit), as: UTF8.self),
            stderr: String(decoding: result.standardError.prefix(limit), as: UTF8.self),
            timedOut: result.timedOut,
            stdoutTruncated: result.standardOutput.count > limit, stderrTruncated: result.standardError.count > limit)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(answer))))
    }

    /// The exec body, every problem named by its field (in order, which `Decodable` would not tell).
    static func decodeExec(_ data: Data) throws(AgentEndpointError) -> AgentExecRequest {
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw .invalidParameter("body: must be a JSON object such as {\"command\": [\"sh\", \"-c\", \"echo hi\"]}.")
        }
        guard let command = object["command"] as? [Any], !command.isEmpty else {
            throw .invalidParameter("command: must be a non-empty list of strings.")
        }
        var arguments: [String] = []
        for (index, argument) in command.enumerated() {
            guard let argument = argument as? String else {
                throw .invalidParameter("command[\(index)]: must be a string.")
            }
            guard !argument.utf8.contains(0) else {
                throw .invalidParameter("command[\(index)]: must not contain NUL.")
            }
            arguments.append(argument)
        }
        var timeout: Int?
        if let value = object["timeoutSeconds"], !(value is NSNull) {
            guard let number = value as? NSNumber, let seconds = Int(exactly: number.doubleValue),
                (1...maxExecTimeoutSeconds).contains(seconds)
            else {
                throw .invalidParameter("timeoutSeconds: must be a whole number from 1 to \(maxExecTimeoutSeconds).")
            }
            timeout = seconds
        }
        return AgentExecRequest(command: arguments, timeoutSeconds: timeout)
    }
}

/// The agent endpoint's request context: Hummingbird's core context plus the connection, so a followed log can see
/// its client go away.
public struct AgentRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The client's connection.
    public let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}

/// Counts requests as `flotilla_agent_endpoint_requests_total{route, status}` (route templates only: bounded).
struct AgentEndpointMetricsMiddleware: RouterMiddleware {
    func handle(
        _ request: Request, context: AgentRequestContext,
        next: (Request, AgentRequestContext) async throws -> Response
    ) async throws -> Response {
        do {
            let response = try await next(request, context)
            record(context, status: Int(response.status.code))
            return response
        } catch {
            record(context, status: Int((error as? any HTTPResponseError)?.status.code ?? 500))
            throw error
        }
    }

    private func record(_ context: AgentRequestContext, status: Int) {
        Counter(
            label: "flotilla_agent_endpoint_requests_total",
            dimensions: [
                ("route", context.endpointPath ?? "unmatched"), ("status", String(status)),
            ]
        ).increment()
    }
}
