import FlotillaTestKit
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Glibc
import TaskDefinitions
import Testing

/// The real `ecs-control-plane` binary: durability across kill -9, SIGTERM, bad input on the wire.
@Suite("ecs-control-plane process", .serialized, .timeLimit(.minutes(10)))
struct ControlPlaneProcessTests {
    static func json(_ data: Data) throws -> JSONValue { try JSONDecoder().decode(JSONValue.self, from: data) }

    @Test("kill -9 right after acknowledged writes loses nothing")
    func killNine() async throws {
        // Given: a control plane that acknowledged a burst of writes
        let first = try await ControlPlaneProcess()
        defer { first.terminate() }
        var acknowledged: [String] = []
        #expect(try await first.call("CreateCluster", #"{"clusterName": "durable"}"#).status == 200)
        for index in 0..<25 {
            let body =
                #"{"family": "fam\#(index % 5)", "containerDefinitions": [{"name": "c", "image": "busybox", "memory": 32}]}"#
            let reply = try await first.call("RegisterTaskDefinition", body)
            #expect(reply.status == 200)
            if let arn = try Self.json(reply.body)["taskDefinition"]?["taskDefinitionArn"]?.stringValue {
                acknowledged.append(arn)
            }
        }
        #expect(
            try await first.call(
                "CreateService",
                #"{"cluster": "durable", "serviceName": "api", "taskDefinition": "fam0", "desiredCount": 2}"#
            ).status == 200)
        #expect(
            try await first.call("UpdateService", #"{"cluster": "durable", "service": "api", "desiredCount": 7}"#)
                .status == 200)
        #expect(
            try await first.call(
                "TagResource",
                #"{"resourceArn": "arn:aws:ecs:us-east-1:000000000000:cluster/durable", "tags": [{"key": "k", "value": "v"}]}"#
            ).status == 200)

        // When: SIGKILL with no chance to flush, then a restart on the same data dir
        first.send(SIGKILL)
        let status = await first.waitForExit()
        #expect(status != nil)
        let second = try await ControlPlaneProcess(dataDirectory: first.dataDirectory)
        defer { second.terminate() }

        // Then: every acknowledged write is there
        #expect(acknowledged.count == 25)
        var listed: [String] = []
        var token: String?
        for _ in 0..<10 {
            let page = try Self.json(
                try await second.call(
                    "ListTaskDefinitions",
                    token.map { #"{"maxResults": 10, "nextToken": "\#($0)"}"# } ?? #"{"maxResults": 10}"#
                ).body)
            listed += page["taskDefinitionArns"]?.arrayValue?.compactMap(\.stringValue) ?? []
            token = page["nextToken"]?.stringValue
            if token == nil { break }
        }
        #expect(Set(listed) == Set(acknowledged))
        let service = try Self.json(
            try await second.call("DescribeServices", #"{"cluster": "durable", "services": ["api"]}"#).body)
        #expect(service["services"]?[0]?["desiredCount"]?.intValue == 7)
        let tags = try Self.json(
            try await second.call(
                "ListTagsForResource", #"{"resourceArn": "arn:aws:ecs:us-east-1:000000000000:cluster/durable"}"#
            ).body)
        #expect(tags["tags"]?[0]?["key"]?.stringValue == "k")
        // and revisions continue after the crash instead of colliding
        let next = try Self.json(
            try await second.call(
                "RegisterTaskDefinition",
                #"{"family": "fam0", "containerDefinitions": [{"name": "c", "image": "busybox", "memory": 32}]}"#
            ).body)
        #expect(next["taskDefinition"]?["revision"]?.intValue == 6)
    }

    @Test("SIGTERM stops the control plane cleanly with status 0")
    func sigterm() async throws {
        let server = try await ControlPlaneProcess()
        defer { server.terminate() }
        #expect(try await server.call("CreateCluster").status == 200)
        server.send(SIGTERM)
        let status = await server.waitForExit(within: .seconds(10))
        #expect(status == 0)
    }

    @Test("Bad input on the wire gets ECS errors and the server keeps serving")
    func badInputOnTheWire() async throws {
        let server = try await ControlPlaneProcess()
        defer { server.terminate() }
        let cases: [(String, String, String)] = [
            ("CreateCluster", "{nope", "SerializationException"),
            ("Explode", "{}", "UnknownOperationException"),
            (
                "CreateService", #"{"serviceName": "s", "taskDefinition": "x", "desiredCount": 1e30}"#,
                "SerializationException"
            ),
            ("ListServices", #"{"maxResults": 0}"#, "InvalidParameterException"),
            (
                "CreateCluster", #"{"clusterName": "\#(String(repeating: "a", count: 2 << 20))"}"#,
                "RequestEntityTooLargeException"
            ),
        ]
        for (operation, body, type) in cases {
            let reply = try await server.call(operation, body)
            #expect((400..<500).contains(reply.status))
            #expect(try Self.json(reply.body)["__type"]?.stringValue == type)
        }
        #expect(try await server.call("CreateCluster", #"{"clusterName": "still-here"}"#).status == 200)
        let text = try #require(await httpGet("\(server.endpoint)/metrics"))
        #expect(text.contains("flotilla_controlplane_requests_total"))
        #expect(text.contains(#"operation="CreateCluster""#))
    }

    @Test("FLOTILLA_* environment variables configure the daemon")
    func environment() async throws {
        // Given a daemon configured only through its environment
        let server = try await ControlPlaneProcess(viaEnvironment: true)
        defer { server.terminate() }
        // When
        let reply = try await server.call("CreateCluster", #"{"clusterName": "env"}"#)
        // Then: it listens where FLOTILLA_LISTEN says, stores where FLOTILLA_DATA_DIR says, names ARNs as configured
        #expect(
            try Self.json(reply.body)["cluster"]?["clusterArn"]?.stringValue
                == "arn:aws:ecs:eu-north-1:111122223333:cluster/env")
        #expect(
            FileManager.default.fileExists(atPath: server.dataDirectory.appendingPathComponent("flotilla.sqlite").path))
    }

    @Test(
        "Bad flags end the daemon with a message naming the flag",
        arguments: [
            ["--listen", "nowhere"], ["--listen", "127.0.0.1:70000"], ["--account-id", "12"], ["--region", "us east"],
            ["--balancer-max-connections", "0"], ["--balancer-idle-timeout", "0"],
        ])
    func badFlags(_ arguments: [String]) async throws {
        let run = try await HostCommand.runToCompletion(
            [ControlPlaneProcess.binary.path] + arguments
                + [
                    "--data-dir",
                    FileManager.default.temporaryDirectory.appendingPathComponent("flotilla-cp-never").path,
                ],
            killAfter: .seconds(30))
        #expect(run.status != 0)
        #expect(run.stderr.contains(arguments[0]))
    }
}
