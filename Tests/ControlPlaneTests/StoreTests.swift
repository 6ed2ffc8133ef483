import ControlPlane
import FlotillaTestKit
import Foundation
import GRDB
import TaskDefinitions
import Testing

@Suite("Control-plane store", .timeLimit(.minutes(10)))
struct StoreTests {
    @Test("The migrator creates every table on an in-memory database")
    func migrations() async throws {
        let store = try ControlPlaneStore.inMemory()
        let tables = try await store.read { db in
            try String.fetchAll(
                db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'grdb_%' ORDER BY name")
        }
        #expect(
            tables == [
                "accessKey", "accountSetting", "attribute", "cluster", "containerInstance", "joinToken", "joinTokenV2",
                "loadBalancer",
                "readinessProbe", "secret", "secretVersion", "service", "ssmParameter", "tag", "targetHealth", "task",
                "taskDefinition",
            ])
    }

    @Test("(family, revision) is unique: a racing duplicate insert fails instead of overwriting")
    func uniqueRevision() async throws {
        let store = try ControlPlaneStore.inMemory()
        try await store.write { db in
            try db.execute(
                sql:
                    "INSERT INTO taskDefinition (family, revision, arn, status, document) VALUES ('web', 1, 'a1', 'ACTIVE', '{}')"
            )
        }
        await #expect(throws: DatabaseError.self) {
            try await store.write { db in
                try db.execute(
                    sql:
                        "INSERT INTO taskDefinition (family, revision, arn, status, document) VALUES ('web', 1, 'a2', 'ACTIVE', '{}')"
                )
            }
        }
    }

    @Test("A failing API write leaves nothing behind")
    func rollback() async throws {
        let store = try ControlPlaneStore.inMemory()
        try await withControlPlane(store: store) { client in
            try await client.createCluster()
            let tags = (0..<40).map { #"{"key": "k\#($0)", "value": "v"}"# }.joined(separator: ",")
            _ = try await client.ok(
                "TagResource",
                #"{"resourceArn": "arn:aws:ecs:us-east-1:000000000000:cluster/default", "tags": [\#(tags)]}"#)
            // When: a service whose tags push nothing over, but a second batch over the limit
            let more = (0..<20).map { #"{"key": "m\#($0)", "value": "v"}"# }.joined(separator: ",")
            _ = try await client.ecs(
                "TagResource",
                #"{"resourceArn": "arn:aws:ecs:us-east-1:000000000000:cluster/default", "tags": [\#(more)]}"#)
        }
        // Then
        let count = try await store.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM tag") }
        #expect(count == 40)
    }

    @Test("A file store is WAL with synchronous FULL, and keeps what was written across reopening")
    func fileStore() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "flotilla-store-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        do {
            let store = try ControlPlaneStore.open(directory: directory)
            try await withControlPlane(store: store) { client in
                try await client.createCluster("kept")
                _ = try await client.registerWeb()
            }
            let (journal, synchronous) = try await store.read { db in
                (try String.fetchOne(db, sql: "PRAGMA journal_mode"), try Int.fetchOne(db, sql: "PRAGMA synchronous"))
            }
            #expect(journal == "wal")
            #expect(synchronous == 2)
        }
        #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("flotilla.sqlite").path))
        let reopened = try ControlPlaneStore.open(directory: directory)
        try await withControlPlane(store: reopened) { client in
            let clusters = try await client.ok("DescribeClusters", #"{"clusters": ["kept"]}"#)
            #expect(clusters["clusters"]?[0]?["status"]?.stringValue == "ACTIVE")
            let definition = try await client.ok("DescribeTaskDefinition", #"{"taskDefinition": "web"}"#)
            #expect(definition["taskDefinition"]?["revision"]?.intValue == 1)
        }
    }
}
