import ControlPlane
import FlotillaTestKit
import Foundation
import TaskDefinitions
import Testing

@Suite("ECS API: services", .timeLimit(.minutes(10)))
struct ServiceAPITests {
    @Test("CreateService records desired state honestly: PRIMARY deployment, nothing running, an event saying why")
    func createService() async throws {
        try await withControlPlane { client in
            try await client.createCluster()
            _ = try await client.registerWeb()
            // When
            let reply = try await client.ok(
                "CreateService",
                #"{"serviceName": "web", "taskDefinition": "web", "desiredCount": 3, "tags": [{"key": "a", "value": "b"}]}"#
            )
            // Then
            let service = try #require(reply["service"])
            #expect(service["serviceArn"]?.stringValue == "arn:aws:ecs:us-east-1:000000000000:service/default/web")
            #expect(service["status"]?.stringValue == "ACTIVE")
            #expect(service["desiredCount"]?.intValue == 3)
            #expect(service["runningCount"]?.intValue == 0)
            #expect(service["pendingCount"]?.intValue == 0)
            #expect(
                service["taskDefinition"]?.stringValue == "arn:aws:ecs:us-east-1:000000000000:task-definition/web:1")
            #expect(service["deployments"]?.arrayValue?.count == 1)
            #expect(service["deployments"]?[0]?["status"]?.stringValue == "PRIMARY")
            #expect(service["deployments"]?[0]?["id"]?.stringValue?.hasPrefix("ecs-svc/") == true)
            #expect(service["deploymentConfiguration"]?["maximumPercent"]?.intValue == 200)
            #expect(service["events"]?[0]?["message"]?.stringValue?.contains("was unable to place a task") == true)
            #expect(service["tags"]?[0]?["key"]?.stringValue == "a")
        }
    }

    @Test(
        "CreateService refuses what ECS refuses",
        arguments: [
            (#"{"serviceName": "s", "taskDefinition": "nope", "desiredCount": 1}"#, "ClientException"),
            (#"{"serviceName": "s", "taskDefinition": "web", "desiredCount": 1000000}"#, "InvalidParameterException"),
            (#"{"serviceName": "s", "taskDefinition": "web", "desiredCount": -1}"#, "InvalidParameterException"),
            (
                #"{"serviceName": "s", "taskDefinition": "web", "desiredCount": 99999999999999999999}"#,
                "SerializationException"
            ),
            (#"{"serviceName": "s", "taskDefinition": "web", "desiredCount": "two"}"#, "SerializationException"),
            (#"{"serviceName": "bad name", "taskDefinition": "web"}"#, "InvalidParameterException"),
            (#"{"serviceName": "s"}"#, "InvalidParameterException"),
            (#"{"taskDefinition": "web"}"#, "InvalidParameterException"),
            (#"{"serviceName": "s", "taskDefinition": "web", "launchType": "FARGATE"}"#, "InvalidParameterException"),
            (
                #"{"serviceName": "s", "taskDefinition": "web", "deploymentConfiguration": {"maximumPercent": 50}}"#,
                "InvalidParameterException"
            ),
            (#"{"cluster": "nope", "serviceName": "s", "taskDefinition": "web"}"#, "ClusterNotFoundException"),
        ])
    func badCreate(_ body: String, _ type: String) async throws {
        try await withControlPlane { client in
            try await client.createCluster()
            _ = try await client.registerWeb()
            let reply = try await client.ecs("CreateService", body)
            #expect(reply.status == 400)
            #expect(reply.errorType == type)
            let list = try await client.ok("ListServices")
            #expect(list["serviceArns"]?.arrayValue?.isEmpty == true)
        }
    }

    @Test("A second CreateService of one name is refused; after deletion the name is free again")
    func duplicate() async throws {
        try await withControlPlane { client in
            try await client.createCluster()
            _ = try await client.registerWeb()
            try await client.ok("CreateService", #"{"serviceName": "s", "taskDefinition": "web"}"#)
            let again = try await client.ecs("CreateService", #"{"serviceName": "s", "taskDefinition": "web"}"#)
            #expect(again.errorType == "InvalidParameterException")
            try await client.ok("DeleteService", #"{"service": "s"}"#)
            try await client.ok("CreateService", #"{"serviceName": "s", "taskDefinition": "web"}"#)
        }
    }

    @Test("DescribeServices and ListServices; missing services are failures")
    func describeAndList() async throws {
        try await withControlPlane { client in
            try await client.createCluster()
            _ = try await client.registerWeb()
            for name in ["c", "a", "b"] {
                try await client.ok("CreateService", #"{"serviceName": "\#(name)", "taskDefinition": "web"}"#)
            }
            let described = try await client.ok(
                "DescribeServices",
                #"{"services": ["a", "arn:aws:ecs:us-east-1:000000000000:service/default/b", "zzz"], "include": ["TAGS"]}"#
            )
            #expect(described["services"]?.arrayValue?.compactMap { $0["serviceName"]?.stringValue } == ["a", "b"])
            #expect(described["failures"]?[0]?["reason"]?.stringValue == "MISSING")
            let page1 = try await client.ok("ListServices", #"{"maxResults": 2}"#)
            let page2 = try await client.ok(
                "ListServices", #"{"maxResults": 2, "nextToken": "\#(page1["nextToken"]?.stringValue ?? "")"}"#)
            let names = (page1["serviceArns"]?.arrayValue ?? []) + (page2["serviceArns"]?.arrayValue ?? [])
            #expect(
                names.compactMap { $0.stringValue?.split(separator: "/").last.map(String.init) } == ["a", "b", "c"])
            let none = try await client.ecs("DescribeServices", #"{"services": []}"#)
            #expect(none.errorType == "InvalidParameterException")
            let eleven = try await client.ecs(
                "DescribeServices", #"{"services": [\#((0..<11).map { "\"s\($0)\"" }.joined(separator: ","))]}"#)
            #expect(eleven.errorType == "InvalidParameterException")
            let tooMany = try await client.ecs("ListServices", #"{"maxResults": 1000}"#)
            #expect(tooMany.errorType == "InvalidParameterException")
        }
    }

    @Test("UpdateService scales, and a new task definition makes a new PRIMARY deployment")
    func update() async throws {
        try await withControlPlane { client in
            try await client.createCluster()
            _ = try await client.registerWeb()
            _ = try await client.registerWeb()
            try await client.ok("CreateService", #"{"serviceName": "s", "taskDefinition": "web:1", "desiredCount": 1}"#)
            // When
            let scaled = try await client.ok("UpdateService", #"{"service": "s", "desiredCount": 4}"#)
            let rolled = try await client.ok(
                "UpdateService",
                #"{"service": "s", "taskDefinition": "web:2", "deploymentConfiguration": {"minimumHealthyPercent": 50}}"#
            )
            // Then
            #expect(scaled["service"]?["desiredCount"]?.intValue == 4)
            #expect(scaled["service"]?["deployments"]?[0]?["desiredCount"]?.intValue == 4)
            let deployments = try #require(rolled["service"]?["deployments"]?.arrayValue)
            #expect(deployments.map { $0["status"]?.stringValue } == ["PRIMARY", "ACTIVE"])
            #expect(deployments[0]["taskDefinition"]?.stringValue?.hasSuffix("web:2") == true)
            #expect(rolled["service"]?["taskDefinition"]?.stringValue?.hasSuffix("web:2") == true)
            #expect(rolled["service"]?["deploymentConfiguration"]?["minimumHealthyPercent"]?.intValue == 50)
            #expect(rolled["service"]?["deploymentConfiguration"]?["maximumPercent"]?.intValue == 200)
            let missing = try await client.ecs("UpdateService", #"{"service": "nope", "desiredCount": 1}"#)
            #expect(missing.errorType == "ServiceNotFoundException")
            let absurd = try await client.ecs("UpdateService", #"{"service": "s", "desiredCount": 2147483647}"#)
            #expect(absurd.errorType == "InvalidParameterException")
            let described = try await client.ok("DescribeServices", #"{"services": ["s"]}"#)
            #expect(described["services"]?[0]?["desiredCount"]?.intValue == 4)
        }
    }

    @Test("DeleteService needs force while scaled above 0; a deleted service is not active")
    func delete() async throws {
        try await withControlPlane { client in
            try await client.createCluster()
            _ = try await client.registerWeb()
            try await client.ok("CreateService", #"{"serviceName": "s", "taskDefinition": "web", "desiredCount": 2}"#)
            let refused = try await client.ecs("DeleteService", #"{"service": "s"}"#)
            #expect(refused.errorType == "InvalidParameterException")
            let deleted = try await client.ok("DeleteService", #"{"service": "s", "force": true}"#)
            #expect(deleted["service"]?["status"]?.stringValue == "DRAINING")
            #expect(deleted["service"]?["desiredCount"]?.intValue == 0)
            let described = try await client.ok("DescribeServices", #"{"services": ["s"]}"#)
            #expect(described["services"]?[0]?["status"]?.stringValue == "INACTIVE")
            let update = try await client.ecs("UpdateService", #"{"service": "s", "desiredCount": 1}"#)
            #expect(update.errorType == "ServiceNotActiveException")
            let again = try await client.ecs("DeleteService", #"{"service": "s", "force": true}"#)
            #expect(again.errorType == "ServiceNotActiveException")
            let missing = try await client.ecs("DeleteService", #"{"service": "never"}"#)
            #expect(missing.errorType == "ServiceNotFoundException")
            let list = try await client.ok("ListServices")
            #expect(list["serviceArns"]?.arrayValue?.isEmpty == true)
        }
    }
}
