/// A line added to the container's `/etc/hosts`.
public struct HostEntry: Codable, Hashable, Sendable {
    public var hostname: String
    public var ipAddress: String

    public init(hostname: String, ipAddress: String) { self.hostname = hostname; self.ipAddress = ipAddress }
}
