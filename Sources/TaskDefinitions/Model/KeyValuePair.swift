/// An environment variable.
public struct KeyValuePair: Hashable, Sendable {
    /// The variable name.
    public var name: String?
    /// The variable value.
    public var value: String?
    /// Fields this type does not model, kept verbatim.
    public var unknownFields: [String: JSONValue]

    /// Creates an environment variable.
    public init(name: String?, value: String?, unknownFields: [String: JSONValue] = [:]) {
        self.name = name
        self.value = value
        self.unknownFields = unknownFields
    }
}

extension KeyValuePair: Codable {
    enum CodingKeys: String, CodingKey, CaseIterable { case name, value }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decodeIfPresent(String.self, forKey: .name)
        value = try container.decodeIfPresent(String.self, forKey: .value)
        unknownFields = try decoder.unknownFields(besides: CodingKeys.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(name, forKey: .name)
        try container.encodeIfPresent(value, forKey: .value)
        try encoder.encodeUnknownFields(unknownFields, besides: CodingKeys.self)
    }
}
