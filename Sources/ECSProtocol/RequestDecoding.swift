public import Foundation

/// JSON in and out of operations, with decoding errors turned into ECS errors that name the field.
public enum RequestDecoding {
    /// Decodes a JSON object body (whitespace only is `{}`) with epoch-seconds dates.
    public static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        let body = ECSWire.object(data)
        guard (try? JSONSerialization.jsonObject(with: body, options: [.fragmentsAllowed])) is [String: Any] else {
            throw ECSError.serialization("The request body is not a JSON object.")
        }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        return try decoder.decode(type, from: body)
    }

    /// Encodes an answer: sorted keys, epoch-seconds dates.
    public static func encode(_ value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .secondsSince1970
        return try encoder.encode(value)
    }

    /// A coding path as ECS names fields: `containerDefinitions[1].portMappings[0].containerPort`.
    public static func path(_ codingPath: [any CodingKey]) -> String {
        var text = ""
        for key in codingPath {
            if let index = key.intValue {
                text += "[\(index)]"
            } else {
                text += text.isEmpty ? key.stringValue : ".\(key.stringValue)"
            }
        }
        return text
    }

    /// A decoding error as ECS answers it, naming the field.
    public static func ecsError(from error: DecodingError) -> ECSError {
        switch error {
        case .typeMismatch(let type, let context):
            return .serialization("\(path(context.codingPath)): expected \(typeName(type)).")
        case .valueNotFound(let type, let context):
            return .invalidParameter("\(path(context.codingPath)): expected \(typeName(type)), got null.")
        case .keyNotFound(let key, let context):
            return .invalidParameter("\(path(context.codingPath + [key])): is required.")
        case .dataCorrupted(let context):
            let where_ = path(context.codingPath)
            return .serialization(
                where_.isEmpty ? "The request body is not valid JSON." : "\(where_): \(context.debugDescription)")
        @unknown default:
            return .serialization("The request body does not match the operation's shape.")
        }
    }

    /// The JSON type a Swift type decodes from, for messages.
    public static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is Int32.Type, is Int64.Type: "an integer"
        case is Bool.Type: "a boolean"
        case is Double.Type: "a number"
        default: String(describing: type).hasPrefix("Array") ? "a list" : "an object"
        }
    }
}

/// ECS's `nextToken`/`maxResults` paging: opaque tokens that name the last item returned.
public struct Pagination {
    /// Checks `maxResults` against ECS's bounds for the operation.
    public static func limit(_ maxResults: Int?, default defaultValue: Int, max: Int) throws(ECSError) -> Int {
        guard let maxResults else { return defaultValue }
        guard (1...max).contains(maxResults) else {
            throw .invalidParameter("maxResults: must be between 1 and \(max), got \(maxResults).")
        }
        return maxResults
    }

    /// The page of `items` (already in order, with ascending unique `key`s unless `descending`) after `nextToken`.
    public static func page<T>(
        _ items: [T], key: (T) -> String, nextToken: String?, limit: Int,
        descending: Bool = false
    ) throws(ECSError) -> (items: [T], nextToken: String?) {
        var remaining = items[...]
        if let nextToken {
            guard let data = Data(base64Encoded: nextToken), let after = String(data: data, encoding: .utf8) else {
                throw .invalidParameter("nextToken: is not a token this API issued.")
            }
            remaining = items.drop { descending ? key($0) >= after : key($0) <= after }
        }
        let page = Array(remaining.prefix(limit))
        let token = remaining.count > limit ? page.last.map { Data(key($0).utf8).base64EncodedString() } : nil
        return (page, token)
    }
}

/// ECS's tag rules: at most 50 per resource, keys 1–128 and values 0–256 characters.
public enum TagRules {
    public static let maxTagsPerResource = 50

    /// At most 50 tags; keys 1-128 characters without the aws: prefix, values up to 256.
    public static func check(_ tags: [ResourceTag]?, field: String = "tags") throws(ECSError) {
        guard let tags else { return }
        guard tags.count <= maxTagsPerResource else {
            throw .invalidParameter("\(field): at most \(maxTagsPerResource) tags, got \(tags.count).")
        }
        for (index, tag) in tags.enumerated() {
            guard let key = tag.key, (1...128).contains(key.count) else {
                throw .invalidParameter("\(field)[\(index)].key: must be 1 to 128 characters.")
            }
            guard (tag.value ?? "").count <= 256 else {
                throw .invalidParameter("\(field)[\(index)].value: must be at most 256 characters.")
            }
            guard !key.lowercased().hasPrefix("aws:") else {
                throw .invalidParameter("\(field)[\(index)].key: the aws: prefix is reserved.")
            }
        }
    }
}
