import ControlPlane
import FlotillaTestKit
import Foundation
import TaskDefinitions
import Testing

@Suite("ECS API: ListContainerInstances filter in the cluster query language", .timeLimit(.minutes(10)))
struct ContainerInstanceFilterTests {
    @Test(
        "The filter selects instances by custom and built-in attributes, combined with status",
        arguments: [
            ("attribute:stack == prod", [0, 1]),
            ("attribute:stack == prod and attribute:zone == b", [1]),
            ("attribute:zone in [a, c]", [0, 2]),
            ("attribute:stack exists", [0, 1]),
            ("not(attribute:stack exists)", [2]),
            ("attribute:ecs.os-type == linux", [0, 1, 2]),
            ("attribute:zone =~ [bc]", [1, 2]),
            ("runningTasksCount == 0", [0, 1, 2]),
        ])
    func filter(_ expression: String, _ expected: [Int]) async throws {
        try await withControlPlane { client in
            // Given three instances with custom attributes
            try await client.createCluster()
            var arns: [String] = []
            for (stack, zone) in [("prod", "a"), ("prod", "b"), (nil, "c")] as [(String?, String)] {
                let arn = try await client.registerInstance()
                arns.append(arn)
                var attributes = [#"{"name": "zone", "value": "\#(zone)", "targetId": "\#(arn)"}"#]
                if let stack { attributes.append(#"{"name": "stack", "value": "\#(stack)", "targetId": "\#(arn)"}"#) }
                try await client.ok("PutAttributes", #"{"attributes": [\#(attributes.joined(separator: ","))]}"#)
            }
            // When listed with the filter
            let body = #"{"filter": "\#(expression)"}"#
            let reply = try await client.ok("ListContainerInstances", body)
            // Then exactly the matching ones come back
            let listed = Set((reply["containerInstanceArns"]?.arrayValue ?? []).compactMap(\.stringValue))
            #expect(listed == Set(expected.map { arns[$0] }))
        }
    }

    @Test("A filter only sees instances of the requested status")
    func filterWithStatus() async throws {
        try await withControlPlane { client in
            try await client.createCluster()
            let first = try await client.registerInstance()
            let second = try await client.registerInstance()
            try await client.ok(
                "UpdateContainerInstancesState", #"{"containerInstances": ["\#(second)"], "status": "DRAINING"}"#)
            // When
            let active = try await client.ok(
                "ListContainerInstances", #"{"filter": "attribute:ecs.os-type == linux", "status": "ACTIVE"}"#)
            let draining = try await client.ok(
                "ListContainerInstances", #"{"filter": "attribute:ecs.os-type == linux", "status": "DRAINING"}"#)
            // Then
            #expect(active["containerInstanceArns"]?.arrayValue?.compactMap(\.stringValue) == [first])
            #expect(draining["containerInstanceArns"]?.arrayValue?.compactMap(\.stringValue) == [second])
        }
    }

    @Test(
        "A malformed filter is InvalidParameterException naming the problem",
        arguments: ["attribute:zone ==", "attribute:zone in [a, b", "(attribute:zone == a", "zone === a"])
    func malformed(_ expression: String) async throws {
        try await withControlPlane { client in
            try await client.createCluster()
            _ = try await client.registerInstance()
            let reply = try await client.ecs("ListContainerInstances", #"{"filter": "\#(expression)"}"#)
            #expect(reply.status == 400)
            #expect(reply.errorType == "InvalidParameterException")
            #expect(reply.message.hasPrefix("filter: "))
        }
    }
}
