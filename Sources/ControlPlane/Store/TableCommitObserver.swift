import GRDB
import Synchronization

/// Calls `onCommit` once per committed transaction that wrote any of the watched tables: the news carries no data,
/// so a burst of writes collapses into one call. Level-triggered readers (the reconciler, the embedded balancers)
/// re-read the store when called.
///
/// `onCommit` runs on GRDB's writer queue: it must only signal (yield to a stream), never block or write.
final class TableCommitObserver: TransactionObserver {
    /// Lowercased table name → the lowercased columns whose update counts (nil: any column). Inserts and deletes of
    /// a watched table always count.
    private let watched: [String: Set<String>?]
    private let onCommit: @Sendable () -> Void
    private let changed = Mutex(false)

    init(watching watched: [String: Set<String>?], onCommit: @escaping @Sendable () -> Void) {
        self.watched = watched
        self.onCommit = onCommit
    }

    func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool {
        switch eventKind {
        case .insert(let table), .delete(let table):
            return watched.keys.contains(table.lowercased())
        case .update(let table, let columns):
            guard let counted = watched[table.lowercased()] else { return false }
            guard let counted else { return true }
            return columns.contains { counted.contains($0.lowercased()) }
        }
    }

    func databaseDidChange(with event: DatabaseEvent) {
        changed.withLock { $0 = true }
    }

    func databaseDidCommit(_ db: Database) {
        let wasChanged = changed.withLock { changed in
            defer { changed = false }
            return changed
        }
        if wasChanged { onCommit() }
    }

    func databaseDidRollback(_ db: Database) {
        changed.withLock { $0 = false }
    }
}
