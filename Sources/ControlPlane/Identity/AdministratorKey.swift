import ECSProtocol
public import Foundation
public import Logging

/// The first administrator key: the operator's, or one the control plane makes on its first start.
public enum AdministratorKey {
    /// The file a made key is written to, in the data directory: an AWS shared credentials file (mode 0600) with a
    /// `[default]` profile, so `AWS_SHARED_CREDENTIALS_FILE=<it> aws ecs ...` and `ecsctl` use it as it is.
    public static let fileName = "admin-credentials"

    /// Makes sure the ring has an administrator key.
    ///
    /// - With `given` (`--admin-access-key-id` and its secret), that key is an admin key from now on, whatever the
    ///   store held under its id before; as MinIO's root credentials, given again at each start.
    /// - Without, and no admin key in the store yet (the first start), makes one, writes it to
    ///   `<dataDirectory>/admin-credentials` and says where once, in the log. The secret itself is never logged.
    public static func ensure(
        ring: AccessKeyRing, store: ControlPlaneStore, given: (id: String, secret: String)?, dataDirectory: URL,
        now: Date = Date(), logger: Logger
    ) async throws {
        if let given {
            let name = ring.key(given.id)?.name ?? "admin-\(given.id.prefix(40))"
            let key = AccessKey(id: given.id, name: name, scope: .admin, secret: given.secret, createdAt: now)
            let row = try ring.stored(key)
            try await store.write { db in try db.putAccessKey(row) }
            ring.insert(key)
            logger.info("administrator access key given at start", metadata: ["accessKey.id": "\(given.id)"])
            return
        }
        guard !ring.all.contains(where: { $0.scope == .admin && $0.instance == nil }) else { return }
        let key = AccessKey(
            id: AccessKeyMaterial.newID(), name: "admin", scope: .admin, secret: AccessKeyMaterial.newSecret(),
            createdAt: now)
        let file = dataDirectory.appendingPathComponent(fileName)
        let text = "[default]\naws_access_key_id = \(key.id)\naws_secret_access_key = \(key.secret)\n"
        // Written before the key is stored: a key nobody can read would lock everyone out.
        try? FileManager.default.removeItem(at: file)
        guard FileManager.default.createFile(atPath: file.path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600])
        else {
            throw CredentialsFileError(path: file.path)
        }
        let row = try ring.stored(key)
        try await store.write { db in try db.putAccessKey(row) }
        ring.insert(key)
        logger.notice(
            "administrator access key created; its credentials are in \(file.path) (an AWS shared credentials file: AWS_SHARED_CREDENTIALS_FILE=\(file.path) aws ecs list-clusters, or copy it into ~/.aws/credentials)",
            metadata: ["accessKey.id": "\(key.id)"])
    }

    public struct CredentialsFileError: Error, CustomStringConvertible {
        public var path: String
        public var description: String { "\(path): cannot be written" }
    }
}
