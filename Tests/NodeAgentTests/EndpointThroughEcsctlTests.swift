import FlotillaClient
import FlotillaTestKit
import ECSVocabulary
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Logging
import TaskDefinitions
import SigV4
import Testing
@testable import NodeAgent
#if canImport(Glibc)
import Glibc
#endif

/// The whole path of `ecsctl exec` and `ecsctl logs`: the built ecsctl asks the real control plane process, which
/// hands out this agent endpoint's URL and token (registered over the agent protocol), and ecsctl then talks to the
/// endpoint, which runs a real busybox container. Only the agent's task table is a fake.
@Suite(
    "ecsctl exec and logs through the control plane to an agent endpoint", .enabled(if: getuid() == 0), .serialized,
    .timeLimit(.minutes(10)))
struct EndpointThroughEcsctlTests {

    /// One agent-protocol call to the control plane process, signed with `credentials`.
    func agentCall(
        _ controlPlane: ControlPlaneProcess, _ operation: String, _ json: String,
        as credentials: AWSCredentials = TestAccessKeys.administrator
    ) async throws -> JSONValue {
        let (status, data) = try await controlPlane.post(TargetPrefix.agent.target(operation), json, as: credentials)
        let body = try JSONDecoder().decode(JSONValue.self, from: data)
        guard status == 200 else { throw HarnessFailure(String(describing: body)) }
        return body
    }

    struct HarnessFailure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    @Test func execAndLogsThroughEcsctl() async throws {
        try await RuntimeFixture.with { fixture in
            try await EndpointHarness.with(runtime: fixture.runtime) { endpoint in
                // Given a control plane, an agent registered with this endpoint, and a task RunTask placed on it
                let controlPlane = try await ControlPlaneProcess()
                defer { controlPlane.terminate() }
                _ = try await controlPlane.call("CreateCluster", #"{"clusterName": "demo"}"#)
                _ = try await controlPlane.call(
                    "RegisterTaskDefinition",
                    """
                    {"family": "box", "containerDefinitions": [{"name": "web", "image": "flotilla/busybox:1", "memory": 32}]}
                    """)
                let joinToken =
                    try await agentCall(controlPlane, "GetJoinToken", #"{"cluster": "demo"}"#)["joinToken"]?.stringValue
                    ?? ""
                let registered = try await agentCall(
                    controlPlane, "Register",
                    """
                    {"cluster": "demo", "joinToken": "\(joinToken)", "hostname": "host-a", "address": "127.0.0.1",
                     "agentEndpoint": "\(endpoint.baseURL.absoluteString)", "agentToken": "\(EndpointHarness.secret)",
                     "resources": {"cpu": 1024, "memory": 1024}}
                    """)
                let instance = registered["containerInstanceArn"]?.stringValue ?? ""
                let credential = AWSCredentials(
                    accessKeyID: registered["accessKeyId"]?.stringValue ?? "",
                    secretAccessKey: registered["credential"]?.stringValue ?? "")
                let (_, ran) = try await controlPlane.call("RunTask", #"{"cluster": "demo", "taskDefinition": "box"}"#)
                let taskArn = try #require(
                    try JSONDecoder().decode(JSONValue.self, from: ran)["tasks"]?[0]?["taskArn"]?.stringValue)
                let taskID = String(taskArn.split(separator: "/").last ?? "")
                // And the agent runs it: a container printing "first", then "second" once /tmp/go exists
                let info = try await fixture.runtime.create(
                    fixture.spec(
                        [
                            "sh", "-c",
                            "echo first; while [ ! -e /tmp/go ]; do sleep 0.1; done; echo second; exec sleep 600",
                        ]))
                try await fixture.runtime.start(info.id)
                await endpoint.directory.put(
                    task: taskID, container: "web",
                    AgentContainerHandle(containerID: info.id, running: true, logDirectory: info.directory))
                _ = try await agentCall(
                    controlPlane, "SubmitStateChanges",
                    """
                    {"cluster": "demo", "containerInstanceArn": "\(instance)",
                     "tasks": [{"taskArn": "\(taskArn)", "lastStatus": "RUNNING", "containers": [{"name": "web", "lastStatus": "RUNNING"}]}]}
                    """, as: credential)

                // When ecsctl execs a command that writes both streams and fails
                let exec = try await ecsctl(
                    [
                        "exec", "--cluster", "demo", "--task", taskID, "--",
                        "sh", "-c", "echo out; echo err >&2; exit 7",
                    ], endpoint: controlPlane.endpoint)
                // Then it prints the command's output and exits with its code
                #expect(exec.status == 7)
                #expect(exec.stdout == "out\n")
                #expect(exec.stderr == "err\n")

                // When the session ExecuteCommand answers is used twice, and the agent's secret is tried instead
                let (_, sessionData) = try await controlPlane.call(
                    "ExecuteCommand",
                    #"{"cluster": "demo", "task": "\#(taskID)", "command": "true", "interactive": false}"#)
                let session = try JSONDecoder().decode(JSONValue.self, from: sessionData)["session"]
                let execURL = try #require(session?["streamUrl"]?.stringValue.flatMap(URL.init(string:)))
                let token = try #require(session?["tokenValue"]?.stringValue)
                #expect(token != EndpointHarness.secret)
                let once = try await AgentClient().exec(
                    url: execURL, token: token, command: ["true"], timeoutSeconds: 5)
                #expect(once.exitCode == 0)
                // Then the token ran one command, and neither it again nor the secret runs another
                for bearer in [token, EndpointHarness.secret] {
                    let refused = try await endpoint.request(
                        execURL, method: "POST", authorization: .bearer(bearer), body: #"{"command": ["true"]}"#)
                    #expect(refused.status == 401, "\(refused.body)")
                }

                // When the logs are followed through ecsctl
                let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
                    "ecsctl-follow-\(UUID().uuidString)"
                ).path
                defer {
                    try? FileManager.default.removeItem(atPath: directory + ".out")
                    try? FileManager.default.removeItem(atPath: directory + ".err")
                }
                let command = Ecsctl.command(
                    ["logs", "--cluster", "demo", "--task", taskID, "--follow"], endpoint: controlPlane.endpoint)
                let follow = DaemonProcess(
                    arguments: command.arguments, environment: command.environment,
                    logFile: directory + ".out", errorFile: directory + ".err")
                try follow.start()
                defer { follow.kill9() }
                #expect(await eventually { follow.log.contains("first\n") }, "\(follow.errors)")
                // And the container prints after the request started, then stops
                let release = try await ecsctl(
                    ["exec", "--cluster", "demo", "--task", taskID, "--", "touch", "/tmp/go"],
                    endpoint: controlPlane.endpoint)
                #expect(release.status == 0, "\(release.stderr)")
                #expect(await eventually { follow.log.contains("second\n") }, "\(follow.errors)")
                _ = try await fixture.runtime.stop(info.id, timeout: .seconds(5))
                await endpoint.directory.markStopped(task: taskID, container: "web")
                // Then ecsctl printed both lines and ended by itself
                #expect(await follow.waitForExit() == 0)
                #expect(follow.log == "first\nsecond\n")

                // And the last line alone comes with --tail 1
                let tail = try await ecsctl(
                    ["logs", "--cluster", "demo", "--task", taskID, "--tail", "1"],
                    endpoint: controlPlane.endpoint)
                #expect(tail.status == 0)
                #expect(tail.stdout == "second\n")
            }
        }
    }
}
