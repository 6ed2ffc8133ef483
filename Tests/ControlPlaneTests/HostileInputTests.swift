import ControlPlane
import FlotillaTestKit
import Foundation
import TaskDefinitions
import Testing

/// What an attacker's input does: nested expressions and JSON are refused with a clear error and the server goes on.
@Suite("ECS API: hostile nesting and sizes are refused, the server keeps answering", .timeLimit(.minutes(10)))
struct HostileInputTests {
    /// `attribute:a exists` inside `depth` parentheses.
    static func nested(_ depth: Int) -> String {
        String(repeating: "(", count: depth) + "attribute:a exists" + String(repeating: ")", count: depth)
    }

    @Test("ListContainerInstances refuses a filter of 3,000 nested parentheses, naming filter, and keeps serving")
    func deepFilter() async throws {
        try await withControlPlane { client in
            // Given
            try await client.createCluster()
            // When: the attacker's 6 KB request, and one just past the depth limit but short
            let deep = try await client.ecs("ListContainerInstances", #"{"filter": "\#(Self.nested(3_000))"}"#)
            let justTooDeep = try await client.ecs("ListContainerInstances", #"{"filter": "\#(Self.nested(33))"}"#)
            // Then
            #expect(deep.errorType == "InvalidParameterException")
            #expect(deep.message.hasPrefix("filter:"))
            #expect(deep.message.contains("at most 2000"))
            #expect(deep.message.count < 400)
            #expect(justTooDeep.errorType == "InvalidParameterException")
            #expect(justTooDeep.message.hasPrefix("filter:"))
            #expect(justTooDeep.message.contains("deeper than 32"))
            // and the deepest allowed one works, as does the next request
            #expect(try await client.ecs("ListContainerInstances", #"{"filter": "\#(Self.nested(32))"}"#).status == 200)
            try await client.ok("CreateCluster", #"{"clusterName": "still-here"}"#)
        }
    }

    @Test(
        "CreateService and RunTask refuse a deep memberOf naming placementConstraints[i].expression",
        arguments: ["CreateService", "RunTask"])
    func deepMemberOf(_ operation: String) async throws {
        try await withControlPlane { client in
            try await client.createCluster()
            _ = try await client.registerWeb()
            let constraints =
                #""placementConstraints": [{"type": "distinctInstance"}, {"type": "memberOf", "expression": "\#(Self.nested(2_950))"}]"#
            let body =
                operation == "CreateService"
                ? #"{"serviceName": "web", "taskDefinition": "web", \#(constraints)}"#
                : #"{"taskDefinition": "web", \#(constraints)}"#
            // When
            let reply = try await client.ecs(operation, body)
            let notDeep = try await client.ecs(
                operation, body.replacingOccurrences(of: Self.nested(2_950), with: Self.nested(40)))
            // Then
            #expect(reply.errorType == "InvalidParameterException")
            #expect(reply.message.hasPrefix("placementConstraints[1].expression:"))
            #expect(notDeep.message.contains("deeper than 32"))
            #expect(try await client.ok("ListServices")["serviceArns"]?.arrayValue?.isEmpty == true)
            try await client.ok("DescribeClusters")
        }
    }

    @Test("A request body of 100,000 nested arrays gets SerializationException and the server keeps serving")
    func deepJSONBody() async throws {
        try await withControlPlane { client in
            try await client.createCluster()
            let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
            // When: nested at the top, in a field, and in a task definition's unknown field
            let top = try await client.ecs("ListClusters", deep)
            let field = try await client.ecs("ListContainerInstances", #"{"filter": \#(deep)}"#)
            let unknown = String(repeating: "[", count: 300) + String(repeating: "]", count: 300)
            let definition = try await client.ecs(
                "RegisterTaskDefinition",
                #"{"family": "deep", "containerDefinitions": [{"name": "c", "image": "busybox", "memory": 32, "x": \#(unknown)}]}"#
            )
            // Then
            #expect(top.errorType == "SerializationException")
            #expect(field.errorType == "SerializationException")
            #expect(definition.status == 400)
            #expect(
                definition.message.contains("nested deeper than \(JSONValue.maxDepth)")
                    || definition.message.contains("not valid JSON"))
            try await client.ok("CreateCluster", #"{"clusterName": "still-here"}"#)
        }
    }

    @Test("JSONValue refuses nesting past maxDepth with an error, not a crash")
    func jsonValueDepth() throws {
        let ok = String(repeating: "[", count: JSONValue.maxDepth) + String(repeating: "]", count: JSONValue.maxDepth)
        let deep =
            String(repeating: "[", count: JSONValue.maxDepth + 2)
            + String(repeating: "]", count: JSONValue.maxDepth + 2)
        #expect((try? JSONDecoder().decode(JSONValue.self, from: Data(ok.utf8))) != nil)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(JSONValue.self, from: Data(deep.utf8)) }
    }
}
