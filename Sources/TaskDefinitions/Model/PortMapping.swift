/// A container port, optionally bound to a host port (0 or absent in bridge mode: dynamic).
public struct PortMapping: Hashable, Sendable {
    /// The port the container listens on: 1–65535. Required.
    public var containerPort: Int?
    /// The host port: 0 or absent asks for a dynamic port in bridge mode; in host and awsvpc modes it must equal
    /// ``containerPort`` when set.
    public var hostPort: Int?
    /// "tcp" (the default) or "udp". See ``transportProtocol``.
    public var `protocol`: String?
    /// A name for the mapping, used by service discovery and load balancers.
    public var name: String?
    /// Fields this type does not model (`appProtocol`, `containerPortRange`, ...), kept verbatim.
    public var unknownFields: [String: JSONValue]

    /// Creates a port mapping; only the container port is needed.
    public init(
        containerPort: Int?, hostPort: Int? = nil, protocol: String? = nil, name: String? = nil,
        unknownFields: [String: JSONValue] = [:]
    ) {
        self.containerPort = containerPort
        self.hostPort = hostPort
        self.protocol = `protocol`
        self.name = name
        self.unknownFields = unknownFields
    }
}

extension PortMapping: Codable {
    enum CodingKeys: String, CodingKey, CaseIterable { case containerPort, hostPort, `protocol`, name }

    /// Creates a port mapping; only the container port is needed.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        containerPort = try container.decodeIntegerIfPresent(forKey: .containerPort)
        hostPort = try container.decodeIntegerIfPresent(forKey: .hostPort)
        `protocol` = try container.decodeIfPresent(String.self, forKey: .protocol)
        name = try container.decodeIfPresent(String.self, forKey: .name)
        unknownFields = try decoder.unknownFields(besides: CodingKeys.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(containerPort, forKey: .containerPort)
        try container.encodeIfPresent(hostPort, forKey: .hostPort)
        try container.encodeIfPresent(`protocol`, forKey: .protocol)
        try container.encodeIfPresent(name, forKey: .name)
        try encoder.encodeUnknownFields(unknownFields, besides: CodingKeys.self)
    }
}

/// The transport protocols ECS port mappings accept.
public enum TransportProtocol: String, Codable, Hashable, Sendable, CaseIterable, Comparable {
    case tcp, udp

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}
