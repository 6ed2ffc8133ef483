public import AgentProtocol
public import Foundation
public import SigV4
public import TaskDefinitions
#if canImport(FoundationNetworking)
public import FoundationNetworking
#endif

/// An ECS JSON 1.1 client: one `POST /` per call, on URLSession.
///
/// Used by ecsctl, ecs-lb, the node agent (the agent protocol's calls) and the tests; speaks to Flotilla's control
/// plane or to anything else that speaks ECS.
public struct ECSClient: Sendable {
    public var endpoint: URL
    /// The region requests are signed for (`ECSWire.defaultRegion` when nil).
    public var region: String?
    /// The access key every request is signed with (SigV4); nil sends them unsigned.
    public var credentials: AWSCredentials?
    /// Seconds a call may take before it fails as unreachable.
    public var timeout: TimeInterval
    private let session: URLSession

    public init(
        endpoint: URL, region: String? = nil, credentials: AWSCredentials? = nil, timeout: TimeInterval = 60,
        session: URLSession = .shared
    ) {
        self.endpoint = endpoint
        self.region = region
        self.credentials = credentials
        self.timeout = timeout
        self.session = session
    }

    public init(configuration: ClientConfiguration, timeout: TimeInterval = 60) {
        self.init(
            endpoint: configuration.endpoint, region: configuration.region, credentials: configuration.credentials,
            timeout: timeout)
    }

    /// Calls `operation` with `body` and returns the answer's JSON document.
    public func call(
        _ operation: ECSOperation, _ body: JSONValue = .object([:])
    ) async throws(ECSClientError) -> JSONValue {
        let (statusCode, data) = try await send(target: operation.target, body: ECSWire.encode(body))
        return try ECSWire.response(statusCode: statusCode, body: data)
    }

    /// Calls `operation` with an `Encodable` request and decodes the answer as `Response`.
    public func call<Request: Encodable, Response: Decodable>(
        _ operation: ECSOperation, _ request: Request, as response: Response.Type
    ) async throws(ECSClientError) -> Response {
        let body: JSONValue
        do {
            let encoder = JSONEncoder()
            encoder.dateEncodingStrategy = .secondsSince1970
            body = try JSONDecoder().decode(JSONValue.self, from: encoder.encode(request))
        } catch {
            preconditionFailure("request for \(operation.rawValue) is not a JSON document: \(error)")
        }
        let answer = try await call(operation, body)
        do {
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .secondsSince1970
            return try decoder.decode(Response.self, from: ECSWire.encode(answer))
        } catch {
            throw .malformedResponse(
                statusCode: 200, reason: "\(operation.rawValue) answer does not decode as \(Response.self): \(error)")
        }
    }

    /// Calls the agent protocol's `operation` (`FlotillaAgentV1.`) with `request` and decodes the answer as `Response`,
    /// both with the protocol's coders (`AgentWire`: dates as epoch seconds, keys sorted).
    public func call<Request: Encodable, Response: Decodable>(
        _ operation: AgentWire.Operation, _ request: Request, as response: Response.Type
    ) async throws(ECSClientError) -> Response {
        let body: Data
        do {
            body = try AgentWire.encoder().encode(request)
        } catch {
            preconditionFailure("request for \(operation.rawValue) is not a JSON document: \(error)")
        }
        let (statusCode, data) = try await send(target: operation.target, body: body)
        _ = try ECSWire.response(statusCode: statusCode, body: data)
        do {
            return try AgentWire.decoder().decode(Response.self, from: data)
        } catch {
            throw .malformedResponse(
                statusCode: statusCode,
                reason: "\(operation.rawValue) answer does not decode as \(Response.self): \(error)")
        }
    }

    /// Calls a paginated `List*` operation until `pagination` is complete (every page, or `maxItems` items).
    public func callPaginated(
        _ operation: ECSOperation, _ body: [String: JSONValue],
        pagination: Pagination
    ) async throws(ECSClientError) -> Pagination {
        var pagination = pagination
        while let page = pagination.nextRequest(body) {
            pagination.receive(try await call(operation, .object(page)))
        }
        return pagination
    }

    /// POSTs `body` as `target`: the one place every call goes through, so what each request needs (its SigV4
    /// signature) is added here once.
    private func send(target: String, body: Data) async throws(ECSClientError) -> (statusCode: Int, body: Data) {
        let request = ECSWire.request(
            endpoint: endpoint, target: target, body: body, credentials: credentials, region: region,
            timeout: timeout)
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await session.data(for: request)
        } catch {
            throw .unreachable(endpoint: endpoint, reason: Self.reason(error))
        }
        guard let http = response as? HTTPURLResponse else {
            throw .malformedResponse(statusCode: 0, reason: "not an HTTP response")
        }
        return (http.statusCode, data)
    }

    private static func reason(_ error: any Error) -> String {
        if let error = error as? URLError {
            switch error.code {
            case .cannotConnectToHost: return "connection refused (is ecs-control-plane running there?)"
            case .timedOut: return "timed out"
            case .cannotFindHost: return "unknown host"
            case .networkConnectionLost: return "the connection was closed before an answer came"
            default: return error.localizedDescription
            }
        }
        return "\(error)"
    }
}
