public import ECSProtocol
public import Foundation
import GRDB
import Synchronization

/// The container instance an instance credential acts for.
struct InstanceBinding: Sendable, Hashable {
    var cluster: String
    var instanceID: String
}

/// One access key with its secret open, as the ring keeps it.
struct AccessKey: Sendable {
    var id: String
    var name: String
    var scope: AccessKeyScope
    var secret: String
    var createdAt: Date
    var expiresAt: Date?
    var instance: InstanceBinding?
}

extension AccessKey {
    /// A new instance credential: an agent-scope key bound to `instance`, working for `lifetime`.
    static func instanceCredential(for instance: InstanceBinding, now: Date, lifetime: Duration) -> AccessKey {
        let id = AccessKeyMaterial.newID()
        return AccessKey(
            id: id, name: "instance-\(instance.cluster)-\(instance.instanceID)-\(id.suffix(6))", scope: .agent,
            secret: AccessKeyMaterial.newSecret(), createdAt: now, expiresAt: now.addingTimeInterval(lifetime.seconds),
            instance: instance)
    }
}

extension Duration {
    /// The duration in seconds, as `TimeInterval`.
    var seconds: TimeInterval {
        TimeInterval(components.seconds) + TimeInterval(components.attoseconds) / 1e18
    }
}

/// Every access key in memory, secrets open: the signature check of each request looks a key up here, never on disk.
///
/// Loaded once from the store at start; the operations that create and delete keys change the store and then the
/// ring, after their commit. (One control plane process owns its store; replicas sharing a database will need the
/// ring to follow the store's changes.)
public final class AccessKeyRing: Sendable {
    let box: SecretBox
    private let keys: Mutex<[String: AccessKey]>

    init(box: SecretBox, keys: [AccessKey]) {
        self.box = box
        self.keys = Mutex(Dictionary(keys.map { ($0.id, $0) }, uniquingKeysWith: { $1 }))
    }

    /// The keys of `store`, opened with `box`.
    ///
    /// - Throws: when a sealed secret does not open: the master key is not the one that sealed them.
    public static func load(store: ControlPlaneStore, box: SecretBox) async throws -> AccessKeyRing {
        let stored = try await store.read { db in try db.accessKeys() }
        var keys: [AccessKey] = []
        for row in stored {
            guard let scope = AccessKeyScope(rawValue: row.scope) else { continue }
            let secret: String
            do {
                secret = try box.open(row.sealedSecret, context: row.id)
            } catch {
                throw MasterKeyMismatch()
            }
            keys.append(
                AccessKey(
                    id: row.id, name: row.name, scope: scope, secret: secret, createdAt: row.createdAt,
                    expiresAt: row.expiresAt,
                    instance: row.instanceCluster.flatMap { cluster in
                        row.instanceID.map { InstanceBinding(cluster: cluster, instanceID: $0) }
                    }))
        }
        return AccessKeyRing(box: box, keys: keys)
    }

    func key(_ id: String) -> AccessKey? { keys.withLock { $0[id] } }

    var all: [AccessKey] { keys.withLock { Array($0.values) }.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) } }

    func insert(_ key: AccessKey) { keys.withLock { $0[key.id] = key } }

    func remove(_ ids: some Sequence<String>) { keys.withLock { for id in ids { $0[id] = nil } } }

    /// Ends `ids` at `date` at the latest.
    func expire(_ ids: some Sequence<String>, at date: Date) {
        keys.withLock { keys in
            for id in ids {
                guard var key = keys[id] else { continue }
                key.expiresAt = min(key.expiresAt ?? date, date)
                keys[id] = key
            }
        }
    }

    /// The row to store for `key`, its secret sealed.
    func stored(_ key: AccessKey) throws -> StoredAccessKey {
        StoredAccessKey(
            id: key.id, name: key.name, scope: key.scope.rawValue,
            sealedSecret: try box.seal(key.secret, context: key.id), createdAt: key.createdAt,
            expiresAt: key.expiresAt, instanceCluster: key.instance?.cluster, instanceID: key.instance?.instanceID)
    }

    /// The store's secrets were sealed under another master key.
    public struct MasterKeyMismatch: Error, CustomStringConvertible {
        public var description: String {
            "the access keys in the store do not open with this master key (was master.key replaced, or --master-key-file changed?)"
        }
    }
}

/// New key ids and secrets, from the system CSPRNG.
enum AccessKeyMaterial {
    /// `AKFL` and 16 characters of RFC 4648's base32 alphabet: 20 characters, as AWS's own ids.
    static func newID() -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        var generator = SystemRandomNumberGenerator()
        return "AKFL" + String((0..<16).map { _ in alphabet[Int.random(in: 0..<32, using: &generator)] })
    }

    /// 30 random bytes in base64: 40 characters, as AWS's secrets.
    static func newSecret() -> String {
        var generator = SystemRandomNumberGenerator()
        return Data((0..<30).map { _ in UInt8.random(in: .min ... .max, using: &generator) }).base64EncodedString()
    }
}
