/// ECS network modes. Absent means `bridge` (see ``TaskDefinition/resolvedNetworkMode``).
public enum NetworkMode: String, Codable, Hashable, Sendable, CaseIterable {
    case bridge, host, awsvpc, none

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let mode = NetworkMode(rawValue: text) else {
            throw DecodingError.dataCorruptedError(
                in: container,
                debugDescription:
                    "must be one of \(Self.allCases.map(\.rawValue).joined(separator: ", ")), got '\(text)'")
        }
        self = mode
    }
}
