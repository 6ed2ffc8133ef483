/// A resource limit (`setrlimit`) for the container's processes.
public struct Ulimit: Hashable, Sendable {
    /// One of ``knownNames``, e.g. `nofile`.
    public var name: String
    /// The soft limit; -1 means unlimited.
    public var softLimit: Int
    /// The hard limit, at least the soft one; -1 means unlimited.
    public var hardLimit: Int

    /// Creates a ulimit.
    public init(name: String, softLimit: Int, hardLimit: Int) {
        self.name = name
        self.softLimit = softLimit
        self.hardLimit = hardLimit
    }

    /// The ulimit names ECS accepts.
    public static let knownNames: [String] = [
        "core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice", "nofile", "nproc", "rss", "rtprio",
        "rttime", "sigpending", "stack",
    ]
}

extension Ulimit: Codable {
    enum CodingKeys: String, CodingKey { case name, softLimit, hardLimit }

    /// Creates a ulimit.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        softLimit = try container.decodeInteger(forKey: .softLimit)
        hardLimit = try container.decodeInteger(forKey: .hardLimit)
    }
}
