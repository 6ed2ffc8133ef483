import ECSProtocol
import GRDB

/// The `tag` table: ECS tags of clusters, services, tasks, task definitions and container instances, by ARN.
extension Database {
    func tags(of arn: String) throws -> [ResourceTag] {
        try Row.fetchAll(self, sql: "SELECT key, value FROM tag WHERE resourceArn = ? ORDER BY key", arguments: [arn])
            .map { ResourceTag(key: $0["key"], value: $0["value"]) }
    }

    /// Adds or replaces `tags` on `arn`.
    func upsertTags(_ tags: [ResourceTag], on arn: String) throws {
        for tag in tags {
            try execute(
                sql:
                    "INSERT INTO tag (resourceArn, key, value) VALUES (?, ?, ?) ON CONFLICT(resourceArn, key) DO UPDATE SET value = excluded.value",
                arguments: [arn, tag.key ?? "", tag.value ?? ""]
            )
        }
    }

    func tagCount(of arn: String) throws -> Int {
        try count("SELECT COUNT(*) FROM tag WHERE resourceArn = ?", [arn])
    }

    /// Removes every tag of `arn` (a resource created again starts with the tags of its request).
    func removeTags(of arn: String) throws {
        try execute(sql: "DELETE FROM tag WHERE resourceArn = ?", arguments: [arn])
    }

    func removeTag(_ key: String, of arn: String) throws {
        try execute(sql: "DELETE FROM tag WHERE resourceArn = ? AND key = ?", arguments: [arn, key])
    }

    /// Whether a resource of `kind`'s table has the ARN `arn`.
    func resourceExists(_ kind: TaggableResource, arn: String) throws -> Bool {
        try count("SELECT COUNT(*) FROM \(kind.rawValue) WHERE arn = ?", [arn]) > 0
    }
}

/// The tables whose rows ECS tags name by ARN.
enum TaggableResource: String {
    case cluster, service, task, taskDefinition, containerInstance
}
