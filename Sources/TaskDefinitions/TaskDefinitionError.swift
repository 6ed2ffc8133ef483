/// One problem in a task definition: where, and what is wrong.
public struct ValidationIssue: Hashable, Sendable, CustomStringConvertible {
    /// Where the problem is.
    public var path: FieldPath
    /// What is wrong, in ECS's words where ECS has them.
    public var message: String

    /// An issue at `path`.
    public init(path: FieldPath, message: String) {
        self.path = path
        self.message = message
    }

    /// `containerDefinitions[1].portMappings[0].hostPort: must be between 0 and 65535, got 70000`.
    public var description: String { path.components.isEmpty ? message : "\(path): \(message)" }
}

/// Why a task definition was refused.
public enum TaskDefinitionError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The JSON does not match the ECS shape (syntax, a wrong type, a missing key).
    case malformed(ValidationIssue)
    /// Decoded, but breaks ECS rules: every issue, not just the first.
    case invalid([ValidationIssue])

    /// Every issue, in the order they were found.
    public var issues: [ValidationIssue] {
        switch self {
        case .malformed(let issue): [issue]
        case .invalid(let issues): issues
        }
    }

    /// One line for the API layer and `ecsctl`: the issues joined with "; ", the first 20 of them when there are
    /// more (the rest are counted, and all of them stay in ``issues``).
    public var description: String {
        let issues = issues
        let shown = issues.prefix(Self.maxDescribedIssues).map(\.description).joined(separator: "; ")
        let hidden = issues.count - Self.maxDescribedIssues
        return hidden > 0 ? "\(shown); and \(hidden) more issue\(hidden == 1 ? "" : "s")" : shown
    }

    /// How many issues ``description`` spells out.
    public static let maxDescribedIssues = 20
}
