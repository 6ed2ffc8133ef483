/// A line added to the container's `/etc/hosts`.
public struct HostEntry: Codable, Hashable, Sendable {
    /// The name to resolve.
    public var hostname: String
    /// The address it resolves to.
    public var ipAddress: String

    /// Creates an `/etc/hosts` entry.
    public init(hostname: String, ipAddress: String) { self.hostname = hostname; self.ipAddress = ipAddress }
}
