import Foundation
import TaskDefinitions
import Testing

/// Every value of every valid example replaced by values of other shapes, and every member removed: decoding
/// never traps, and every issue it reports names a path that exists in the document (up to its last step, which
/// may be the missing member).
@Suite(.timeLimit(.minutes(10)))
struct MutationTests {
    static let replacements: [JSONValue] = [
        .null, .string("x"), .number(1.5), .number(1e30), .array([]), .object([:]),
    ]

    @Test(
        "wrong values anywhere give issues at real paths",
        arguments: ["web.json", "worker.json", "web-with-sidecar.json"])
    func mutations(_ name: String) throws {
        // Given a valid example
        let data = try Data(contentsOf: Fixture.examples.appendingPathComponent(name))
        let document = try JSONDecoder().decode(JSONValue.self, from: data)
        let paths = Self.paths(in: document)
        #expect(paths.count >= 15)
        var refused = 0
        for path in paths where !path.isEmpty {
            var variants = Self.replacements.map { Self.replacing(path, in: document, with: $0) }
            variants.append(Self.replacing(path, in: document, with: nil))
            for variant in variants {
                // When one value is replaced or removed
                let json = try JSONEncoder().encode(variant)
                guard let error = Fixture.error(decoding: json) else { continue }
                refused += 1
                // Then each issue says something and points into the document
                for issue in error.issues {
                    #expect(!issue.message.isEmpty)
                    #expect(
                        Self.resolves(Array(issue.path.components.dropLast()), in: variant),
                        "\(issue) in \(String(decoding: json, as: UTF8.self))")
                }
            }
        }
        #expect(refused > paths.count)
    }

    // MARK: - JSON tree helpers

    static func paths(in value: JSONValue, prefix: [FieldPath.Component] = []) -> [[FieldPath.Component]] {
        var result = [prefix]
        switch value {
        case .object(let members):
            for (key, member) in members.sorted(by: { $0.key < $1.key }) {
                result += paths(in: member, prefix: prefix + [.key(key)])
            }
        case .array(let elements):
            for (index, element) in elements.enumerated() {
                result += paths(in: element, prefix: prefix + [.index(index)])
            }
        default:
            break
        }
        return result
    }

    /// `document` with the value at `path` replaced, or removed when `replacement` is nil.
    static func replacing(
        _ path: [FieldPath.Component], in document: JSONValue, with replacement: JSONValue?
    ) -> JSONValue {
        guard let first = path.first else { return replacement ?? .null }
        let rest = Array(path.dropFirst())
        switch (first, document) {
        case (.key(let key), .object(var members)):
            if rest.isEmpty, replacement == nil {
                members[key] = nil
            } else if let member = members[key] {
                members[key] = replacing(rest, in: member, with: replacement)
            }
            return .object(members)
        case (.index(let index), .array(var elements)):
            if rest.isEmpty, replacement == nil {
                elements.remove(at: index)
            } else {
                elements[index] = replacing(rest, in: elements[index], with: replacement)
            }
            return .array(elements)
        default:
            return document
        }
    }

    static func resolves(_ path: [FieldPath.Component], in document: JSONValue) -> Bool {
        var current = document
        for component in path {
            switch (component, current) {
            case (.key(let key), .object(let members)):
                guard let member = members[key] else { return false }
                current = member
            case (.index(let index), .array(let elements)):
                guard elements.indices.contains(index) else { return false }
                current = elements[index]
            default:
                return false
            }
        }
        return true
    }
}
