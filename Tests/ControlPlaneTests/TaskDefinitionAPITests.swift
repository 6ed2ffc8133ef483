import ControlPlane
import FlotillaTestKit
import Foundation
import TaskDefinitions
import Testing

@Suite("ECS API: task definitions", .timeLimit(.minutes(10)))
struct TaskDefinitionAPITests {
    @Test("RegisterTaskDefinition makes revision N+1 per family with an ECS ARN")
    func revisions() async throws {
        try await withControlPlane { client in
            // When
            let first = try await client.registerWeb()
            let second = try await client.registerWeb()
            let other = try await client.registerWeb(family: "api")
            // Then
            #expect(first["taskDefinition"]?["revision"]?.intValue == 1)
            #expect(second["taskDefinition"]?["revision"]?.intValue == 2)
            #expect(other["taskDefinition"]?["revision"]?.intValue == 1)
            #expect(
                second["taskDefinition"]?["taskDefinitionArn"]?.stringValue
                    == "arn:aws:ecs:us-east-1:000000000000:task-definition/web:2")
            #expect(first["taskDefinition"]?["status"]?.stringValue == "ACTIVE")
            #expect(first["taskDefinition"]?["registeredAt"]?.intValue == 1_700_000_000)
            #expect(first["tags"]?[0]?["key"]?.stringValue == "app")
            #expect(first["taskDefinition"]?["tags"] == nil)
        }
    }

    @Test("Concurrent registrations of one family get distinct revisions")
    func concurrentRevisions() async throws {
        try await withControlPlane { client in
            let revisions = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<20 {
                    group.addTask { try await client.registerWeb()["taskDefinition"]?["revision"]?.intValue ?? -1 }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(revisions.sorted() == Array(1...20))
        }
    }

    @Test(
        "A bad task definition is a ClientException naming the JSON path; nothing is registered",
        arguments: [
            (
                #"{"family": "web", "containerDefinitions": [{"name": "a", "image": "x", "memory": 64, "portMappings": [{"containerPort": 0}]}]}"#,
                "containerDefinitions[0].portMappings[0].containerPort"
            ),
            (
                #"{"family": "web", "containerDefinitions": [{"name": "a", "image": "x", "memory": "lots"}]}"#,
                "containerDefinitions[0].memory"
            ),
            (
                #"{"family": "bad family!", "containerDefinitions": [{"name": "a", "image": "x", "memory": 64}]}"#,
                "family"
            ),
            (#"{"family": "web"}"#, "containerDefinitions"),
        ])
    func invalid(_ body: String, _ path: String) async throws {
        try await withControlPlane { client in
            let reply = try await client.ecs("RegisterTaskDefinition", body)
            #expect(reply.status == 400)
            #expect(reply.errorType == "ClientException")
            #expect(reply.message.contains(path))
            let list = try await client.ok("ListTaskDefinitions")
            #expect(list["taskDefinitionArns"]?.arrayValue?.isEmpty == true)
        }
    }

    @Test("DescribeTaskDefinition accepts family, family:revision and the ARN; TAGS on request")
    func describe() async throws {
        try await withControlPlane { client in
            _ = try await client.registerWeb()
            _ = try await client.registerWeb()
            let latest = try await client.ok("DescribeTaskDefinition", #"{"taskDefinition": "web"}"#)
            #expect(latest["taskDefinition"]?["revision"]?.intValue == 2)
            #expect(latest["tags"] == nil)
            let pinned = try await client.ok(
                "DescribeTaskDefinition", #"{"taskDefinition": "web:1", "include": ["TAGS"]}"#)
            #expect(pinned["taskDefinition"]?["revision"]?.intValue == 1)
            #expect(pinned["tags"]?[0]?["value"]?.stringValue == "web")
            #expect(
                pinned["taskDefinition"]?["containerDefinitions"]?[0]?["portMappings"]?[0]?["containerPort"]?.intValue
                    == 80)
            let byARN = try await client.ok(
                "DescribeTaskDefinition",
                #"{"taskDefinition": "arn:aws:ecs:us-east-1:000000000000:task-definition/web:2"}"#)
            #expect(byARN["taskDefinition"]?["revision"]?.intValue == 2)
            for missing in ["web:9", "nope", "arn:aws:ecs:us-east-1:000000000000:cluster/x"] {
                let reply = try await client.ecs("DescribeTaskDefinition", #"{"taskDefinition": "\#(missing)"}"#)
                #expect(reply.errorType == "ClientException")
            }
        }
    }

    @Test("ListTaskDefinitions filters by family and status, sorts and pages")
    func list() async throws {
        try await withControlPlane { client in
            for _ in 0..<3 { _ = try await client.registerWeb() }
            _ = try await client.registerWeb(family: "api")
            try await client.ok("DeregisterTaskDefinition", #"{"taskDefinition": "web:2"}"#)
            // When
            let active = try await client.ok("ListTaskDefinitions")
            let web = try await client.ok("ListTaskDefinitions", #"{"familyPrefix": "web", "sort": "DESC"}"#)
            let inactive = try await client.ok("ListTaskDefinitions", #"{"status": "INACTIVE"}"#)
            let page1 = try await client.ok("ListTaskDefinitions", #"{"maxResults": 2, "sort": "DESC"}"#)
            let page2 = try await client.ok(
                "ListTaskDefinitions",
                #"{"maxResults": 2, "sort": "DESC", "nextToken": "\#(page1["nextToken"]?.stringValue ?? "")"}"#)
            // Then
            func tails(_ value: JSONValue) -> [String] {
                (value["taskDefinitionArns"]?.arrayValue ?? []).compactMap {
                    $0.stringValue?.split(separator: "/").last.map(String.init)
                }
            }
            #expect(tails(active) == ["api:1", "web:1", "web:3"])
            #expect(tails(web) == ["web:3", "web:1"])
            #expect(tails(inactive) == ["web:2"])
            #expect(tails(page1) + tails(page2) == ["web:3", "web:1", "api:1"])
            #expect(page2["nextToken"] == nil)
            let badStatus = try await client.ecs("ListTaskDefinitions", #"{"status": "SOMETIMES"}"#)
            #expect(badStatus.errorType == "InvalidParameterException")
            let badSort = try await client.ecs("ListTaskDefinitions", #"{"sort": "UP"}"#)
            #expect(badSort.errorType == "InvalidParameterException")
        }
    }

    @Test("ListTaskDefinitionFamilies filters by prefix and status")
    func families() async throws {
        try await withControlPlane { client in
            _ = try await client.registerWeb(family: "web")
            _ = try await client.registerWeb(family: "worker")
            _ = try await client.registerWeb(family: "api")
            try await client.ok("DeregisterTaskDefinition", #"{"taskDefinition": "api:1"}"#)
            let active = try await client.ok("ListTaskDefinitionFamilies")
            #expect(active["families"]?.arrayValue?.compactMap(\.stringValue) == ["web", "worker"])
            let prefixed = try await client.ok(
                "ListTaskDefinitionFamilies", #"{"familyPrefix": "wo", "status": "ALL"}"#)
            #expect(prefixed["families"]?.arrayValue?.compactMap(\.stringValue) == ["worker"])
            let inactive = try await client.ok("ListTaskDefinitionFamilies", #"{"status": "INACTIVE"}"#)
            #expect(inactive["families"]?.arrayValue?.compactMap(\.stringValue) == ["api"])
            let paged = try await client.ok("ListTaskDefinitionFamilies", #"{"status": "ALL", "maxResults": 1}"#)
            #expect(paged["families"]?.arrayValue?.count == 1)
            #expect(paged["nextToken"] != nil)
        }
    }

    @Test("DeregisterTaskDefinition needs a revision; the latest ACTIVE revision moves back")
    func deregister() async throws {
        try await withControlPlane { client in
            _ = try await client.registerWeb()
            _ = try await client.registerWeb()
            let bare = try await client.ecs("DeregisterTaskDefinition", #"{"taskDefinition": "web"}"#)
            #expect(bare.errorType == "ClientException")
            let missing = try await client.ecs("DeregisterTaskDefinition", #"{"taskDefinition": "web:7"}"#)
            #expect(missing.errorType == "ClientException")
            let done = try await client.ok("DeregisterTaskDefinition", #"{"taskDefinition": "web:2"}"#)
            #expect(done["taskDefinition"]?["status"]?.stringValue == "INACTIVE")
            #expect(done["taskDefinition"]?["deregisteredAt"]?.intValue == 1_700_000_000)
            let latest = try await client.ok("DescribeTaskDefinition", #"{"taskDefinition": "web"}"#)
            #expect(latest["taskDefinition"]?["revision"]?.intValue == 1)
            // a new registration still takes the next revision, never reusing 2
            let third = try await client.registerWeb()
            #expect(third["taskDefinition"]?["revision"]?.intValue == 3)
        }
    }

    @Test("DeleteTaskDefinitions deletes INACTIVE revisions and reports ACTIVE or missing ones as failures")
    func delete() async throws {
        try await withControlPlane { client in
            _ = try await client.registerWeb()
            _ = try await client.registerWeb()
            try await client.ok("DeregisterTaskDefinition", #"{"taskDefinition": "web:1"}"#)
            let reply = try await client.ok(
                "DeleteTaskDefinitions", #"{"taskDefinitions": ["web:1", "web:2", "web:9"]}"#)
            #expect(reply["taskDefinitions"]?[0]?["status"]?.stringValue == "DELETE_IN_PROGRESS")
            #expect(reply["failures"]?.arrayValue?.count == 2)
            #expect(reply["failures"]?[0]?["reason"]?.stringValue?.contains("ACTIVE") == true)
            let tooMany = try await client.ecs(
                "DeleteTaskDefinitions",
                #"{"taskDefinitions": [\#((0..<11).map { "\"web:\($0 + 1)\"" }.joined(separator: ","))]}"#)
            #expect(tooMany.errorType == "InvalidParameterException")
            let bare = try await client.ecs("DeleteTaskDefinitions", #"{"taskDefinitions": ["web"]}"#)
            #expect(bare.errorType == "ClientException")
        }
    }
}
