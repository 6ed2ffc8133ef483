/// Mounts every volume of another container of the task.
public struct VolumeFrom: Hashable, Sendable {
    /// The container whose volumes are mounted.
    public var sourceContainer: String?
    /// Mount read-only.
    public var readOnly: Bool?
    /// Fields this type does not model, kept verbatim.
    public var unknownFields: [String: JSONValue]

    /// Creates a volumes-from entry.
    public init(sourceContainer: String? = nil, readOnly: Bool? = nil, unknownFields: [String: JSONValue] = [:]) {
        self.sourceContainer = sourceContainer
        self.readOnly = readOnly
        self.unknownFields = unknownFields
    }
}

extension VolumeFrom: Codable {
    enum CodingKeys: String, CodingKey, CaseIterable { case sourceContainer, readOnly }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        sourceContainer = try container.decodeIfPresent(String.self, forKey: .sourceContainer)
        readOnly = try container.decodeIfPresent(Bool.self, forKey: .readOnly)
        unknownFields = try decoder.unknownFields(besides: CodingKeys.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(sourceContainer, forKey: .sourceContainer)
        try container.encodeIfPresent(readOnly, forKey: .readOnly)
        try encoder.encodeUnknownFields(unknownFields, besides: CodingKeys.self)
    }
}
