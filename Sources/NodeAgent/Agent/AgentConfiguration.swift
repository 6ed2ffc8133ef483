public import Foundation

/// What the agent daemon is told: where the control plane is, which cluster to join, where to keep its state.
public struct AgentConfiguration: Hashable, Sendable {
    /// The control plane's URL (`--endpoint`).
    public var endpoint: URL
    public var cluster: String
    /// As the user holds it: `<id>.<secret>`, and `.sha256:<hex>` of the cluster CA after it (`JoinTokenText`).
    public var joinToken: String
    /// A PEM file of the CA to verify an `https://` control plane with (`--ca-bundle`); nil: the CA whose hash the
    /// join token carries (learned on first contact and kept in the state directory), else the system's trust store.
    public var caBundle: String?
    /// Holds `agent/` (identity, task records), `images/`, `containers/` and `network/`.
    public var dataDirectory: String
    public var availabilityZone: String?
    /// Custom attributes, in the order given.
    public var attributes: [AgentAttributePair]
    /// The agent endpoint's listen address (`--listen`; by default `hostAddress`, never every interface unasked).
    public var listenHost: String
    public var listenPort: Int
    /// The instance's address (host side of network bindings, `agentEndpoint`); nil = the local address of the
    /// route to the control plane.
    public var advertiseAddress: String?
    /// The cgroup every container's cgroup is created under.
    public var cgroupParent: String
    public var network: NetworkConfiguration
    /// How long one `PollDesiredTasks` may block.
    public var pollWaitSeconds: Int
    /// How often usage metrics are sent.
    public var metricsInterval: Duration
    /// How often a container's health check runs during its start period, until it first passes (a container's
    /// `flotilla.healthCheck.startInterval` label overrides it).
    public var healthStartInterval = HealthCheckStateMachine.defaultStartInterval

    public init(
        endpoint: URL, cluster: String = "default", joinToken: String,
        dataDirectory: String = "/var/lib/flotilla", availabilityZone: String? = nil,
        attributes: [AgentAttributePair] = [], listenHost: String = "127.0.0.1", listenPort: Int = 51678,
        advertiseAddress: String? = nil, cgroupParent: String = "flotilla",
        network: NetworkConfiguration = NetworkConfiguration(), pollWaitSeconds: Int = 20,
        metricsInterval: Duration = .seconds(10), caBundle: String? = nil
    ) {
        self.caBundle = caBundle
        self.endpoint = endpoint
        self.cluster = cluster
        self.joinToken = joinToken
        self.dataDirectory = dataDirectory
        self.availabilityZone = availabilityZone
        self.attributes = attributes
        self.listenHost = listenHost
        self.listenPort = listenPort
        self.advertiseAddress = advertiseAddress
        self.cgroupParent = cgroupParent
        self.network = network
        self.pollWaitSeconds = pollWaitSeconds
        self.metricsInterval = metricsInterval
    }

    /// This host's address as the control plane and clients reach it: `advertiseAddress`, else the local address of
    /// the route to the control plane, else nil. The agent registers it, and its endpoint listens on it by default.
    public var hostAddress: String? {
        advertiseAddress ?? AgentHost.localAddress(toward: endpoint.host ?? "127.0.0.1")
    }

    /// The state directory of the agent itself (identity, task records).
    var agentDirectory: String { dataDirectory + "/agent" }
}

/// A custom attribute from `--attribute KEY=VALUE`.
public struct AgentAttributePair: Hashable, Sendable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }

    /// Parses `KEY=VALUE`; the error names the problem.
    public init(parsing text: String) throws(AgentConfigurationError) {
        guard let equals = text.firstIndex(of: "="), equals != text.startIndex else {
            throw .invalid(field: "attribute", message: "must be KEY=VALUE, got \(text)")
        }
        self.init(name: String(text[..<equals]), value: String(text[text.index(after: equals)...]))
    }
}

/// A configuration value the agent cannot use; `description` is one line naming the flag.
public enum AgentConfigurationError: Error, Hashable, Sendable, CustomStringConvertible {
    case invalid(field: String, message: String)

    public var description: String {
        switch self {
        case .invalid(let field, let message): "--\(field): \(message)"
        }
    }
}
