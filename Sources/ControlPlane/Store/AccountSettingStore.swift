import GRDB

/// The `accountSetting` table: account settings per principal.
extension Database {
    func putAccountSetting(_ name: String, value: String, principal: String) throws {
        try execute(
            sql:
                "INSERT INTO accountSetting (principalArn, name, value) VALUES (?, ?, ?) ON CONFLICT(principalArn, name) DO UPDATE SET value = excluded.value",
            arguments: [principal, name, value])
    }

    func accountSetting(_ name: String, principal: String) throws -> String? {
        try String.fetchOne(
            self, sql: "SELECT value FROM accountSetting WHERE principalArn = ? AND name = ?",
            arguments: [principal, name])
    }

    func removeAccountSetting(_ name: String, principal: String) throws {
        try execute(
            sql: "DELETE FROM accountSetting WHERE principalArn = ? AND name = ?", arguments: [principal, name])
    }

    /// The principal's settings (name, value), by name.
    func accountSettings(principal: String) throws -> [(name: String, value: String)] {
        try Row.fetchAll(
            self, sql: "SELECT name, value FROM accountSetting WHERE principalArn = ? ORDER BY name",
            arguments: [principal]
        )
        .map { (name: $0["name"] as String, value: $0["value"] as String) }
    }
}
