/// Where the container's stdout and stderr go.
public struct LogConfiguration: Hashable, Sendable {
    /// The log driver, e.g. `json-file` or `awslogs`.
    public var logDriver: String
    /// Driver options, such as `max-size` for `json-file`.
    public var options: [String: String]?
    /// Driver options whose values come from secrets.
    public var secretOptions: [Secret]?
    /// Fields this type does not model, kept verbatim.
    public var unknownFields: [String: JSONValue]

    /// Creates a log configuration.
    public init(
        logDriver: String, options: [String: String]? = nil, secretOptions: [Secret]? = nil,
        unknownFields: [String: JSONValue] = [:]
    ) {
        self.logDriver = logDriver
        self.options = options
        self.secretOptions = secretOptions
        self.unknownFields = unknownFields
    }
}

extension LogConfiguration: Codable {
    enum CodingKeys: String, CodingKey, CaseIterable { case logDriver, options, secretOptions }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        logDriver = try container.decode(String.self, forKey: .logDriver)
        options = try container.decodeIfPresent([String: String].self, forKey: .options)
        secretOptions = try container.decodeIfPresent([Secret].self, forKey: .secretOptions)
        unknownFields = try decoder.unknownFields(besides: CodingKeys.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(logDriver, forKey: .logDriver)
        try container.encodeIfPresent(options, forKey: .options)
        try container.encodeIfPresent(secretOptions, forKey: .secretOptions)
        try encoder.encodeUnknownFields(unknownFields, besides: CodingKeys.self)
    }
}
