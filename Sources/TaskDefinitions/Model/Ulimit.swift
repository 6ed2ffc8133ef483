/// A resource limit (`setrlimit`) for the container's processes.
public struct Ulimit: Hashable, Sendable {
    /// One of ``knownNames``, e.g. `nofile`.
    public var name: String
    /// The soft limit; -1 means unlimited.
    public var softLimit: Int
    /// The hard limit, at least the soft one; -1 means unlimited.
    public var hardLimit: Int
    /// Fields this type does not model, kept verbatim.
    public var unknownFields: [String: JSONValue]

    /// Creates a ulimit.
    public init(name: String, softLimit: Int, hardLimit: Int, unknownFields: [String: JSONValue] = [:]) {
        self.name = name
        self.softLimit = softLimit
        self.hardLimit = hardLimit
        self.unknownFields = unknownFields
    }

    /// The ulimit names ECS accepts.
    public static let knownNames: [String] = [
        "core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice", "nofile", "nproc", "rss", "rtprio",
        "rttime", "sigpending", "stack",
    ]
}

extension Ulimit: Codable {
    enum CodingKeys: String, CodingKey, CaseIterable { case name, softLimit, hardLimit }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        softLimit = try container.decodeInteger(forKey: .softLimit)
        hardLimit = try container.decodeInteger(forKey: .hardLimit)
        unknownFields = try decoder.unknownFields(besides: CodingKeys.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(softLimit, forKey: .softLimit)
        try container.encode(hardLimit, forKey: .hardLimit)
        try encoder.encodeUnknownFields(unknownFields, besides: CodingKeys.self)
    }
}
