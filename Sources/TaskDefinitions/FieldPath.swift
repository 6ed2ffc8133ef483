/// A path into task-definition JSON, printed as ECS users read it: `containerDefinitions[1].portMappings[0].hostPort`.
///
/// Every ``ValidationIssue`` carries one, so a user can find the field that is wrong without guessing.
public struct FieldPath: Hashable, Sendable, CustomStringConvertible {
    /// One step of a path: an object member or an array element.
    public enum Component: Hashable, Sendable { case key(String), index(Int) }

    /// The steps from the document root to the field.
    public var components: [Component]

    /// A path made of `components`; empty is the document root.
    public init(_ components: [Component] = []) { self.components = components }

    /// The path of the whole document.
    public static let root = FieldPath()

    /// This path followed by the object member `key`.
    public func key(_ key: String) -> FieldPath { FieldPath(components + [.key(key)]) }

    /// This path followed by the array element `index`.
    public func index(_ index: Int) -> FieldPath { FieldPath(components + [.index(index)]) }

    /// The path a `DecodingError` reports, with array positions as indexes.
    public init(codingPath: [any CodingKey]) {
        self.init(
            codingPath.map { key in
                // JSONDecoder names array positions "Index N"; an object member named "5" stays a key.
                if let index = key.intValue, key.stringValue == "Index \(index)" {
                    return .index(index)
                }
                return .key(key.stringValue)
            })
    }

    /// `containerDefinitions[1].portMappings[0].hostPort`; empty for the root.
    public var description: String {
        var text = ""
        for component in components {
            switch component {
            case .key(let key): text += text.isEmpty ? key : ".\(key)"
            case .index(let index): text += "[\(index)]"
            }
        }
        return text
    }
}
