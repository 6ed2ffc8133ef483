import ControlPlane
import FlotillaTestKit
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import SigV4
import TaskDefinitions
import Testing

@Suite("ECS JSON 1.1 protocol and bad input", .timeLimit(.minutes(10)))
struct ProtocolTests {
    static let target = HTTPField.Name("X-Amz-Target")!

    @Test("The configured account id and region go into ARNs; requests are signed for that region")
    func configuredAccount() async throws {
        try await withControlPlane(
            configuration: ControlPlaneConfiguration(accountID: "123456789012", region: "ap-south-1")
        ) { client in
            let reply = try await client.ecs("CreateCluster", #"{"clusterName": "x"}"#, region: "ap-south-1")
            #expect(reply.body["cluster"]?["clusterArn"]?.stringValue == "arn:aws:ecs:ap-south-1:123456789012:cluster/x")
            // A signature scoped to another region is refused, as AWS refuses it, and writes nothing
            let elsewhere = try await client.ecs("CreateCluster", #"{"clusterName": "y"}"#, region: "eu-west-3")
            #expect(elsewhere.errorType == "InvalidSignatureException")
            let list = try await client.ecs("ListClusters", region: "ap-south-1")
            #expect(list.body["clusterArns"]?.arrayValue?.count == 1)
        }
    }

    @Test(
        "Bad requests get ECS errors and the server keeps serving",
        arguments: [
            ("CreateCluster", "{not json", "SerializationException"),
            ("CreateCluster", "[1, 2]", "SerializationException"),
            ("CreateCluster", #"{"clusterName": 42}"#, "SerializationException"),
            ("CreateCluster", #"{"clusterName": "x", "tags": "nope"}"#, "SerializationException"),
            ("RegisterTaskDefinition", "{not json", "ClientException"),
            ("DescribeServices", #"{"services": null}"#, "InvalidParameterException"),
            ("NoSuchOperation", "{}", "UnknownOperationException"),
            ("ListClusters", #"{"maxResults": 0}"#, "InvalidParameterException"),
            ("ListClusters", #"{"maxResults": 1000}"#, "InvalidParameterException"),
        ])
    func badRequests(_ operation: String, _ body: String, _ type: String) async throws {
        try await withControlPlane { client in
            let reply = try await client.ecs(operation, body)
            #expect(reply.status == 400)
            #expect(reply.errorType == type)
            #expect(!reply.message.isEmpty)
            try await client.createCluster()
        }
    }

    @Test("A wrong type names the field path")
    func wrongTypeNamesPath() async throws {
        try await withControlPlane { client in
            let reply = try await client.ecs("CreateCluster", #"{"clusterName": "x", "tags": [{"key": 5}]}"#)
            #expect(reply.message.contains("tags[0].key"))
        }
    }

    @Test("A missing X-Amz-Target header is UnknownOperationException")
    func missingTarget() async throws {
        try await withControlPlane { client in
            let reply = try await client.raw(headers: [.contentType: "application/x-amz-json-1.1"], body: "{}")
            #expect(reply.status == 400)
            #expect(reply.errorType == "UnknownOperationException")
        }
    }

    @Test("A foreign service's target is UnknownOperationException")
    func foreignTarget() async throws {
        try await withControlPlane { client in
            let reply = try await client.raw(
                headers: [Self.target: "DynamoDB_20120810.ListTables", .contentType: "application/x-amz-json-1.1"],
                body: "{}")
            #expect(reply.errorType == "UnknownOperationException")
        }
    }

    @Test("A wrong content type is refused", arguments: ["text/plain", "application/xml"])
    func wrongContentType(_ contentType: String) async throws {
        try await withControlPlane { client in
            let reply = try await client.raw(
                headers: [Self.target: "AmazonEC2ContainerServiceV20141113.ListClusters", .contentType: contentType],
                body: "{}")
            #expect(reply.status == 400)
            #expect(reply.errorType == "SerializationException")
        }
    }

    @Test("A body over 1 MiB is refused and nothing is written")
    func oversizedBody() async throws {
        try await withControlPlane { client in
            let padding = String(repeating: "x", count: 1 << 20)
            let reply = try await client.ecs(
                "CreateCluster", #"{"clusterName": "big", "configuration": {"pad": "\#(padding)"}}"#)
            #expect(reply.status == 413)
            #expect(reply.errorType == "RequestEntityTooLargeException")
            let list = try await client.ok("ListClusters")
            #expect(list["clusterArns"]?.arrayValue?.isEmpty == true)
        }
    }

    @Test("An empty body counts as {}")
    func emptyBody() async throws {
        try await withControlPlane { client in
            let reply = try await client.ecs("ListClusters", "")
            #expect(reply.status == 200)
            #expect(reply.body["clusterArns"]?.arrayValue != nil)
        }
    }

    @Test("/healthz answers ok and /metrics renders")
    func healthAndMetrics() async throws {
        try await withControlPlane { client in
            let health = try await client.execute(uri: "/healthz", method: .get) { response in
                (response.status.code, String(buffer: response.body))
            }
            #expect(health.0 == 200)
            #expect(health.1 == "ok\n")
            let metrics = try await client.execute(uri: "/metrics", method: .get) { String(buffer: $0.body) }
            #expect(metrics.contains("flotilla_test"))
        }
    }

    @Test("Every operation of issue 2 is answered")
    func everyOperation() {
        let expected: Set<String> = [
            "CreateCluster", "DescribeClusters", "ListClusters", "DeleteCluster", "UpdateCluster",
            "UpdateClusterSettings",
            "RegisterTaskDefinition", "DescribeTaskDefinition", "ListTaskDefinitions", "ListTaskDefinitionFamilies",
            "DeregisterTaskDefinition", "DeleteTaskDefinitions", "CreateService", "DescribeServices", "ListServices",
            "UpdateService", "DeleteService", "RunTask", "StartTask", "StopTask", "DescribeTasks", "ListTasks",
            "RegisterContainerInstance", "DeregisterContainerInstance", "ListContainerInstances",
            "DescribeContainerInstances", "UpdateContainerInstancesState", "PutAttributes", "DeleteAttributes",
            "ListAttributes", "PutAccountSetting", "ListAccountSettings", "DeleteAccountSetting",
            "DiscoverPollEndpoint",
            "TagResource", "UntagResource", "ListTagsForResource",
        ]
        #expect(Set(ECSAPI.operationNames) == expected.union(["ExecuteCommand"]))  // issue 5 adds ExecuteCommand
    }
}
