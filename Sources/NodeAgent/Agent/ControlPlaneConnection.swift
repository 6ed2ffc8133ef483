import AgentProtocol
import FlotillaClient
import Foundation
import Logging
import Metrics
import SigV4
import TaskDefinitions

/// Why the agent cannot go on.
public enum AgentError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The control plane refused the join token (wrong cluster or token, or rotated).
    case joinTokenRefused(cluster: String, message: String)
    /// The agent's own state could not be read or written.
    case state(String)
    /// The control plane's certificate chain has no CA with the hash the join token carries.
    case controlPlaneNotTrusted(String)

    public var description: String {
        switch self {
        case .joinTokenRefused(let cluster, let message):
            "the control plane refused the join token for cluster \(cluster): \(message) "
                + "(get the current one with `ecsctl get-join-token --cluster \(cluster)`)"
        case .state(let message): message
        case .controlPlaneNotTrusted(let message):
            "the control plane is not the one the join token names: \(message)"
        }
    }
}

/// The agent's link to the control plane: registration (and re-registration when the credential is refused) and the
/// authenticated calls, through the ECS JSON client (`ECSClient`) with the agent protocol's framing.
actor ControlPlaneConnection {
    private let configuration: AgentConfiguration
    private let files: AgentStateFiles
    private let logger: Logger
    /// The control plane's ECS JSON client, with a timeout past the longest poll, signing with the instance
    /// credential once there is one.
    private var client: ECSClient
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
        client = ECSClient(endpoint: configuration.endpoint, timeout: timeout)
    }

    // MARK: - Trust

    /// Whether `client` trusts the control plane's CA yet (`establishTrust`).
    private var isTrustEstablished = false

    /// Where the agent keeps the CA its join token named, once verified: later starts trust it without the token.
    var storedCAPath: String { files.directory + "/control-plane-ca.pem" }

    /// Makes `client` verify an `https://` control plane: against `--ca-bundle`; else against the CA the join token's
    /// hash names — the stored copy when its hash matches, else the one found in the chain the control plane
    /// presents (`HTTPTransport.discoverCA`), then stored (0600); else against the system's trust store.
    /// - Throws: `AgentError.controlPlaneNotTrusted` when the chain has no CA with the token's hash;
    ///   `HTTPTransportError` when the control plane cannot be reached (the caller retries).
    private func establishTrust() async throws {
        guard !isTrustEstablished, configuration.endpoint.scheme?.lowercased() == "https" else { return }
        let tokenHash = JoinTokenText.split(configuration.joinToken).caCertHash
        let path: String?
        if let bundle = configuration.caBundle {
            path = bundle
        } else if FileManager.default.fileExists(atPath: storedCAPath),
            tokenHash == nil || HTTPTransport.caCertHash(ofPEMFile: storedCAPath) == tokenHash
        {
            path = storedCAPath
        } else if let tokenHash {
            let pem: String
            do {
                pem = try await HTTPTransport.discoverCA(at: configuration.endpoint, caCertHash: tokenHash)
            } catch {
                // Not `catch .caHashMismatch`: a pattern on the typed error crashes Swift 6.3.1's SIL ownership check.
                if case .caHashMismatch = error { throw AgentError.controlPlaneNotTrusted(error.description) }
                throw error
            }
            try? FileManager.default.removeItem(atPath: storedCAPath)
            guard
                FileManager.default.createFile(
                    atPath: storedCAPath, contents: Data(pem.utf8), attributes: [.posixPermissions: 0o600])
            else {
                throw AgentError.state("\(storedCAPath): cannot be written")
            }
            logger.info(
                "control plane CA verified by the join token's hash and stored",
                metadata: ["tls.ca": "\(storedCAPath)", "tls.ca.hash": "\(tokenHash)"])
            path = storedCAPath
        } else {
            path = nil
        }
        var transport = HTTPTransport.systemTrust
        if let path {
            do {
                transport = try HTTPTransport(trust: .caBundle(path: path))
            } catch {
                throw AgentError.state("\(error)")
            }
        }
        client = ECSClient(
            endpoint: client.endpoint, region: client.region, credentials: client.credentials, timeout: client.timeout,
            transport: transport)
        isTrustEstablished = true
    }

    var containerInstanceArn: String? { identity.containerInstanceArn }
    var agentToken: String { identity.agentToken }

    // MARK: - Register

    /// Registers and stores the new instance credential: again as its instance, signed with the credential it
    /// holds; or, with none (or one the control plane no longer knows), as a new instance with the join token.
    /// - Throws: `AgentError.joinTokenRefused` when the token is wrong; `ECSClientError` when the control plane
    ///   cannot be reached or refuses for another reason.
    @discardableResult
    func register() async throws -> RegisterAgentResponse {
        try await establishTrust()
        let credentials = identity.credentials
        let address = configuration.hostAddress
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
            cluster: configuration.cluster,
            joinToken: credentials == nil ? JoinTokenText.split(configuration.joinToken).token : nil,
            containerInstanceArn: credentials == nil ? nil : identity.containerInstanceArn,
            hostname: AgentHost.hostname, address: address,
            agentEndpoint: "http://\(endpointHost):\(configuration.listenPort)", agentToken: identity.agentToken,
            resources: AgentResources(cpu: AgentHost.cpuUnits, memory: AgentHost.memoryMiB),
            attributes: attributes,
            versionInfo: .object(["agentVersion": .string(AgentVersion.current), "agentHash": .string("flotilla")]))
        let response: RegisterAgentResponse
        do {
            var signed = client
            signed.credentials = credentials
            response = try await signed.call(.register, request, as: RegisterAgentResponse.self)
        } catch {
            // Not `catch .service(...) where`: on the typed error that crashes Swift 6.3.1's SILGen.
            if credentials != nil, case .service(let type, let message, _) = error, Self.isRefusedCredential(type) {
                // The control plane does not know this credential (a new store, a deleted key): join anew.
                logger.warning(
                    "instance credential refused, joining again as a new container instance",
                    metadata: ["instance.arn": "\(identity.containerInstanceArn ?? "")", "error": "\(message)"])
                identity.containerInstanceArn = nil
                identity.credentials = nil
                return try await register()
            }
            if case .service("AccessDeniedException", let message, _) = error {
                throw AgentError.joinTokenRefused(cluster: configuration.cluster, message: message)
            }
            throw error
        }
        let previous = identity.containerInstanceArn
        identity.containerInstanceArn = response.containerInstanceArn
        identity.adopt(accessKeyId: response.accessKeyId, secret: response.credential, expiration: response.expiration)
        client.credentials = identity.credentials
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
        try await authenticated { client, arn in
            try await client.call(
                .pollDesiredTasks,
                PollDesiredTasksRequest(
                    cluster: self.configuration.cluster, containerInstanceArn: arn, index: index,
                    waitSeconds: self.configuration.pollWaitSeconds), as: PollDesiredTasksResponse.self)
        }
    }

    /// One `SubmitStateChanges` batch.
    func submit(_ changes: [TaskStateChange], metrics: JSONValue?) async throws -> SubmitStateChangesResponse {
        try await authenticated { client, arn in
            try await client.call(
                .submitStateChanges,
                SubmitStateChangesRequest(
                    cluster: self.configuration.cluster, containerInstanceArn: arn, tasks: changes, metrics: metrics),
                as: SubmitStateChangesResponse.self)
        }
    }

    /// Runs `body` with the client signing as the instance; a refused credential re-registers once and retries.
    private func authenticated<T: Sendable>(
        _ body: @Sendable (ECSClient, String) async throws -> T
    ) async throws -> T {
        if identity.credentials == nil { try await register() }
        if let due = identity.rotateCredentialAfter, Date() >= due { await rotateCredential() }
        for attempt in 0..<2 {
            guard let arn = identity.containerInstanceArn, identity.credentials != nil else { break }
            let used = generation
            do {
                return try await body(client, arn)
            } catch ECSClientError.service(let type, _, _) where Self.isRefusedCredential(type) && attempt == 0 {
                logger.warning("agent credential refused, registering again", metadata: ["instance.arn": "\(arn)"])
                if used == generation { try await register() }
            }
        }
        throw AgentError.state("no credential after registering")
    }

    /// Asks for the instance credential's successor (signed with the current one) and keeps it. A failure leaves the
    /// current one in use and tries again a minute later; a refused credential is `authenticated`'s to handle.
    private func rotateCredential() async {
        guard let arn = identity.containerInstanceArn else { return }
        do {
            let response = try await client.call(
                .rotateCredential, RotateCredentialRequest(cluster: configuration.cluster, containerInstanceArn: arn),
                as: RotateCredentialResponse.self)
            identity.adopt(
                accessKeyId: response.accessKeyId, secret: response.credential, expiration: response.expiration)
            client.credentials = identity.credentials
            try files.save(identity)
            logger.info(
                "instance credential rotated",
                metadata: ["instance.arn": "\(arn)", "accessKey.id": "\(response.accessKeyId)"])
        } catch {
            identity.rotateCredentialAfter = Date().addingTimeInterval(60)
            logger.warning(
                "instance credential not rotated; the current one stays in use",
                metadata: ["instance.arn": "\(arn)", "error": "\(error)"])
        }
    }

    /// The errors that say the control plane does not accept the instance credential (unknown, expired, or not
    /// this instance's).
    private static func isRefusedCredential(_ type: String) -> Bool {
        ["UnrecognizedClientException", "ExpiredTokenException", "AccessDeniedException", "InvalidSignatureException"]
            .contains(type)
    }
}

/// The agent's version, sent at registration and shown by `/v1/metadata`.
public enum AgentVersion {
    public static let current = "0.1.0"
}
