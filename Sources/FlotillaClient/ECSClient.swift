public import AgentProtocol
public import Foundation
public import SigV4
public import TaskDefinitions
#if canImport(FoundationNetworking)
public import FoundationNetworking
#endif

/// An ECS JSON 1.1 client: one `POST /` per call, through an `HTTPTransport` (keep-alive, TLS verified against
/// its trust: the system's, or a CA bundle).
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
    /// The connections every call goes over; share one per process (it pools them).
    public let transport: HTTPTransport

    public init(
        endpoint: URL, region: String? = nil, credentials: AWSCredentials? = nil, timeout: TimeInterval = 60,
        transport: HTTPTransport = .systemTrust
    ) {
        self.endpoint = endpoint
        self.region = region
        self.credentials = credentials
        self.timeout = timeout
        self.transport = transport
    }

    /// A client of `configuration`'s endpoint, trusting its CA bundle (`--ca-bundle`, `AWS_CA_BUNDLE`, a profile's
    /// `ca_bundle`) or, with none, the system's trust store.
    /// - Throws: `HTTPTransportError.caBundle` when the bundle cannot be used.
    public init(configuration: ClientConfiguration, timeout: TimeInterval = 60) throws(HTTPTransportError) {
        var transport = HTTPTransport.systemTrust
        if let path = configuration.caBundle { transport = try HTTPTransport(trust: .caBundle(path: path)) }
        self.init(
            endpoint: configuration.endpoint, region: configuration.region, credentials: configuration.credentials,
            timeout: timeout, transport: transport)
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
        do {
            let response = try await transport.send(request, timeout: .milliseconds(Int64(timeout * 1000)))
            return (response.statusCode, response.body)
        } catch {
            throw .unreachable(endpoint: endpoint, reason: error.description)
        }
    }
}

extension HTTPTransport {
    /// The process's transport trusting the system's CAs.
    // A system-trust transport reads no file; the one failure left, BoringSSL's context allocation, is fatal anyway.
    public static let systemTrust: HTTPTransport = try! HTTPTransport()
}
