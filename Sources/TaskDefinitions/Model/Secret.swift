/// An environment variable (or log option) whose value comes from a secret store reference.
public struct Secret: Codable, Hashable, Sendable {
    /// The environment variable (or log option) name.
    public var name: String
    /// The ARN or name of the secret.
    public var valueFrom: String

    /// Creates a secret reference.
    public init(name: String, valueFrom: String) { self.name = name; self.valueFrom = valueFrom }
}
