public import Foundation

extension TaskDefinition {
    /// Decodes and validates task-definition JSON as ECS's RegisterTaskDefinition does.
    ///
    /// - Throws: ``TaskDefinitionError/malformed(_:)`` when the JSON is not an object of ECS's shape (syntax, a
    ///   wrong type, a missing key, an unknown enum value), with the path of the first such field;
    ///   ``TaskDefinitionError/invalid(_:)`` with every ECS rule the definition breaks.
    public static func decode(_ json: Data) throws(TaskDefinitionError) -> TaskDefinition {
        let definition = try decodeUnvalidated(json)
        let issues = definition.validationIssues()
        guard issues.isEmpty else { throw .invalid(issues) }
        return definition
    }

    /// Decodes task-definition JSON without checking ECS's rules: for revisions read back from the store, which
    /// were valid when registered and must stay readable if a later version adds a rule.
    ///
    /// - Throws: ``TaskDefinitionError/malformed(_:)`` only.
    public static func decodeUnvalidated(_ json: Data) throws(TaskDefinitionError) -> TaskDefinition {
        let document: JSONValue
        do {
            document = try JSONDecoder().decode(JSONValue.self, from: json)
        } catch let error as DecodingError {
            throw .malformed(ValidationIssue(error, in: nil))
        } catch {
            throw .malformed(ValidationIssue(path: FieldPath(), message: "malformed JSON: \(error)"))
        }
        guard case .object = document else {
            throw .malformed(
                ValidationIssue(
                    path: FieldPath(),
                    message:
                        "expected a task definition object, got \(ValidationIssue.found(at: FieldPath(), in: document))"
                ))
        }
        do {
            return try JSONDecoder().decode(TaskDefinition.self, from: json)
        } catch let error as DecodingError {
            throw .malformed(ValidationIssue(error, in: document))
        } catch {
            throw .malformed(ValidationIssue(path: FieldPath(), message: "malformed task definition: \(error)"))
        }
    }

    /// The definition as ECS JSON (sorted keys, dates as epoch seconds like the ECS API).
    public func encodedJSON() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .secondsSince1970
        // Encoding plain Codable values into JSON cannot fail: every value here is a string, integer, boolean,
        // array or object, and JSONValue numbers are finite because they were parsed from JSON.
        return try! encoder.encode(self)
    }
}
