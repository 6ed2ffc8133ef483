public import AgentProtocol
import ECSVocabulary
import Foundation
import TaskDefinitions

/// The agent protocol's limits and the checks of Register and PollDesiredTasks.
public enum AgentRules {
    /// Longest accepted hostname and address.
    public static let maxNameLength = 255
    /// Task state changes in one batch.
    public static let maxBatch = 100
    public static let defaultWait = 30

    /// The poll's wait the agent asked for (30 s when it asked none): 0 to 60 seconds.
    public static func checkWait(_ seconds: Int?) throws(ECSError) -> Int {
        let seconds = seconds ?? defaultWait
        guard (0...60).contains(seconds) else {
            throw .invalidParameter("waitSeconds: must be between 0 and 60, got \(seconds).")
        }
        return seconds
    }

    /// Register's checks: hostname, address, endpoint and token, resources, attributes.
    public static func check(_ request: RegisterAgentRequest) throws(ECSError) {
        guard !request.hostname.isEmpty, request.hostname.count <= maxNameLength else {
            throw .invalidParameter("hostname: must be 1 to \(maxNameLength) characters.")
        }
        if let address = request.address, address.isEmpty || address.count > maxNameLength {
            throw .invalidParameter("address: must be 1 to \(maxNameLength) characters.")
        }
        if let endpoint = request.agentEndpoint {
            guard endpoint.count <= maxNameLength, let url = URL(string: endpoint),
                ["http", "https"].contains(url.scheme),
                url.host?.isEmpty == false
            else {
                throw .invalidParameter("agentEndpoint: must be an http or https URL such as http://10.0.0.2:51678.")
            }
            guard let token = request.agentToken, (16...256).contains(token.count) else {
                throw .invalidParameter("agentToken: must be 16 to 256 characters when agentEndpoint is given.")
            }
        }
        guard request.resources.cpu > 0 else {
            throw .invalidParameter(
                "resources.cpu: must be positive (1024 units per core), got \(request.resources.cpu).")
        }
        guard request.resources.memory > 0 else {
            throw .invalidParameter("resources.memory: must be positive (MiB), got \(request.resources.memory).")
        }
        for (index, port) in (request.resources.ports ?? []).enumerated() where !(1...65535).contains(port) {
            throw .invalidParameter("resources.ports[\(index)]: must be between 1 and 65535, got \(port).")
        }
        let attributes = request.attributes ?? []
        guard attributes.count <= 100 else { throw .invalidParameter("attributes: at most 100 attributes.") }
        for (index, attribute) in attributes.enumerated() {
            guard !attribute.name.isEmpty, attribute.name.count <= 128 else {
                throw .invalidParameter("attributes[\(index)].name: must be 1 to 128 characters.")
            }
            if let value = attribute.value, value.count > 128 {
                throw .invalidParameter("attributes[\(index)].value: must be at most 128 characters.")
            }
        }
    }
}

/// How an agent's report folds into a stored task: forward only, first timestamp wins, so a batch sent twice or
/// late changes nothing. The statuses and the checks of a report are here; the merge is the control plane's.
public enum TaskStateMerge {
    /// Checks a change's values; the error names the field.
    public static func validate(_ change: TaskStateChange, at index: Int) throws(ECSError) {
        let path = "tasks[\(index)]"
        guard let status = change.lastStatus.word, TaskStatus.throughStopped.contains(status) else {
            let statuses = TaskStatus.throughStopped.map(\.rawValue).joined(separator: ", ")
            throw .invalidParameter(
                "\(path).lastStatus: must be one of \(statuses), got \(change.lastStatus.rawValue.prefix(40)).")
        }
        if let health = change.healthStatus, health.word == nil {
            throw .invalidParameter(
                "\(path).healthStatus: must be HEALTHY, UNHEALTHY or UNKNOWN, got \(health.rawValue.prefix(40)).")
        }
        if let reason = change.stoppedReason, reason.count > 1024 {
            throw .invalidParameter("\(path).stoppedReason: must be at most 1024 characters.")
        }
        for (number, container) in (change.containers ?? []).enumerated() {
            let containerPath = "\(path).containers[\(number)]"
            if let status = container.lastStatus, status.word == nil {
                throw .invalidParameter(
                    "\(containerPath).lastStatus: must be PENDING, RUNNING or STOPPED, got \(status.rawValue.prefix(40))."
                )
            }
            if let health = container.healthStatus, health.word == nil {
                throw .invalidParameter(
                    "\(containerPath).healthStatus: must be HEALTHY, UNHEALTHY or UNKNOWN, got \(health.rawValue.prefix(40))."
                )
            }
            if let reason = container.reason, reason.count > 1024 {
                throw .invalidParameter("\(containerPath).reason: must be at most 1024 characters.")
            }
        }
    }
}

extension RegisterAgentRequest: ECSRequest {
    public func validate() throws(ECSError) { try AgentRules.check(self) }
}

extension RotateCredentialRequest: ECSRequest {}

extension PollDesiredTasksRequest: ECSRequest {
    public func validate() throws(ECSError) { _ = try AgentRules.checkWait(waitSeconds) }
}

extension SubmitStateChangesRequest: ECSRequest {
    public func validate() throws(ECSError) {
        let changes = tasks ?? []
        guard changes.count <= AgentRules.maxBatch else {
            throw ECSError.invalidParameter(
                "tasks: at most \(AgentRules.maxBatch) task state changes per batch, got \(changes.count).")
        }
        for (index, change) in changes.enumerated() { try TaskStateMerge.validate(change, at: index) }
        if let metrics, metrics.objectValue == nil {
            throw ECSError.invalidParameter("metrics: must be a JSON object.")
        }
    }
}

/// `FlotillaAgentV1.GetJoinToken` / `RotateJoinToken` / `ListJoinTokens`: `{"cluster": "NAME or ARN"}` (default
/// `default`). GetJoinToken creates a token with the defaults; RotateJoinToken deletes the cluster's tokens first.
public struct JoinTokenRequest: ECSRequest, Decodable {
    public var cluster: String?

    public init(cluster: String? = nil) { self.cluster = cluster }
}

/// `FlotillaAgentV1.CreateJoinToken`: `{"cluster": "NAME", "ttlSeconds": 86400, "uses": 1, "description": "rack 4"}`,
/// as `kubeadm token create --ttl --usages --description`: every field but the cluster optional.
public struct CreateJoinTokenRequest: ECSRequest, Decodable {
    public var cluster: String?
    /// Seconds until the token expires: 24 hours when absent, at most 7 days.
    public var ttlSeconds: Int?
    /// Registrations the token allows: unlimited (until it expires) when absent, else 1 to 1000.
    public var uses: Int?
    public var description: String?

    public init(cluster: String? = nil, ttlSeconds: Int? = nil, uses: Int? = nil, description: String? = nil) {
        self.cluster = cluster
        self.ttlSeconds = ttlSeconds
        self.uses = uses
        self.description = description
    }

    public func validate() throws(ECSError) {
        if let ttlSeconds, !(1...JoinTokenRules.maxTTLSeconds).contains(ttlSeconds) {
            throw .invalidParameter(
                "ttlSeconds: must be between 1 and \(JoinTokenRules.maxTTLSeconds) (7 days), got \(ttlSeconds).")
        }
        if let uses, !(1...JoinTokenRules.maxUses).contains(uses) {
            throw .invalidParameter(
                "uses: must be between 1 and \(JoinTokenRules.maxUses), or absent for unlimited uses, got \(uses).")
        }
        if let description {
            guard description.count <= JoinTokenRules.maxDescriptionLength,
                description.unicodeScalars.allSatisfy({ $0.value >= 32 && $0.value != 127 })
            else {
                throw .invalidParameter(
                    "description: must be at most \(JoinTokenRules.maxDescriptionLength) characters, without control characters."
                )
            }
        }
    }
}

/// `FlotillaAgentV1.DeleteJoinToken`: `{"cluster": "NAME", "tokenId": "abc123"}`. The token is refused from this
/// commit on; instances that joined with it keep their credentials.
public struct DeleteJoinTokenRequest: ECSRequest, Decodable {
    public var cluster: String?
    public var tokenId: String

    public init(cluster: String? = nil, tokenId: String) {
        self.cluster = cluster
        self.tokenId = tokenId
    }

    public func validate() throws(ECSError) {
        guard JoinTokenRules.isTokenID(tokenId) else {
            throw .invalidParameter(
                "tokenId: must be \(JoinTokenRules.idLength) lowercase letters or digits (the part of the token before the dot), got \(tokenId.prefix(40))."
            )
        }
    }
}

/// One join token as CreateJoinToken answers it (with `joinToken`, the only time the secret is shown) and
/// ListJoinTokens and DeleteJoinToken describe it (without). Times are epoch seconds, as ECS's.
public struct JoinTokenDescription: Codable, Hashable, Sendable {
    /// The public half of the token, before the dot: how list and delete name it.
    public var tokenId: String
    public var cluster: String
    public var clusterArn: String
    public var createdAt: Double
    public var expiresAt: Double
    /// Registrations left; nil: unlimited until it expires.
    public var usesLeft: Int?
    public var description: String?
    /// `<tokenId>.<secret>`, followed by `.sha256:<hex>` of the control plane's CA when it serves TLS with its own
    /// (`JoinTokenText`): only in CreateJoinToken's (GetJoinToken's, RotateJoinToken's) answer.
    public var joinToken: String?
    /// The CA hash the token carries (`sha256:<hex>` of its SubjectPublicKeyInfo), on its own.
    public var caCertHash: String?

    public init(
        tokenId: String, cluster: String, clusterArn: String, createdAt: Double, expiresAt: Double,
        usesLeft: Int? = nil, description: String? = nil, joinToken: String? = nil, caCertHash: String? = nil
    ) {
        self.caCertHash = caCertHash
        self.tokenId = tokenId
        self.cluster = cluster
        self.clusterArn = clusterArn
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.usesLeft = usesLeft
        self.description = description
        self.joinToken = joinToken
    }
}

/// The join tokens' shape and limits, as kubeadm's bootstrap tokens: `<id>.<secret>`, both lowercase letters and
/// digits; the id is public (list and delete name it), only the secret's SHA-256 is stored.
public enum JoinTokenRules {
    public static let idLength = 6
    /// The secret CreateJoinToken makes: 32 characters of 36 (about 165 bits).
    public static let secretLength = 32
    /// The shortest secret Register accepts (kubeadm's length).
    public static let minSecretLength = 16
    public static let maxSecretLength = 64
    public static let defaultTTLSeconds = 24 * 3600
    public static let maxTTLSeconds = 7 * 24 * 3600
    public static let maxUses = 1000
    public static let maxDescriptionLength = 256
    /// The alphabet of ids and secrets.
    public static let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")

    public static func isTokenID(_ id: String) -> Bool {
        id.utf8.count == idLength && id.utf8.allSatisfy(isTokenCharacter)
    }

    /// Splits `<id>.<secret>` (a CA hash after it, `JoinTokenText`, is ignored) into its halves; nil when it is not
    /// of that shape.
    public static func parse(_ token: String) -> (id: String, secret: String)? {
        let parts = JoinTokenText.split(token).token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, isTokenID(String(parts[0])),
            (minSecretLength...maxSecretLength).contains(parts[1].utf8.count),
            parts[1].utf8.allSatisfy(isTokenCharacter)
        else { return nil }
        return (String(parts[0]), String(parts[1]))
    }

    private static func isTokenCharacter(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }
}
