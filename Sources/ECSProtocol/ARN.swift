/// ECS resource names: `arn:aws:ecs:REGION:ACCOUNT:KIND/PATH`.
public struct ARN: Hashable, Sendable, CustomStringConvertible {
    public var region: String
    public var account: String
    /// `cluster`, `service`, `task`, `task-definition`, `container-instance`.
    public var kind: String
    /// What follows `KIND/`: `NAME`, `CLUSTER/NAME`, `FAMILY:REV`.
    public var resource: String

    public var description: String { "arn:aws:ecs:\(region):\(account):\(kind)/\(resource)" }

    /// Parses an ECS ARN, or nil when `text` is not one.
    public init?(_ text: String) {
        let parts = text.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == "arn", parts[1].hasPrefix("aws"), parts[2] == "ecs",
            let slash = parts[5].firstIndex(of: "/")
        else { return nil }
        region = String(parts[3])
        account = String(parts[4])
        kind = String(parts[5][..<slash])
        resource = String(parts[5][parts[5].index(after: slash)...])
        guard !kind.isEmpty, !resource.isEmpty else { return nil }
    }

    public init(region: String, account: String, kind: String, resource: String) {
        self.region = region
        self.account = account
        self.kind = kind
        self.resource = resource
    }
}

extension ARN {
    /// The last path component of an identifier that is either a plain name/ID or an ARN of `kind`
    /// (`cluster/NAME`, `service/CLUSTER/NAME` or the old `service/NAME`).
    public static func lastComponent(of identifier: String, kind: String) -> String? {
        guard identifier.hasPrefix("arn:") else { return identifier.isEmpty ? nil : identifier }
        guard let arn = ARN(identifier), arn.kind == kind else { return nil }
        return arn.resource.split(separator: "/").last.map(String.init)
    }

    /// The cluster component of a two-level ARN (`service/CLUSTER/NAME`), when present.
    public static func clusterComponent(of identifier: String) -> String? {
        guard let arn = ARN(identifier) else { return nil }
        let parts = arn.resource.split(separator: "/")
        return parts.count == 2 ? String(parts[0]) : nil
    }
}
