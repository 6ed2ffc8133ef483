import GRDB
import Synchronization

/// Watches commits for changed `containerInstance` rows and signals their new `desiredIndex` to the notifier.
final class DesiredStateObserver: TransactionObserver {
    private let notifier: DesiredStateNotifier
    private let changedRows = Mutex<Set<Int64>>([])

    init(notifier: DesiredStateNotifier) {
        self.notifier = notifier
    }

    func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool {
        // Only the triggers' `SET desiredIndex = ...`: contact stamps and document saves wake nobody.
        guard case .update(let table, let columns) = eventKind, table.lowercased() == "containerinstance" else {
            return false
        }
        return columns.contains { $0.lowercased() == "desiredindex" }
    }

    func databaseDidChange(with event: DatabaseEvent) {
        let rowID = event.rowID
        changedRows.withLock { _ = $0.insert(rowID) }
    }

    func databaseDidCommit(_ db: Database) {
        let rows = changedRows.withLock { rows in
            defer { rows = [] }
            return rows
        }
        guard !rows.isEmpty else { return }
        // A failed read here only delays the wake-up to the poll's timeout; the index in the store stays right.
        let changed =
            (try? Row.fetchAll(
                db,
                sql:
                    "SELECT cluster, id, desiredIndex FROM containerInstance WHERE rowid IN (\(rows.map { _ in "?" }.joined(separator: ",")))",
                arguments: StatementArguments(Array(rows)))) ?? []
        for row in changed {
            notifier.signal(.init(cluster: row["cluster"], instanceID: row["id"]), index: row["desiredIndex"])
        }
    }

    func databaseDidRollback(_ db: Database) {
        changedRows.withLock { $0 = [] }
    }
}
