/// Where a container definition's `secrets[].valueFrom` points, as ECS reads it: a Secrets Manager secret ARN with
/// ECS's optional suffix `:json-key:version-stage:version-id`, else an SSM parameter (an ARN or a name).
///
/// A plain name is always a parameter, as in ECS: Secrets Manager secrets are named by ARN (full, with the six
/// random characters, or partial, without them).
public enum TaskSecretReference: Hashable, Sendable {
    /// An SSM parameter: its name or ARN as written.
    case parameter(String)
    /// A Secrets Manager secret: its ARN without ECS's suffix, then the suffix's parts (nil when empty).
    case secret(id: String, jsonKey: String?, versionStage: String?, versionId: String?)

    /// The longest `valueFrom` read (ECS's limit on an ARN with its suffix).
    public static let maxLength = 2048

    /// Parses `valueFrom`; nil when it is empty, too long, or a Secrets Manager ARN with more parts than ECS takes.
    public init?(_ valueFrom: String) {
        guard !valueFrom.isEmpty, valueFrom.utf8.count <= Self.maxLength else { return nil }
        let parts = valueFrom.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 7, parts[0] == "arn", parts[2] == "secretsmanager", parts[5] == "secret" else {
            self = .parameter(valueFrom)
            return
        }
        guard parts.count <= 10, !parts[6].isEmpty else { return nil }
        func part(_ index: Int) -> String? { index < parts.count && !parts[index].isEmpty ? parts[index] : nil }
        self = .secret(
            id: parts[0...6].joined(separator: ":"), jsonKey: part(7), versionStage: part(8), versionId: part(9))
    }
}
