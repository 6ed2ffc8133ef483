/// A key-value tag on the task definition.
public struct Tag: Hashable, Sendable {
    /// 1–128 characters.
    public var key: String?
    /// 0–256 characters.
    public var value: String?
    /// Fields this type does not model, kept verbatim.
    public var unknownFields: [String: JSONValue]

    /// Creates a tag.
    public init(key: String?, value: String?, unknownFields: [String: JSONValue] = [:]) {
        self.key = key
        self.value = value
        self.unknownFields = unknownFields
    }
}

extension Tag: Codable {
    enum CodingKeys: String, CodingKey, CaseIterable { case key, value }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        key = try container.decodeIfPresent(String.self, forKey: .key)
        value = try container.decodeIfPresent(String.self, forKey: .value)
        unknownFields = try decoder.unknownFields(besides: CodingKeys.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(key, forKey: .key)
        try container.encodeIfPresent(value, forKey: .value)
        try encoder.encodeUnknownFields(unknownFields, besides: CodingKeys.self)
    }
}
