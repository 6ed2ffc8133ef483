@testable import ControlPlane
import ECSProtocol
import ECSVocabulary
import FlotillaTestKit
import Foundation
import HummingbirdTesting
import SigV4
import TaskDefinitions
import Testing

/// A task definition of one container whose `secrets` are `secrets` (name, valueFrom) and whose environment sets
/// `TOKEN` to a plain value the secret of that name overrides.
func secretTaskDefinition(family: String = "sec", secrets: [(String, String)]) -> String {
    let entries = secrets.map { #"{"name": "\#($0.0)", "valueFrom": "\#($0.1)"}"# }.joined(separator: ", ")
    return """
        {"family": "\(family)", "networkMode": "bridge",
         "containerDefinitions": [{"name": "app", "image": "flotilla/busybox:1", "cpu": 128, "memory": 64,
            "essential": true, "environment": [{"name": "TOKEN", "value": "plain"}], "secrets": [\(entries)]}]}
        """
}

@Suite("Task secrets: resolved for the agent that runs the task, nowhere else", .timeLimit(.minutes(10)))
struct TaskSecretDeliveryTests {
    @Test(
        "The poll of the task's instance carries the values; DescribeTasks and DescribeTaskDefinition only the references"
    )
    func delivered() async throws {
        try await withControlPlane { client in
            // Given: a parameter, a JSON secret, and a task definition reading both (a JSON key of the secret)
            try await client.createCluster()
            try await client.ssmOK(
                "PutParameter", #"{"Name": "/app/token", "Value": "tok-123-value", "Type": "SecureString"}"#)
            let secret = try await client.secretsOK(
                "CreateSecret", #"{"Name": "db", "SecretString": "{\"password\": \"pw-456-value\", \"port\": 5432}"}"#)
            let arn = try #require(secret["ARN"]?.stringValue)
            try await client.ok(
                "RegisterTaskDefinition",
                secretTaskDefinition(secrets: [
                    ("TOKEN", "/app/token"), ("DB_PASSWORD", "\(arn):password::"),
                    ("DB_PORT", "\(arn):port:AWSCURRENT:"),
                    ("DB_JSON", arn),
                ]))
            let host = try await client.registerAgent(hostname: "host-a")
            let other = try await client.registerAgent(hostname: "host-b")
            let started = try await client.ok(
                "StartTask", #"{"taskDefinition": "sec", "containerInstances": ["\#(host.arn)"]}"#)
            let taskArn = try #require(started["tasks"]?[0]?["taskArn"]?.stringValue)
            // When
            let poll = try await client.agentOK(
                "PollDesiredTasks", pollBody(host.arn, index: 0, wait: 0), as: host.credential)
            // Then: the values, by container and variable
            let environment = poll["tasks"]?[0]?["secretEnvironment"]?["app"]
            #expect(environment?["TOKEN"]?.stringValue == "tok-123-value")
            #expect(environment?["DB_PASSWORD"]?.stringValue == "pw-456-value")
            #expect(environment?["DB_PORT"]?.stringValue == "5432")
            #expect(environment?["DB_JSON"]?.stringValue == #"{"password": "pw-456-value", "port": 5432}"#)
            // The other instance's poll has none of it
            let elsewhere = try await client.agentOK(
                "PollDesiredTasks", pollBody(other.arn, index: 0, wait: 0), as: other.credential)
            #expect(elsewhere["tasks"]?.arrayValue?.isEmpty == true)
            // Describe* show references only
            for answer in [
                try await client.ok("DescribeTasks", #"{"tasks": ["\#(taskArn)"]}"#),
                try await client.ok("DescribeTaskDefinition", #"{"taskDefinition": "sec"}"#),
                try await client.ok("ListTasks", "{}"),
            ] {
                let text = String(decoding: try JSONEncoder().encode(answer), as: UTF8.self)
                #expect(!text.contains("tok-123-value"))
                #expect(!text.contains("pw-456-value"))
            }
            let definition = try await client.ok("DescribeTaskDefinition", #"{"taskDefinition": "sec"}"#)
            #expect(
                definition["taskDefinition"]?["containerDefinitions"]?[0]?["secrets"]?[0]?["valueFrom"]?.stringValue
                    == "/app/token")
        }
    }

    @Test(
        "A missing parameter or secret stops the task with ECS's ResourceInitializationError and TaskFailedToStart",
        arguments: [
            ("/app/missing", "unable to retrieve secrets from ssm", "invalid parameters: /app/missing"),
            (
                "arn:aws:secretsmanager:us-east-1:000000000000:secret:nope-AbCdEf",
                "unable to retrieve secret from asm",
                "ResourceNotFoundException: Secrets Manager can't find the specified secret."
            ),
            ("EXISTING:nokey::", "unable to retrieve secret from asm", "did not contain json key nokey"),
        ])
    func missing(valueFrom: String, source: String, detail: String) async throws {
        try await withControlPlane { client in
            try await client.createCluster()
            let secret = try await client.secretsOK("CreateSecret", #"{"Name": "present", "SecretString": "{}"}"#)
            let arn = try #require(secret["ARN"]?.stringValue)
            let reference = valueFrom.replacingOccurrences(of: "EXISTING", with: arn)
            try await client.ok("RegisterTaskDefinition", secretTaskDefinition(secrets: [("X", reference)]))
            let host = try await client.registerAgent()
            let started = try await client.ok(
                "StartTask", #"{"taskDefinition": "sec", "containerInstances": ["\#(host.arn)"]}"#)
            let taskArn = try #require(started["tasks"]?[0]?["taskArn"]?.stringValue)
            // When
            let poll = try await client.agentOK(
                "PollDesiredTasks", pollBody(host.arn, index: 0, wait: 0), as: host.credential)
            // Then: the agent never gets it; it is STOPPED as ECS stops it
            #expect(poll["tasks"]?.arrayValue?.isEmpty == true)
            let task = try await client.ok("DescribeTasks", #"{"tasks": ["\#(taskArn)"]}"#)["tasks"]?[0]
            #expect(task?["lastStatus"]?.stringValue == "STOPPED")
            #expect(task?["desiredStatus"]?.stringValue == "STOPPED")
            #expect(task?["stopCode"]?.stringValue == "TaskFailedToStart")
            let reason = try #require(task?["stoppedReason"]?.stringValue)
            #expect(
                reason.hasPrefix(
                    "ResourceInitializationError: unable to pull secrets or registry auth: execution resource "
                        + "retrieval failed: \(source)"))
            #expect(reason.contains(detail))
        }
    }
}
