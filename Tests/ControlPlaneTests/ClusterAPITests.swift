import ControlPlane
import FlotillaTestKit
import Foundation
import TaskDefinitions
import Testing

@Suite("ECS API: clusters", .timeLimit(.minutes(10)))
struct ClusterAPITests {
    @Test("CreateCluster answers an ACTIVE cluster with an ECS ARN and is idempotent")
    func createCluster() async throws {
        try await withControlPlane { client in
            // When
            let first = try await client.ok(
                "CreateCluster", #"{"clusterName": "prod", "tags": [{"key": "team", "value": "a"}]}"#)
            let again = try await client.ok("CreateCluster", #"{"clusterName": "prod"}"#)
            // Then
            #expect(first["cluster"]?["clusterArn"]?.stringValue == "arn:aws:ecs:us-east-1:000000000000:cluster/prod")
            #expect(first["cluster"]?["status"]?.stringValue == "ACTIVE")
            #expect(first["cluster"]?["tags"]?[0]?["key"]?.stringValue == "team")
            #expect(again["cluster"]?["clusterArn"] == first["cluster"]?["clusterArn"])
        }
    }

    @Test("CreateCluster without a name makes the default cluster")
    func defaultCluster() async throws {
        try await withControlPlane { client in
            let reply = try await client.ok("CreateCluster")
            #expect(reply["cluster"]?["clusterName"]?.stringValue == "default")
        }
    }

    @Test(
        "CreateCluster refuses bad names and settings",
        arguments: [
            #"{"clusterName": "has space"}"#, #"{"clusterName": ""}"#,
            #"{"clusterName": "ok", "settings": [{"name": "nope", "value": "enabled"}]}"#,
        ])
    func badCluster(_ body: String) async throws {
        try await withControlPlane { client in
            let reply = try await client.ecs("CreateCluster", body)
            #expect(reply.status == 400)
            #expect(reply.errorType == "InvalidParameterException")
            let list = try await client.ok("ListClusters")
            #expect(list["clusterArns"]?.arrayValue?.isEmpty == true)
        }
    }

    @Test("DescribeClusters refuses include values ECS does not define", arguments: ["NOPE", "tags"])
    func describeClustersBadInclude(_ field: String) async throws {
        try await withControlPlane { client in
            // Given: a cluster
            _ = try await client.ok("CreateCluster", #"{"clusterName": "web"}"#)
            // When: it is described with an include value outside ECS's ClusterField enum
            let reply = try await client.ecs("DescribeClusters", #"{"clusters": ["web"], "include": ["\#(field)"]}"#)
            // Then: InvalidParameterException names the field and the value
            #expect(reply.status == 400)
            #expect(reply.errorType == "InvalidParameterException")
            #expect(reply.message.contains(field))
        }
    }

    @Test("DescribeClusters reports counts, failures for unknown names and tags on request")
    func describeClusters() async throws {
        try await withControlPlane { client in
            try await client.ok("CreateCluster", #"{"clusterName": "a", "tags": [{"key": "k", "value": "v"}]}"#)
            // When
            let reply = try await client.ok("DescribeClusters", #"{"clusters": ["a", "missing"], "include": ["TAGS"]}"#)
            // Then
            let cluster = try #require(reply["clusters"]?[0])
            #expect(cluster["activeServicesCount"]?.intValue == 0)
            #expect(cluster["registeredContainerInstancesCount"]?.intValue == 0)
            #expect(cluster["tags"]?[0]?["value"]?.stringValue == "v")
            #expect(reply["failures"]?[0]?["reason"]?.stringValue == "MISSING")
            #expect(reply["failures"]?[0]?["arn"]?.stringValue == "arn:aws:ecs:us-east-1:000000000000:cluster/missing")
        }
    }

    @Test("DescribeClusters shows settings, configuration, statistics and attachments only when include names them")
    func describeClustersInclude() async throws {
        try await withControlPlane { client in
            // Given a cluster with a setting, a configuration and one service
            try await client.ok(
                "CreateCluster",
                #"{"clusterName": "default", "settings": [{"name": "containerInsights", "value": "enabled"}], "configuration": {"executeCommandConfiguration": {"logging": "DEFAULT"}}}"#
            )
            _ = try await client.registerWeb()
            try await client.ok("CreateService", #"{"serviceName": "web", "taskDefinition": "web", "desiredCount": 1}"#)
            // When described without include
            let plain = try #require(
                try await client.ok("DescribeClusters", #"{"clusters": ["default"]}"#)["clusters"]?[0])
            // Then none of the optional parts is there
            for key in ["settings", "configuration", "statistics", "attachments", "tags"] {
                #expect(plain[key] == nil, "\(key)")
            }
            // When described with every include
            let full = try #require(
                try await client.ok(
                    "DescribeClusters",
                    #"{"clusters": ["default"], "include": ["SETTINGS", "CONFIGURATIONS", "STATISTICS", "ATTACHMENTS", "TAGS"]}"#
                )["clusters"]?[0])
            // Then each is there, statistics in ECS's name/value form
            #expect(full["settings"]?[0]?["value"]?.stringValue == "enabled")
            #expect(full["configuration"]?["executeCommandConfiguration"]?["logging"]?.stringValue == "DEFAULT")
            #expect(full["attachments"]?.arrayValue?.isEmpty == true)
            #expect(full["tags"]?.arrayValue?.isEmpty == true)
            let statistics = Dictionary(
                uniqueKeysWithValues: (full["statistics"]?.arrayValue ?? []).compactMap { entry in
                    entry["name"]?.stringValue.map { ($0, entry["value"]?.stringValue ?? "") }
                })
            #expect(statistics["activeEC2ServiceCount"] == "1")
            #expect(statistics["runningEC2TasksCount"] == "0")
            #expect(statistics["drainingEC2ServiceCount"] == "0")
        }
    }

    @Test("ListClusters pages with nextToken and honours maxResults bounds")
    func listClustersPagination() async throws {
        try await withControlPlane { client in
            for index in 0..<5 { try await client.createCluster("c\(index)") }
            // When
            let first = try await client.ok("ListClusters", #"{"maxResults": 2}"#)
            let token = try #require(first["nextToken"]?.stringValue)
            let second = try await client.ok("ListClusters", #"{"maxResults": 2, "nextToken": "\#(token)"}"#)
            let third = try await client.ok(
                "ListClusters", #"{"maxResults": 2, "nextToken": "\#(second["nextToken"]?.stringValue ?? "")"}"#)
            // Then
            let names = [first, second, third].flatMap { $0["clusterArns"]?.arrayValue ?? [] }.compactMap(\.stringValue)
            #expect(
                names.map { $0.split(separator: "/").last.map(String.init) ?? "" } == ["c0", "c1", "c2", "c3", "c4"])
            #expect(third["nextToken"] == nil)
            for bad in [0, 101, -1] {
                let reply = try await client.ecs("ListClusters", #"{"maxResults": \#(bad)}"#)
                #expect(reply.errorType == "InvalidParameterException")
            }
            let badToken = try await client.ecs("ListClusters", #"{"nextToken": "%%%"}"#)
            #expect(badToken.errorType == "InvalidParameterException")
        }
    }

    @Test("DeleteCluster marks it INACTIVE and refuses while services or instances are active")
    func deleteCluster() async throws {
        try await withControlPlane { client in
            try await client.createCluster("busy")
            _ = try await client.registerWeb()
            try await client.ok(
                "CreateService", #"{"cluster": "busy", "serviceName": "s", "taskDefinition": "web", "desiredCount": 0}"#
            )
            // When / Then: a service blocks deletion
            let blocked = try await client.ecs("DeleteCluster", #"{"cluster": "busy"}"#)
            #expect(blocked.errorType == "ClusterContainsServicesException")
            try await client.ok("DeleteService", #"{"cluster": "busy", "service": "s"}"#)
            // an instance blocks deletion
            let instance = try await client.registerInstance(cluster: "busy")
            let blockedByInstance = try await client.ecs("DeleteCluster", #"{"cluster": "busy"}"#)
            #expect(blockedByInstance.errorType == "ClusterContainsContainerInstancesException")
            try await client.ok(
                "DeregisterContainerInstance", #"{"cluster": "busy", "containerInstance": "\#(instance)"}"#)
            // Then it goes
            let deleted = try await client.ok(
                "DeleteCluster", #"{"cluster": "arn:aws:ecs:us-east-1:000000000000:cluster/busy"}"#)
            #expect(deleted["cluster"]?["status"]?.stringValue == "INACTIVE")
            let again = try await client.ecs("DeleteCluster", #"{"cluster": "busy"}"#)
            #expect(again.errorType == "ClusterNotFoundException")
            let list = try await client.ok("ListClusters")
            #expect(list["clusterArns"]?.arrayValue?.isEmpty == true)
        }
    }

    @Test("DeleteCluster refuses while tasks are live")
    func deleteClusterWithTasks() async throws {
        try await withControlPlane { client in
            try await client.createCluster()
            _ = try await client.registerWeb()
            _ = try await client.registerInstance()
            try await client.ok("RunTask", #"{"taskDefinition": "web"}"#)
            let instances = try await client.ok("ListContainerInstances")
            let arn = instances["containerInstanceArns"]?[0]?.stringValue ?? ""
            try await client.ok("DeregisterContainerInstance", #"{"containerInstance": "\#(arn)", "force": true}"#)
            let reply = try await client.ecs("DeleteCluster", #"{"cluster": "default"}"#)
            #expect(reply.errorType == "ClusterContainsTasksException")
        }
    }

    @Test("UpdateCluster and UpdateClusterSettings change settings; unknown clusters are ClusterNotFoundException")
    func updateCluster() async throws {
        try await withControlPlane { client in
            try await client.createCluster("u")
            let updated = try await client.ok(
                "UpdateClusterSettings",
                #"{"cluster": "u", "settings": [{"name": "containerInsights", "value": "enabled"}]}"#)
            #expect(updated["cluster"]?["settings"]?[0]?["value"]?.stringValue == "enabled")
            let configured = try await client.ok(
                "UpdateCluster",
                #"{"cluster": "u", "configuration": {"executeCommandConfiguration": {"logging": "DEFAULT"}}}"#)
            #expect(
                configured["cluster"]?["configuration"]?["executeCommandConfiguration"]?["logging"]?.stringValue
                    == "DEFAULT")
            #expect(configured["cluster"]?["settings"]?[0]?["value"]?.stringValue == "enabled")
            let missing = try await client.ecs("UpdateCluster", #"{"cluster": "nope"}"#)
            #expect(missing.errorType == "ClusterNotFoundException")
            let badValue = try await client.ecs(
                "UpdateClusterSettings",
                #"{"cluster": "u", "settings": [{"name": "containerInsights", "value": "maybe"}]}"#)
            #expect(badValue.errorType == "InvalidParameterException")
        }
    }
}
