import Foundation

extension ValidationIssue {
    /// The issue a `DecodingError` stands for, with the JSON path and a plain message:
    /// `containerDefinitions[0].memory: expected a number, got a string`.
    ///
    /// - Parameter document: the same JSON parsed as ``JSONValue``, to name what was found where the error is.
    init(_ error: DecodingError, in document: JSONValue?) {
        switch error {
        case .typeMismatch(let type, let context):
            let path = FieldPath(codingPath: context.codingPath)
            self.init(path: path, message: "expected \(Self.name(of: type)), got \(Self.found(at: path, in: document))")
        case .valueNotFound(let type, let context):
            let path = FieldPath(codingPath: context.codingPath)
            self.init(path: path, message: "expected \(Self.name(of: type)), got null")
        case .keyNotFound(let key, let context):
            self.init(path: FieldPath(codingPath: context.codingPath + [key]), message: "is required but missing")
        case .dataCorrupted(let context):
            let path = FieldPath(codingPath: context.codingPath)
            if context.codingPath.isEmpty, document == nil {
                self.init(path: path, message: Self.syntaxMessage(context))
            } else if context.codingPath.isEmpty {
                // The text parsed as JSON, so this is JSONDecoder losing the path of a value it could not convert.
                self.init(
                    path: path, message: "malformed task definition: a value could not be read as its field's type")
            } else if case .number(let number)? = document.flatMap({ Self.value(at: path, in: $0) }) {
                // JSONDecoder reports a fraction or an overflowing number for an Int field this way.
                self.init(path: path, message: "expected a whole number within 64 bits, got \(number)")
            } else {
                self.init(path: path, message: context.debugDescription)
            }
        @unknown default:
            self.init(path: FieldPath(), message: "malformed task definition: \(error)")
        }
    }

    static func syntaxMessage(_ context: DecodingError.Context) -> String {
        let detail = (context.underlyingError as? NSError)?.userInfo[NSDebugDescriptionErrorKey] as? String
        return "malformed JSON: " + (detail ?? context.debugDescription)
    }

    /// "a number", "a string", ... for the Swift type a decoder expected.
    static func name(of type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Bool.Type: return "a boolean"
        case is Int.Type, is Int64.Type, is Int32.Type, is Double.Type, is Float.Type: return "a number"
        default:
            let name = String(describing: type)
            if name.hasPrefix("Dictionary") { return "an object" }
            if name.hasPrefix("Array") { return "an array" }
            return "a value of type \(name)"
        }
    }

    /// "a string", "an array", ... for the JSON value at `path`.
    static func found(at path: FieldPath, in document: JSONValue?) -> String {
        switch document.flatMap({ value(at: path, in: $0) }) {
        case .null?: "null"
        case .bool?: "a boolean"
        case .number?: "a number"
        case .string?: "a string"
        case .array?: "an array"
        case .object?: "an object"
        case nil: "something else"
        }
    }

    static func value(at path: FieldPath, in document: JSONValue) -> JSONValue? {
        var current = document
        for component in path.components {
            switch component {
            case .key(let key):
                guard let next = current[key] else { return nil }
                current = next
            case .index(let index):
                guard let elements = current.arrayValue, elements.indices.contains(index) else { return nil }
                current = elements[index]
            }
        }
        return current
    }
}
