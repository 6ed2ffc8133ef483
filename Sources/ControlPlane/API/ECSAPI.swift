import ECSProtocol
public import Foundation
public import Hummingbird
public import Logging
import Metrics
import NIOCore
import HTTPTypes

/// The ECS JSON 1.1 protocol: `POST /` with `X-Amz-Target: AmazonEC2ContainerServiceV20141113.<Operation>`.
///
/// A second service shares the wire: `X-Amz-Target: FlotillaAgentV1.<Operation>` is the agent protocol and the join
/// token operations (`AgentAPI/`); `X-Amz-Target: FlotillaV1.<Operation>` holds Flotilla's own user-facing operations
/// (`FlotillaOperations.swift`). The secret stores tasks read share it too: `X-Amz-Target: AmazonSSM.<Operation>`
/// (`ParameterStoreOperations.swift`) and `secretsmanager.<Operation>` (`SecretsManagerOperations.swift`), signed for
/// their own SigV4 service names. Same body limits, errors, logging and metrics; only the prefix differs.
///
/// Routing, the content type, decoding and the checks that need no store are `ECSWire`'s (ECSProtocol, pure and
/// fuzzed); then every operation runs against the store in one transaction and answers in ECS's shape.
/// Every failure becomes an `ECSError`; nothing a client sends can end the server.
public struct ECSAPI: Sendable {
    public let store: ControlPlaneStore
    public let configuration: ControlPlaneConfiguration
    /// The embedded balancers' live state, which `DescribeLoadBalancers` reports.
    public let loadBalancers: LoadBalancerStatusBoard
    /// How callers prove who they are: SigV4 with the ring's keys, or (loopback only) not at all.
    public let authentication: APIAuthentication
    /// Seals what the store keeps of agents' endpoint secrets.
    let secretBox: SecretBox
    let clock: @Sendable () -> Date

    /// - Parameters:
    ///   - secretBox: seals agents' endpoint secrets in the store; by default the ring's (SigV4), else a box whose
    ///     key lives as long as the process (the executable passes the data directory's master key either way).
    ///   - clock: the time stamped on what the API writes and that signatures are checked against (tests pass a
    ///     fixed one).
    public init(
        store: ControlPlaneStore, configuration: ControlPlaneConfiguration, authentication: APIAuthentication,
        secretBox: SecretBox? = nil,
        loadBalancers: LoadBalancerStatusBoard = LoadBalancerStatusBoard(),
        clock: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.store = store
        self.loadBalancers = loadBalancers
        self.configuration = configuration
        self.authentication = authentication
        self.secretBox =
            switch (secretBox, authentication) {
            case (let box?, _): box
            case (nil, .sigV4(let ring)): ring.box
            case (nil, .insecureNoAuth): .ephemeral()
            }
        self.clock = clock
    }

    /// The operations of each target prefix, each checked against the input `ECSOperationInputs` routes to it.
    static let operations: [String: [String: OperationHandler]] = {
        let operations = [
            ECSWire.targetPrefix: allOperations, ECSWire.agentTargetPrefix: agentOperations,
            ECSWire.flotillaTargetPrefix: flotillaOperations,
            ECSWire.ssmTargetPrefix: parameterStoreOperations,
            ECSWire.secretsManagerTargetPrefix: secretsManagerOperations,
        ]
        for (prefix, inputs) in ECSOperationInputs.byPrefix {
            let table = operations[prefix] ?? [:]
            precondition(
                Set(table.keys) == Set(inputs.keys),
                "\(prefix): operations and ECSOperationInputs name different operations")
            for (name, input) in inputs {
                precondition(
                    ObjectIdentifier(table[name]!.input) == ObjectIdentifier(input),
                    "\(prefix)\(name): input types differ")
            }
        }
        return operations
    }()

    /// The names of the operations this control plane answers.
    public static var operationNames: [String] { ECSOperationInputs.ecs.keys.sorted() }

    /// The names of the agent protocol's operations (`FlotillaAgentV1.<name>`).
    public static var agentOperationNames: [String] { ECSOperationInputs.agent.keys.sorted() }

    /// Answers one ECS request; never throws.
    public func respond(to request: Request, logger: Logger) async -> Response {
        let started = ContinuousClock.now
        let target = request.headers[.amzTarget]
        var operationLabel = "unknown"
        let response: Response
        do {
            // As AWS: who signed comes first (an unsigned call to an unknown operation is refused for the missing
            // signature), then the operation, its content type, the key's scope, and only then the input.
            let body = try await collectBody(request)
            let now = clock()
            let signer = try signer(of: request, body: body, now: now)
            let route = try Self.route(target, signer: signer)
            operationLabel = route.name
            let principal = try authorize(signer, route)
            try ECSWire.checkContentType(request.headers[.contentType])
            let input = try ECSWire.request(route, body: body)
            // Present: `operations` has an operation for every route.
            let operation = Self.operations[route.prefix]![route.name]!
            let context = OperationContext(
                region: configuration.region,
                accountID: configuration.accountID,
                endpoint: configuration.advertisedEndpoint
                    ?? request.head.authority.map { "\(configuration.servesTLS ? "https" : "http")://\($0)" }
                    ?? "\(configuration.servesTLS ? "https" : "http")://\(configuration.host):\(configuration.port)",
                now: now,
                clock: clock,
                store: store,
                configuration: configuration,
                loadBalancers: loadBalancers,
                principal: principal,
                authentication: authentication,
                secretBox: secretBox,
                logger: logger
            )
            let answer = try await operation.run(input, context)
            response = Response(
                status: .ok,
                headers: [.contentType: "application/x-amz-json-1.1"],
                body: .init(byteBuffer: ByteBuffer(bytes: answer))
            )
            logger.debug("ECS request served", metadata: ["ecs.operation": "\(route.name)"])
        } catch {
            let ecsError = Self.ecsError(from: error)
            if ecsError.status == .internalServerError {
                // A full or corrupt store fails every call: its log says so once a minute, not once per call.
                store.health.logFailure(
                    error, "ECS request failed", metadata: ["ecs.operation": "\(operationLabel)"], logger: logger)
            } else {
                logger.debug(
                    "ECS request refused",
                    metadata: [
                        "ecs.operation": "\(operationLabel)", "ecs.error": "\(ecsError.type)",
                        "error": "\(ecsError.message)",
                    ])
            }
            response = ecsError.response()
        }
        Counter(
            label: "flotilla_controlplane_requests_total",
            dimensions: [
                ("operation", operationLabel), ("status", String(response.status.code)),
            ]
        ).increment()
        Metrics.Timer(
            label: "flotilla_controlplane_request_duration_seconds", dimensions: [("operation", operationLabel)]
        )
        .record(duration: ContinuousClock.now - started)
        return response
    }

    // MARK: - Protocol checks

    func collectBody(_ request: Request) async throws -> Data {
        do {
            let buffer = try await request.body.collect(upTo: configuration.maxBodyBytes)
            return Data(buffer.readableBytesView)
        } catch is NIOTooManyBytesError {
            throw ECSError(
                "RequestEntityTooLargeException",
                "Request body is larger than \(configuration.maxBodyBytes) bytes.",
                status: .contentTooLarge
            )
        } catch {
            // The client went away or was cut at its body deadline: its failure, not the server's.
            throw ECSError.serialization("The request body was not received in full.")
        }
    }

    /// Every error as ECS's: ours pass through, JSON errors name the field, anything else is a real fault.
    static func ecsError(from error: any Error) -> ECSError {
        // The store's own failures say what they are (ECS's ServerException); anything else stays vague.
        ECSWire.ecsError(from: error) ?? .server(StoreFailure(error)?.message ?? "Internal error.")
    }
}

extension HTTPField.Name {
    static let amzTarget = HTTPField.Name("X-Amz-Target")!
}

/// What one operation knows about its request beyond the body.
struct OperationContext: Sendable {
    var region: String
    var accountID: String
    /// This server as its clients reach it (DiscoverPollEndpoint answers it).
    var endpoint: String
    var now: Date
    /// The time later in a long call (a blocking poll); `now` is the request's arrival.
    var clock: @Sendable () -> Date
    var store: ControlPlaneStore
    var configuration: ControlPlaneConfiguration
    var loadBalancers: LoadBalancerStatusBoard
    /// Who called, and with what scope (already checked against the operation).
    var principal: Principal
    var authentication: APIAuthentication
    var secretBox: SecretBox
    var logger: Logger

    func arn(_ kind: String, _ resource: String) -> String {
        ARN(region: region, account: accountID, kind: kind, resource: resource).description
    }
}

/// One operation: its checked input in (`ECSWire.request`), response JSON out.
struct OperationHandler: Sendable {
    /// The input type the operation takes; `ECSOperationInputs` must route the same one to it.
    let input: any ECSRequest.Type
    let run: @Sendable (any ECSRequest, OperationContext) async throws -> Data

    init<Input: ECSRequest, Output: Encodable & Sendable>(
        _ body: @escaping @Sendable (Input, OperationContext) async throws -> Output
    ) {
        input = Input.self
        run = { request, context in
            // `ECSAPI.operations` checked at start that this operation's route decodes `Input`.
            let response = try await body(request as! Input, context)
            return try RequestDecoding.encode(response)
        }
    }
}

extension ECSAPI {
    static let allOperations: [String: OperationHandler] =
        clusterOperations
        .merging(taskDefinitionOperations) { $1 }
        .merging(serviceOperations) { $1 }
        .merging(taskOperations) { $1 }
        .merging(containerInstanceOperations) { $1 }
        .merging(attributeOperations) { $1 }
        .merging(accountSettingOperations) { $1 }
        .merging(tagOperations) { $1 }
        .merging(containerAccessOperations) { $1 }
}
