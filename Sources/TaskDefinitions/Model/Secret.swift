/// An environment variable (or log option) whose value comes from a secret store reference.
public struct Secret: Hashable, Sendable {
    /// The environment variable (or log option) name.
    public var name: String
    /// The ARN or name of the secret.
    public var valueFrom: String
    /// Fields this type does not model, kept verbatim.
    public var unknownFields: [String: JSONValue]

    /// Creates a secret reference.
    public init(name: String, valueFrom: String, unknownFields: [String: JSONValue] = [:]) {
        self.name = name
        self.valueFrom = valueFrom
        self.unknownFields = unknownFields
    }
}

extension Secret: Codable {
    enum CodingKeys: String, CodingKey, CaseIterable { case name, valueFrom }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        valueFrom = try container.decode(String.self, forKey: .valueFrom)
        unknownFields = try decoder.unknownFields(besides: CodingKeys.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(valueFrom, forKey: .valueFrom)
        try encoder.encodeUnknownFields(unknownFields, besides: CodingKeys.self)
    }
}
