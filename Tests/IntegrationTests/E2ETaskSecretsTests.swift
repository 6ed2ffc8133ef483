import FlotillaTestKit
import Foundation
import TaskDefinitions
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Task secrets end to end: values put with `aws ssm` and `aws secretsmanager`, a task definition whose `secrets`
/// name both, a real agent in its own network namespace running the container, which prints its environment.
@Suite(
    "E2E: task secrets reach the container's environment", .enabled(if: getuid() == 0), .serialized,
    .timeLimit(.minutes(10)))
struct E2ETaskSecretsTests {
    /// `worker.json` printing its environment, with `secrets`; its family.
    static func register(
        _ cluster: E2ECluster, family: String, secrets: [[String: String]]
    ) async throws -> String {
        try await cluster.registerExample("worker.json") { definition in
            definition["family"] = family
            var containers = definition["containerDefinitions"] as! [[String: Any]]
            containers[0]["command"] = [
                "echo \"TOKEN=$TOKEN\"; echo \"DB_PASSWORD=$DB_PASSWORD\"; echo \"WORKER_QUEUE=$WORKER_QUEUE\"; "
                    + "echo printed; sleep 3600"
            ]
            containers[0]["environment"] = [
                ["name": "WORKER_QUEUE", "value": "default"], ["name": "TOKEN", "value": "plain-environment-value"],
            ]
            containers[0]["secrets"] = secrets
            definition["containerDefinitions"] = containers
        }
    }

    @Test func secretsFromBothStoresReachTheContainerAndNoFileOrLog() async throws {
        try await withE2ECluster(hosts: 1) { cluster in
            let endpoint = cluster.controlPlane.endpoint
            // Given a SecureString parameter and a JSON secret
            try await awsCLIOK(
                "ssm", "put-parameter", "--name", "/e2e/token", "--value", "tok-e2e-7d1f", "--type", "SecureString",
                endpoint: endpoint)
            let secret = try await awsCLIOK(
                "secretsmanager", "create-secret", "--name", "e2e/db", "--secret-string",
                #"{"password": "pw-e2e-93ac", "user": "app"}"#, endpoint: endpoint)
            let arn = try #require(secret["ARN"]?.stringValue)
            // And a task definition reading the parameter by name and the secret's JSON key
            let family = try await Self.register(
                cluster, family: "secret-worker",
                secrets: [
                    ["name": "TOKEN", "valueFrom": "/e2e/token"],
                    ["name": "DB_PASSWORD", "valueFrom": "\(arn):password::"],
                ])
            // When it runs
            let run = try await cluster.ecs("RunTask", ["taskDefinition": family, "count": 1])
            let taskArn = try #require(run["tasks"]?[0]?.taskArn)
            // Then the container sees the values (the secret overriding the environment's TOKEN)
            let printed = try await eventually(within: .seconds(60)) { () async throws -> String? in
                let logs = try await ecsctl(
                    ["logs", "--cluster", cluster.cluster, "--task", taskArn], endpoint: endpoint)
                return logs.status == 0 && logs.stdout.contains("printed\n") ? logs.stdout : nil
            }
            let output = try #require(printed, "the task printed nothing:\n\(cluster.logTails())")
            #expect(output.contains("TOKEN=tok-e2e-7d1f\n"))
            #expect(output.contains("DB_PASSWORD=pw-e2e-93ac\n"))
            #expect(output.contains("WORKER_QUEUE=default\n"))
            // And DescribeTasks, the agent's state files and both daemons' logs hold no value
            let described = try await cluster.ecs("DescribeTasks", ["tasks": [taskArn]])
            let text = String(decoding: try JSONEncoder().encode(described), as: UTF8.self)
            #expect(!text.contains("tok-e2e-7d1f") && !text.contains("pw-e2e-93ac"))
            var checked = 0
            for agent in cluster.agents {
                let root = URL(fileURLWithPath: agent.dataDirectory)
                let files = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil)
                while let url = files?.nextObject() as? URL {
                    guard url.lastPathComponent.hasSuffix(".json") else { continue }
                    let contents = (try? Data(contentsOf: url)) ?? Data()
                    checked += 1
                    #expect(contents.range(of: Data("tok-e2e-7d1f".utf8)) == nil, "\(url.path)")
                    #expect(contents.range(of: Data("pw-e2e-93ac".utf8)) == nil, "\(url.path)")
                }
                #expect(!agent.daemon.log.contains("tok-e2e-7d1f") && !agent.daemon.log.contains("pw-e2e-93ac"))
            }
            #expect(checked > 0)
            let controlPlaneLog = cluster.controlPlane.daemon.log
            #expect(!controlPlaneLog.contains("tok-e2e-7d1f") && !controlPlaneLog.contains("pw-e2e-93ac"))
        }
    }

    @Test func aMissingSecretStopsTheTaskWithResourceInitializationError() async throws {
        try await withE2ECluster(hosts: 1) { cluster in
            // Given a task definition naming a parameter nobody put
            let family = try await Self.register(
                cluster, family: "missing-secret", secrets: [["name": "TOKEN", "valueFrom": "/e2e/absent"]])
            // When it is run
            let run = try await cluster.ecs("RunTask", ["taskDefinition": family, "count": 1])
            let taskArn = try #require(run["tasks"]?[0]?.taskArn)
            // Then it stops as ECS stops it, and no container was made for it
            let stopped = try await eventually(within: .seconds(60)) { () async throws -> JSONValue? in
                try await cluster.tasks(desiredStatus: "STOPPED").first {
                    $0.taskArn == taskArn && $0.lastStatus == "STOPPED"
                }
            }
            let task = try #require(stopped, "the task never stopped:\n\(cluster.logTails())")
            #expect(task["stopCode"]?.stringValue == "TaskFailedToStart")
            let reason = task["stoppedReason"]?.stringValue ?? ""
            #expect(
                reason.hasPrefix(
                    "ResourceInitializationError: unable to pull secrets or registry auth: execution resource "
                        + "retrieval failed: unable to retrieve secrets from ssm"), "\(reason)")
            #expect(reason.contains("/e2e/absent"))
            #expect(cluster.runningContainers().isEmpty)
        }
    }
}
