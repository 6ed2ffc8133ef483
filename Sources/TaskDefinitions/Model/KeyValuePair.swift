/// An environment variable.
public struct KeyValuePair: Codable, Hashable, Sendable {
    /// The variable name.
    public var name: String?
    /// The variable value.
    public var value: String?

    /// Creates an environment variable.
    public init(name: String?, value: String?) { self.name = name; self.value = value }
}
