/// A vocabulary word as it crossed the wire from a peer that may be newer: a `Word` this version knows, or text it
/// does not, kept as sent.
///
/// Decoding never fails on an unknown word (an agent keeps working against a newer control plane, and the control
/// plane answers an unknown word with its own validation message, naming the field); code asks `word` or compares
/// with `==`. Encodes as the bare string, so the JSON is the same as the word's.
public struct WireValue<Word>: RawRepresentable, Codable, Hashable, Sendable, CustomStringConvertible
where Word: RawRepresentable & Hashable & Sendable, Word.RawValue == String {
    public var rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }

    public init(_ word: Word) { self.rawValue = word.rawValue }

    /// The known word, or nil for one this version does not know.
    public var word: Word? { Word(rawValue: rawValue) }

    public var description: String { rawValue }

    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(String.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    public static func == (lhs: WireValue, rhs: Word) -> Bool { lhs.rawValue == rhs.rawValue }
    public static func != (lhs: WireValue, rhs: Word) -> Bool { lhs.rawValue != rhs.rawValue }
}

extension Optional {
    /// Whether an optional wire value holds `word`.
    public static func == <Word>(lhs: Self, rhs: Word) -> Bool where Wrapped == WireValue<Word> {
        lhs?.rawValue == rhs.rawValue
    }

    public static func != <Word>(lhs: Self, rhs: Word) -> Bool where Wrapped == WireValue<Word> {
        lhs?.rawValue != rhs.rawValue
    }
}
