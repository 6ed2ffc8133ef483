public import Foundation
import GRDB
public import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A failure of the store itself (not of a request), by kind: what /readyz reports and ServerException says.
public enum StoreFailure: String, Sendable, Hashable {
    /// SQLITE_FULL: the data directory's filesystem is out of space.
    case full
    /// SQLITE_CORRUPT or SQLITE_NOTADB: the database file is damaged.
    case corrupt
    /// SQLITE_READONLY: the file or its filesystem cannot be written.
    case readOnly
    /// SQLITE_IOERR or SQLITE_CANTOPEN: the filesystem failed a read or write.
    case ioError

    /// The kind of `error`, when it is the store's own failure.
    public init?(_ error: any Error) {
        guard let error = error as? DatabaseError else { return nil }
        switch error.resultCode {
        case .SQLITE_FULL: self = .full
        case .SQLITE_CORRUPT, .SQLITE_NOTADB: self = .corrupt
        case .SQLITE_READONLY: self = .readOnly
        case .SQLITE_IOERR, .SQLITE_CANTOPEN: self = .ioError
        default: return nil
        }
    }

    /// One line for an operator and for ECS's `ServerException` message.
    public var message: String {
        switch self {
        case .full:
            "The control plane's store is out of space (SQLITE_FULL); nothing was written. Free space in its data directory."
        case .corrupt: "The control plane's store is corrupt (SQLITE_CORRUPT); restore the database from a backup."
        case .readOnly:
            "The control plane's store cannot be written (SQLITE_READONLY); check the data directory's mount and permissions."
        case .ioError:
            "The control plane's store hit an I/O error (SQLITE_IOERR); check the data directory's filesystem."
        }
    }
}

/// Whether the store can take writes, checked for real and cached briefly, and a log of store failures that says
/// each kind once a minute instead of once per failing call.
public final class StoreHealth: Sendable {
    /// The filesystem of the data directory (nil in memory): less free space than `minimumFreeBytes` is not ready.
    let directory: URL?
    let minimumFreeBytes: Int64
    /// How long one verdict is reused: a burst of probes costs one write.
    let cacheDuration: Duration
    /// How often one kind of store failure is logged at most; the skipped ones are counted into the next line.
    static let logInterval = Duration.seconds(60)

    private struct State {
        var verdict: (checkedAt: ContinuousClock.Instant, problem: String?)?
        /// Corruption seen by any call: it does not heal, so readiness keeps reporting it until a restart.
        var corruptionSeen: String?
        var logged: [StoreFailure: (at: ContinuousClock.Instant, suppressed: Int)] = [:]
    }
    private let state = Mutex(State())

    public init(directory: URL?, minimumFreeBytes: Int64 = 1 << 20, cacheDuration: Duration = .seconds(2)) {
        self.directory = directory
        self.minimumFreeBytes = minimumFreeBytes
        self.cacheDuration = cacheDuration
    }

    /// nil when the store takes writes; else why not, in one line.
    public func problem(of store: ControlPlaneStore) async -> String? {
        let now = ContinuousClock.now
        if let cached = state.withLock({ state in
            state.verdict.flatMap { now - $0.checkedAt < cacheDuration ? $0 : nil }
        }) {
            return cached.problem
        }
        let problem = await probe(store)
        state.withLock { $0.verdict = (now, problem) }
        return problem
    }

    private func probe(_ store: ControlPlaneStore) async -> String? {
        if let corruption = state.withLock({ $0.corruptionSeen }) { return corruption }
        if let directory, let free = Self.freeBytes(directory), free < minimumFreeBytes {
            return
                "The control plane's data directory has \(free) bytes free, below \(minimumFreeBytes): writes would fail (SQLITE_FULL)."
        }
        do {
            let now = Date().timeIntervalSince1970
            try await store.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO readinessProbe (id, checkedAt) VALUES (1, ?)
                        ON CONFLICT(id) DO UPDATE SET checkedAt = excluded.checkedAt
                        """, arguments: [now])
            }
            return nil
        } catch {
            let failure = record(error)
            return failure?.message ?? "The control plane's store refused a write: \(error)"
        }
    }

    /// Notes a failure of any call: corruption makes the store not ready from now on. Answers its kind.
    @discardableResult
    public func record(_ error: any Error) -> StoreFailure? {
        guard let failure = StoreFailure(error) else { return nil }
        if failure == .corrupt {
            state.withLock {
                $0.corruptionSeen = $0.corruptionSeen ?? failure.message
                $0.verdict = nil
            }
        }
        return failure
    }

    /// Logs a store failure at error level the first time and then at most once per `logInterval` per kind, with
    /// the count of those skipped; other errors are always logged. `message` and `metadata` as for `Logger.error`.
    public func logFailure(_ error: any Error, _ message: Logger.Message, metadata: Logger.Metadata, logger: Logger) {
        guard let failure = record(error) else {
            logger.error(message, metadata: metadata.merging(["error": "\(error)"]) { $1 })
            return
        }
        let now = ContinuousClock.now
        let suppressed: Int? = state.withLock { state in
            if let last = state.logged[failure], now - last.at < Self.logInterval {
                state.logged[failure] = (last.at, last.suppressed + 1)
                return nil
            }
            let skipped = state.logged[failure]?.suppressed ?? 0
            state.logged[failure] = (now, 0)
            return skipped
        }
        guard let suppressed else { return }
        logger.error(
            message,
            metadata: metadata.merging([
                "error": "\(error)", "store.failure": "\(failure.rawValue)", "store.suppressed": "\(suppressed)",
            ]) { $1 })
    }

    /// Free bytes for an unprivileged writer on the filesystem of `directory` (statvfs(3)).
    static func freeBytes(_ directory: URL) -> Int64? {
        var info = statvfs()
        guard statvfs(directory.path, &info) == 0 else { return nil }
        return Int64(info.f_bavail) * Int64(info.f_frsize)
    }
}
