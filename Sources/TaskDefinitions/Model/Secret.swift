/// An environment variable (or log option) whose value comes from a secret store reference.
public struct Secret: Codable, Hashable, Sendable {
    public var name: String
    /// The ARN or name of the secret.
    public var valueFrom: String

    public init(name: String, valueFrom: String) { self.name = name; self.valueFrom = valueFrom }
}
