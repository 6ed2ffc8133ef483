/// A key-value tag on the task definition.
public struct Tag: Codable, Hashable, Sendable {
    /// 1–128 characters.
    public var key: String?
    /// 0–256 characters.
    public var value: String?

    /// Creates a tag.
    public init(key: String?, value: String?) { self.key = key; self.value = value }
}
