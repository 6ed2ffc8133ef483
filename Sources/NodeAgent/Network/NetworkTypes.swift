import Foundation

/// How a container reaches the network, as ECS's `networkMode` spells it.
///
/// `host` shares the host's stack; `none` gets a namespace with only `lo`; `bridge` gets its own namespace on the
/// node's bridge with hostPort mappings; `awsvpc` gives a whole task one namespace and address shared by its containers.
public enum ContainerNetworkMode: String, Codable, Hashable, Sendable {
    case none, host, bridge, awsvpc
}

/// One requested port of a container definition's `portMappings`.
public struct PortRequest: Hashable, Codable, Sendable {
    /// The port the process listens on inside the container.
    public var containerPort: Int
    /// The host port to map; nil or 0 asks for a dynamic port from the ephemeral range (bridge mode only).
    public var hostPort: Int?
    /// `tcp` or `udp`.
    public var `protocol`: String

    /// A request for `containerPort`; hostPort nil asks for a dynamic port.
    public init(containerPort: Int, hostPort: Int? = nil, protocol: String = "tcp") {
        self.containerPort = containerPort
        self.hostPort = hostPort
        self.protocol = `protocol`
    }
}

/// A port as it was really bound, the shape of ECS's `networkBindings`.
public struct NetworkBinding: Hashable, Codable, Sendable {
    /// "0.0.0.0" for host and bridge mappings; the task's own address for awsvpc.
    public var bindIP: String
    public var containerPort: Int
    public var hostPort: Int
    public var `protocol`: String

    /// A binding as ECS reports it.
    public init(bindIP: String, containerPort: Int, hostPort: Int, protocol: String) {
        self.bindIP = bindIP
        self.containerPort = containerPort
        self.hostPort = hostPort
        self.protocol = `protocol`
    }
}

/// The network a container (bridge, none, host) or a task (awsvpc) was given.
public struct NetworkAttachment: Hashable, Codable, Sendable {
    /// Container id (bridge, none, host) or task id (awsvpc: shared by the task's containers).
    public var networkID: String
    public var mode: ContainerNetworkMode
    /// A bind-mounted netns file the container joins with `setns(fd, CLONE_NEWNET)`; nil = the host's network.
    public var namespacePath: String?
    /// The address of `eth0` in the namespace (bridge, awsvpc).
    public var ipv4Address: String?
    /// The default gateway of the namespace: the bridge's address (bridge, awsvpc).
    public var gateway: String?
    public var bindings: [NetworkBinding]

    /// An attachment; NetworkManager makes these, tests and callers may compare against them.
    public init(
        networkID: String, mode: ContainerNetworkMode, namespacePath: String? = nil, ipv4Address: String? = nil,
        gateway: String? = nil, bindings: [NetworkBinding] = []
    ) {
        self.networkID = networkID
        self.mode = mode
        self.namespacePath = namespacePath
        self.ipv4Address = ipv4Address
        self.gateway = gateway
        self.bindings = bindings
    }
}

/// Node-wide network settings. Several agents (or test suites) on one machine must use distinct values for every field.
public struct NetworkConfiguration: Hashable, Sendable {
    /// The Linux bridge every bridge and awsvpc namespace hangs off (at most 15 characters).
    public var bridgeName = "flotilla0"
    /// The IPv4 subnet of the bridge; its first host address is the bridge's own address and the gateway.
    public var subnet = "172.30.0.0/16"
    /// Where dynamic host ports come from.
    public var ephemeralPorts = 32768...60999
    /// Names the nftables table (`ip <tablePrefix>`) holding the DNAT and masquerade rules.
    public var tablePrefix = "flotilla"
    /// The directory of the bind-mounted namespace files (like `ip netns` uses /run/netns).
    public var namespaceDirectory = "/run/flotilla/netns"

    /// The node defaults: bridge flotilla0 on 172.30.0.0/16, table `flotilla`, namespaces in /run/flotilla/netns.
    public init() {}
}

/// Why a network could not be attached or detached. `description` is one line naming the field or the step.
public enum NetworkError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A configuration value is unusable (bad subnet, bridge name too long, ...).
    case invalidConfiguration(field: String, message: String)
    /// A network id or port request is unusable.
    case invalidRequest(field: String, message: String)
    /// The id is attached already with a different mode or ports.
    case alreadyAttached(networkID: String)
    /// A static host port is bound on the host or mapped for another network.
    case portInUse(port: Int, protocol: String)
    /// Every port of the ephemeral range is taken.
    case noFreePort(range: ClosedRange<Int>)
    /// Every address of the subnet is leased.
    case addressPoolExhausted(subnet: String)
    /// `ip`, `nft`, `unshare` or `nsenter` failed; stderr says why.
    case commandFailed(command: [String], status: Int32, stderr: String)
    /// The persisted state could not be read or written.
    case state(path: String, message: String)

    public var description: String {
        switch self {
        case .invalidConfiguration(let field, let message): "network configuration \(field): \(message)"
        case .invalidRequest(let field, let message): "\(field): \(message)"
        case .alreadyAttached(let id): "network \(id) is already attached with a different mode or ports"
        case .portInUse(let port, let proto): "host port \(port)/\(proto) is already in use"
        case .noFreePort(let range): "no free host port in \(range.lowerBound)-\(range.upperBound)"
        case .addressPoolExhausted(let subnet): "no free address left in \(subnet)"
        case .commandFailed(let command, let status, let stderr):
            "\(command.joined(separator: " ")) exited with \(status): \(stderr.trimmingCharacters(in: .whitespacesAndNewlines))"
        case .state(let path, let message): "network state \(path): \(message)"
        }
    }
}
