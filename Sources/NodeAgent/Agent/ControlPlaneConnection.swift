import AgentProtocol
import FlotillaClient
import Foundation
import Logging
import Metrics
import TaskDefinitions
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Why the agent cannot go on.
public enum AgentError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The control plane refused the join token (wrong cluster or token, or rotated).
    case joinTokenRefused(cluster: String, message: String)
    /// The agent's own state could not be read or written.
    case state(String)

    public var description: String {
        switch self {
        case .joinTokenRefused(let cluster, let message):
            "the control plane refused the join token for cluster \(cluster): \(message) "
                + "(get the current one with `ecsctl get-join-token --cluster \(cluster)`)"
        case .state(let message): message
        }
    }
}

/// The agent's link to the control plane: registration (and re-registration when the credential is refused) and the
/// authenticated calls, through the ECS JSON client (`ECSClient`) with the agent protocol's framing.
actor ControlPlaneConnection {
    private let configuration: AgentConfiguration
    private let files: AgentStateFiles
    private let logger: Logger
    /// The control plane's ECS JSON client, with a timeout past the longest poll.
    private let client: ECSClient
    private(set) var identity: AgentIdentity
    /// Bumped by every registration: a refused credential re-registers only if no one did since it was used.
    private var generation = 0
    /// The instance's address as registered (network bindings' host side).
    private(set) var address: String?

    init(configuration: AgentConfiguration, files: AgentStateFiles, logger: Logger) throws {
        self.configuration = configuration
        self.files = files
        self.logger = logger
        identity = try files.loadIdentity(cluster: configuration.cluster)
        let timeout = TimeInterval(configuration.pollWaitSeconds + 10)
        let sessionConfiguration = URLSessionConfiguration.ephemeral
        sessionConfiguration.timeoutIntervalForRequest = timeout
        client = ECSClient(
            endpoint: configuration.endpoint, timeout: timeout, session: URLSession(configuration: sessionConfiguration)
        )
    }

    var containerInstanceArn: String? { identity.containerInstanceArn }
    var agentToken: String { identity.agentToken }

    // MARK: - Register

    /// Registers (again, with the previous ARN when there is one) and stores the new credential.
    /// - Throws: `AgentError.joinTokenRefused` when the token is wrong; `ECSClientError` when the control plane
    ///   cannot be reached or refuses for another reason.
    @discardableResult
    func register() async throws -> RegisterAgentResponse {
        let address =
            configuration.advertiseAddress
            ?? AgentHost.localAddress(toward: configuration.endpoint.host ?? "127.0.0.1")
        var attributes = [
            AgentAttribute(name: "ecs.os-type", value: "linux"),
            AgentAttribute(name: "ecs.cpu-architecture", value: AgentHost.cpuArchitecture),
        ]
        if let zone = configuration.availabilityZone {
            attributes.append(AgentAttribute(name: "ecs.availability-zone", value: zone))
        }
        attributes += configuration.attributes.map { AgentAttribute(name: $0.name, value: $0.value) }
        let endpointHost = address ?? "127.0.0.1"
        let request = RegisterAgentRequest(
            cluster: configuration.cluster, joinToken: configuration.joinToken,
            containerInstanceArn: identity.containerInstanceArn, hostname: AgentHost.hostname, address: address,
            agentEndpoint: "http://\(endpointHost):\(configuration.listenPort)", agentToken: identity.agentToken,
            resources: AgentResources(cpu: AgentHost.cpuUnits, memory: AgentHost.memoryMiB),
            attributes: attributes,
            versionInfo: .object(["agentVersion": .string(AgentVersion.current), "agentHash": .string("flotilla")]))
        let response: RegisterAgentResponse
        do {
            response = try await client.call(.register, request, as: RegisterAgentResponse.self)
        } catch {
            // Not `catch .service(...) where`: on the typed error that crashes Swift 6.3.1's SILGen.
            if case .service("AccessDeniedException", let message, _) = error {
                throw AgentError.joinTokenRefused(cluster: configuration.cluster, message: message)
            }
            throw error
        }
        let previous = identity.containerInstanceArn
        identity.containerInstanceArn = response.containerInstanceArn
        identity.credential = response.credential
        generation += 1
        self.address = address
        do {
            try files.save(identity)
        } catch {
            throw AgentError.state("\(error)")
        }
        logger.info(
            previous == response.containerInstanceArn
                ? "container instance re-registered" : "container instance registered",
            metadata: [
                "cluster": "\(configuration.cluster)", "instance.arn": "\(response.containerInstanceArn)",
                "instance.address": "\(address ?? "")",
            ])
        return response
    }

    // MARK: - Authenticated calls

    /// One `PollDesiredTasks`: blocks up to the configured wait for a change past `index`.
    func poll(index: Int64) async throws -> PollDesiredTasksResponse {
        try await authenticated { arn, credential in
            try await self.client.call(
                .pollDesiredTasks,
                PollDesiredTasksRequest(
                    cluster: self.configuration.cluster, containerInstanceArn: arn, credential: credential,
                    index: index,
                    waitSeconds: self.configuration.pollWaitSeconds), as: PollDesiredTasksResponse.self)
        }
    }

    /// One `SubmitStateChanges` batch.
    func submit(_ changes: [TaskStateChange], metrics: JSONValue?) async throws -> SubmitStateChangesResponse {
        try await authenticated { arn, credential in
            try await self.client.call(
                .submitStateChanges,
                SubmitStateChangesRequest(
                    cluster: self.configuration.cluster, containerInstanceArn: arn, credential: credential,
                    tasks: changes, metrics: metrics), as: SubmitStateChangesResponse.self)
        }
    }

    /// Runs `body` with the current credential; a refused credential (AccessDeniedException) re-registers once and
    /// retries.
    private func authenticated<T: Sendable>(
        _ body: @Sendable (String, String) async throws -> T
    ) async throws -> T {
        if identity.credential == nil { try await register() }
        for attempt in 0..<2 {
            guard let arn = identity.containerInstanceArn, let credential = identity.credential else { break }
            let used = generation
            do {
                return try await body(arn, credential)
            } catch ECSClientError.service(let type, _, _) where type == "AccessDeniedException" && attempt == 0 {
                logger.warning("agent credential refused, registering again", metadata: ["instance.arn": "\(arn)"])
                if used == generation { try await register() }
            }
        }
        throw AgentError.state("no credential after registering")
    }
}

/// The agent's version, sent at registration and shown by `/v1/metadata`.
public enum AgentVersion {
    public static let current = "0.1.0"
}
