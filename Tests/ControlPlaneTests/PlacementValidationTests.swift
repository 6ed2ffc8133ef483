import ControlPlane
import FlotillaTestKit
import Foundation
import TaskDefinitions
import Testing

@Suite("ECS API: placement constraints and strategies are checked when given", .timeLimit(.minutes(10)))
struct PlacementValidationTests {
    /// Bad placement JSON and the words the InvalidParameterException must contain.
    static let badPlacements: [(placement: String, expected: String)] = [
        (
            #""placementConstraints": [{"type": "memberOf", "expression": "attribute:ecs.instance-type =="}]"#,
            "attribute:ecs.instance-type =="
        ),
        (
            #""placementConstraints": [{"type": "memberOf", "expression": "attribute:zone in [a, b"}]"#,
            "attribute:zone in [a, b"
        ),
        (#""placementConstraints": [{"type": "memberOf"}]"#, "Invalid placement constraint"),
        (#""placementConstraints": [{"type": "sameInstance"}]"#, "Invalid placement constraint"),
        (#""placementConstraints": [{"expression": "attribute:a exists"}]"#, "placementConstraints[0].type"),
        (#""placementConstraints": ["memberOf"]"#, "placementConstraints[0]"),
        (#""placementConstraints": [{"type": "memberOf", "expression": 7}]"#, "placementConstraints[0].expression"),
        (#""placementStrategy": [{"type": "binpack", "field": "disk"}]"#, "Invalid placement strategy"),
        (#""placementStrategy": [{"type": "roundrobin"}]"#, "Invalid placement strategy"),
        (
            #""placementStrategy": [{"type": "spread"}, {"type": "spread"}, {"type": "spread"}, {"type": "spread"}, {"type": "spread"}, {"type": "random"}]"#,
            "At most 5 placement strategies"
        ),
        (
            #""placementConstraints": [\#(Array(repeating: #"{"type": "distinctInstance"}"#, count: 11).joined(separator: ", "))]"#,
            "At most 10 placement constraints"
        ),
    ]

    @Test(
        "CreateService refuses a bad placement with InvalidParameterException and creates nothing",
        arguments: badPlacements)
    func createService(_ placement: String, _ expected: String) async throws {
        try await withControlPlane { client in
            // Given a cluster and a task definition
            try await client.createCluster()
            _ = try await client.registerWeb()
            // When a service is created with a bad placement
            let reply = try await client.ecs(
                "CreateService", #"{"serviceName": "web", "taskDefinition": "web", \#(placement)}"#)
            // Then it is refused, naming the problem, and no service exists
            #expect(reply.status == 400)
            #expect(reply.errorType == "InvalidParameterException")
            #expect(reply.message.contains(expected))
            let list = try await client.ok("ListServices")
            #expect(list["serviceArns"]?.arrayValue?.isEmpty == true)
        }
    }

    @Test("UpdateService refuses a bad placement and keeps the service's placement", arguments: badPlacements.prefix(3))
    func updateService(_ placement: String, _ expected: String) async throws {
        try await withControlPlane { client in
            try await client.createCluster()
            _ = try await client.registerWeb()
            try await client.ok(
                "CreateService",
                #"{"serviceName": "web", "taskDefinition": "web", "placementConstraints": [{"type": "distinctInstance"}]}"#
            )
            // When
            let reply = try await client.ecs("UpdateService", #"{"service": "web", \#(placement)}"#)
            // Then
            #expect(reply.errorType == "InvalidParameterException")
            #expect(reply.message.contains(expected))
            let described = try await client.ok("DescribeServices", #"{"services": ["web"]}"#)
            #expect(described["services"]?[0]?["placementConstraints"]?[0]?["type"]?.stringValue == "distinctInstance")
        }
    }

    @Test("RunTask refuses a bad placement before looking for instances", arguments: badPlacements.prefix(3))
    func runTask(_ placement: String, _ expected: String) async throws {
        try await withControlPlane { client in
            try await client.createCluster()
            _ = try await client.registerWeb()
            let reply = try await client.ecs("RunTask", #"{"taskDefinition": "web", \#(placement)}"#)
            #expect(reply.errorType == "InvalidParameterException")
            #expect(reply.message.contains(expected))
        }
    }

    @Test("Well-formed constraints and strategies are accepted and stored as given")
    func accepted() async throws {
        try await withControlPlane { client in
            try await client.createCluster()
            _ = try await client.registerWeb()
            // When
            let reply = try await client.ok(
                "CreateService",
                #"""
                {"serviceName": "web", "taskDefinition": "web",
                 "placementConstraints": [{"type": "memberOf", "expression": "attribute:ecs.instance-type =~ t2.* and not(attribute:zone == c)"}, {"type": "distinctInstance"}],
                 "placementStrategy": [{"type": "spread", "field": "attribute:ecs.availability-zone"}, {"type": "binpack", "field": "memory"}]}
                """#)
            // Then
            #expect(reply["service"]?["placementConstraints"]?.arrayValue?.count == 2)
            #expect(reply["service"]?["placementStrategy"]?[1]?["field"]?.stringValue == "memory")
        }
    }
}
