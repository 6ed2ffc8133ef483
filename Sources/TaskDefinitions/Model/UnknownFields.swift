/// A coding key for any member name: reads and writes the fields a model type does not know.
struct AnyCodingKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ stringValue: String) { self.stringValue = stringValue }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

extension Decoder {
    /// The members of the current JSON object that `Key` does not name, kept verbatim.
    ///
    /// ECS adds task-definition fields every year; keeping what we do not model means a definition registered
    /// here describes back exactly as the user sent it.
    func unknownFields<Key: CodingKey & CaseIterable>(besides _: Key.Type) throws -> [String: JSONValue] {
        let container = try container(keyedBy: AnyCodingKey.self)
        let known = Set(Key.allCases.map(\.stringValue))
        var fields: [String: JSONValue] = [:]
        for key in container.allKeys where !known.contains(key.stringValue) {
            fields[key.stringValue] = try container.decode(JSONValue.self, forKey: key)
        }
        return fields
    }
}

extension Encoder {
    /// Writes `fields` next to the known members, skipping any that `Key` names (the typed value wins).
    func encodeUnknownFields<Key: CodingKey & CaseIterable>(_ fields: [String: JSONValue], besides _: Key.Type) throws {
        guard !fields.isEmpty else { return }
        let known = Set(Key.allCases.map(\.stringValue))
        var container = container(keyedBy: AnyCodingKey.self)
        for (name, value) in fields where !known.contains(name) {
            try container.encode(value, forKey: AnyCodingKey(name))
        }
    }
}

extension KeyedDecodingContainer {
    /// An integer member. JSONDecoder reports a fraction or an overflowing number with an internal error that
    /// loses the field's path, so this rethrows that case with the path and the number found.
    func decodeInteger(forKey key: Key) throws -> Int {
        do {
            return try decode(Int.self, forKey: key)
        } catch let error as DecodingError {
            throw error
        } catch {
            throw DecodingError.dataCorruptedError(
                forKey: key, in: self,
                debugDescription: "expected a whole number within 64 bits, got \(try decode(Double.self, forKey: key))")
        }
    }

    /// An optional integer member; see ``decodeInteger(forKey:)``.
    func decodeIntegerIfPresent(forKey key: Key) throws -> Int? {
        guard contains(key), try !decodeNil(forKey: key) else { return nil }
        return try decodeInteger(forKey: key)
    }
}
