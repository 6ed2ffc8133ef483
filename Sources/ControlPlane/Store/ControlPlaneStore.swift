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

    /// Opens (creating if needed) `<directory>/flotilla.sqlite` and migrates it to the current schema.
    public static func open(directory: URL) throws -> ControlPlaneStore {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        configuration.busyMode = .timeout(5)
        let pool = try DatabasePool(path: directory.appendingPathComponent("flotilla.sqlite").path, configuration: configuration)
        return try ControlPlaneStore(writer: pool)
    }

    /// A store in memory (tests): the same migrations, no file.
    public static func inMemory() throws -> ControlPlaneStore {
        try ControlPlaneStore(writer: DatabaseQueue())
    }

    /// Wraps `writer` and runs the migrations on it.
    public init(writer: any DatabaseWriter) throws {
        self.writer = writer
        try Self.migrator.migrate(writer)
        writer.add(transactionObserver: DesiredStateObserver(notifier: desiredStateChanges), extent: .databaseLifetime)
        // What the scheduler reads; contact stamps, desired-state indexes and metrics change none of it.
        let scheduling = TableCommitObserver(watching: [
            "task": nil, "service": nil, "attribute": nil, "containerinstance": ["status", "document"], "targethealth": nil,
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
}
