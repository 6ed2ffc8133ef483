public import Foundation
public import GRDB

/// The control plane's state: ONE SQLite file, every API write one transaction.
///
/// Durability: the file runs in WAL mode with `synchronous = FULL`. A commit returns only after its WAL frames are
/// fsync'ed, so an acknowledged write survives kill -9 *and* a power cut or kernel crash. `NORMAL` + WAL would be
/// enough for kill -9 alone (the frames sit in the page cache, which outlives the process), but a control plane
/// that acknowledged a service and then forgot it after a host reboot would be lying; one fsync per API write is
/// cheap next to an HTTP round trip at control-plane write rates.
public final class ControlPlaneStore: Sendable {
    /// The database: a `DatabasePool` on a file, a `DatabaseQueue` in memory for tests.
    public let writer: any DatabaseWriter
    /// Wakes agents' blocking polls when a commit changes their instance's desired state.
    public let desiredStateChanges = DesiredStateNotifier()
    /// Wakes the reconciler when a commit changes what the scheduler reads (tasks, services, instances, attributes).
    public let schedulingStateChanges = StateChangeSignal()
    /// Whether the store takes writes (`/readyz`), and the rate-limited log of its failures.
    public let health: StoreHealth

    /// Opens (creating if needed) `<directory>/flotilla.sqlite`, checks it (`PRAGMA quick_check`: a file damaged
    /// in the middle opens fine and fails later, call after call) and migrates it to the current schema.
    ///
    /// - Throws: `StoreOpenError`, one line naming the file and what is wrong with it.
    public static func open(directory: URL, health: StoreHealth? = nil) throws(StoreOpenError) -> ControlPlaneStore {
        let path = directory.appendingPathComponent("flotilla.sqlite").path
        do {
            // The directory is the control plane's alone (0700), and so are the files SQLite makes in it (0600):
            // the store holds sealed secrets and the directory the master key that opens them.
            try FileManager.default.createDirectory(
                at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: directory.path)
            for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: path + suffix) {
                try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path + suffix)
            }
        } catch {
            throw StoreOpenError(
                path: directory.path,
                problem: "cannot create the data directory: \((error as NSError).localizedDescription)")
        }
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            // Deleted rows are overwritten with zeros, not left in free pages: the v2 plaintext join tokens that "v11"
            // deletes, and every deleted token hash or sealed key after them.
            try db.execute(sql: "PRAGMA secure_delete = ON")
        }
        configuration.busyMode = .timeout(5)
        do {
            let pool = try DatabasePool(path: path, configuration: configuration)
            let problems = try pool.read { db in try String.fetchAll(db, sql: "PRAGMA quick_check") }
            guard problems == ["ok"] else {
                throw StoreOpenError(
                    path: path,
                    problem:
                        "the database is corrupt (PRAGMA quick_check: \(problems.prefix(3).joined(separator: "; "))); restore it from a backup or move it away"
                )
            }
            return try ControlPlaneStore(writer: pool, health: health ?? StoreHealth(directory: directory))
        } catch let error as StoreOpenError {
            throw error
        } catch {
            let failure = StoreFailure(error)
            let what =
                switch failure {
                case .corrupt:
                    "the database is corrupt or not a SQLite database; restore it from a backup or move it away"
                case .full: "its filesystem is out of space"
                case .readOnly: "it cannot be written"
                case .ioError, nil: "it cannot be opened"
                }
            let detail =
                (error as? DatabaseError).map { "SQLite error \($0.resultCode.rawValue): \($0.message ?? "")" }
                ?? "\(error)"
            throw StoreOpenError(path: path, problem: "\(what) (\(detail))")
        }
    }

    /// A store in memory (tests): the same migrations, no file.
    public static func inMemory() throws -> ControlPlaneStore {
        try ControlPlaneStore(writer: DatabaseQueue())
    }

    /// Wraps `writer` and runs the migrations on it.
    public init(writer: any DatabaseWriter, health: StoreHealth = StoreHealth(directory: nil)) throws {
        self.writer = writer
        self.health = health
        try Self.migrator.migrate(writer)
        writer.add(transactionObserver: DesiredStateObserver(notifier: desiredStateChanges), extent: .databaseLifetime)
        // What the scheduler reads; contact stamps, desired-state indexes and metrics change none of it.
        let scheduling = TableCommitObserver(watching: [
            "task": nil, "service": nil, "attribute": nil, "containerinstance": ["status", "document"],
            "targethealth": nil,
        ]) { [schedulingStateChanges] in schedulingStateChanges.signal() }
        writer.add(transactionObserver: scheduling, extent: .databaseLifetime)
    }

    /// Runs `body` in one write transaction: all of it commits, or none of it when it throws.
    public func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await writer.write(body)
    }

    /// Runs `body` on a consistent snapshot.
    public func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await writer.read(body)
    }

    /// Answers when the store answers a read (`/healthz`).
    public func ping() async throws {
        _ = try await read { db in try Int.fetchOne(db, sql: "SELECT 1") }
    }

    /// After a graceful shutdown: moves the write-ahead log into the database file and closes every connection, so
    /// the file alone holds the store (a backup copy of it is complete). Unneeded for durability: after a crash
    /// SQLite replays the log on the next open.
    public func close() throws {
        _ = try writer.writeWithoutTransaction { db in try db.checkpoint(.truncate) }
        try writer.close()
    }
}

/// The store could not be opened: the file and the problem, as one line for stderr.
public struct StoreOpenError: Error, CustomStringConvertible {
    public var path: String
    public var problem: String
    public var description: String { "\(path): \(problem)" }
}
