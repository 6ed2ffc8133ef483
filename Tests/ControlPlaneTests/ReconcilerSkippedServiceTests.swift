import ControlPlane
import FlotillaTestKit
import Foundation
import GRDB
import TaskDefinitions
import Testing

@Suite(
    "Reconciler: a service whose stored data cannot be used is skipped, the others reconcile", .timeLimit(.minutes(10)))
struct ReconcilerSkippedServiceTests {
    @Test(
        "A stored memberOf of 2,950 nested parentheses: that service is skipped with an event, the other comes up",
        arguments: ["deep", "unparseable", "undecodable"])
    func skipped(_ damage: String) async throws {
        try await withReconciler { cp in
            // Given: two services in one cluster, then one damaged in the store by hand
            _ = try await cp.registerHosts(2)
            try await cp.client.ok("RegisterTaskDefinition", webDefinition())
            try await cp.client.ok(
                "CreateService",
                #"{"serviceName": "db", "taskDefinition": "web", "desiredCount": 1, "placementConstraints": [{"type": "memberOf", "expression": "attribute:a exists"}]}"#
            )
            try await cp.client.ok(
                "CreateService", #"{"serviceName": "web", "taskDefinition": "web", "desiredCount": 2}"#)
            let expression = damage == "deep" ? HostileInputTests.nested(2_950) : "attribute:zone in [a, b"
            try await cp.store.write { db in
                if damage == "undecodable" {
                    try db.execute(
                        sql:
                            "UPDATE service SET document = json_set(document, '$.desiredCount', 'many') WHERE name = 'db'"
                    )
                } else {
                    try db.execute(
                        sql:
                            "UPDATE service SET document = json_set(document, '$.placementConstraints[0].expression', ?) WHERE name = 'db'",
                        arguments: [expression])
                }
            }
            // When: passes run
            let settled = try await cp.converge { try await cp.isSteady(running: 2) }
            // Then: web reconciled; db placed nothing and, when readable, says why
            #expect(settled)
            let tasks = try await cp.tasks()
            #expect(tasks.allSatisfy { $0["group"]?.stringValue == "service:web" })
            if damage != "undecodable" {
                let events = try await cp.events("db")
                #expect(
                    events.first?.hasPrefix(
                        "(service db) was unable to place or stop tasks because its stored configuration cannot be used: placementConstraints[0]"
                    ) == true)
                #expect(events.first?.contains(damage == "deep" ? "at most 2000" : "expected ',' or ']'") == true)
                // and the event is not repeated pass after pass
                for _ in 0..<3 { try await cp.round() }
                #expect(
                    try await cp.events("db").filter { $0.contains("was unable to place or stop tasks") }.count == 1)
            }
        }
    }
}
