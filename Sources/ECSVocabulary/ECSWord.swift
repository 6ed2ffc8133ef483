/// A word of an ECS vocabulary: a closed set whose raw values are ECS's spellings.
public protocol ECSWord: RawRepresentable, Codable, Hashable, Sendable, CaseIterable, CustomStringConvertible
where RawValue == String {}

extension ECSWord {
    /// The ECS spelling, so interpolating a word writes what the wire says.
    public var description: String { rawValue }

    /// Every spelling of the vocabulary, in its order.
    public static var spellings: [String] { allCases.map(\.rawValue) }
}
