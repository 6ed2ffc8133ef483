/// An environment variable.
public struct KeyValuePair: Codable, Hashable, Sendable {
    public var name: String?
    public var value: String?

    public init(name: String?, value: String?) { self.name = name; self.value = value }
}
