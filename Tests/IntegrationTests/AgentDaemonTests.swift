import ECSVocabulary
import FlotillaTestKit
import Foundation
import TaskDefinitions
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The real `ecs-agent` daemon against the real `ecs-control-plane`: join, dispatch, reports, stop, kill -9 and
/// re-adoption, graceful shutdown. Root only (namespaces, cgroups, nftables); traffic only on loopback.
@Suite("ecs-agent daemon on real processes", .enabled(if: getuid() == 0), .serialized, .timeLimit(.minutes(10)))
struct AgentDaemonTests {
    static let webDefinition = ControlPlaneProcess.repositoryRoot.appendingPathComponent("examples/taskdefs/web.json")

    @Test func aWrongJoinTokenIsRefusedAndTheAgentExitsNonZero() async throws {
        // Given a control plane whose join tokens are not the agent's
        let plane = try await AgentDaemonControlPlane.start()
        // (with the right CA hash after it, so the agent trusts the control plane and sends it)
        try await expectRefusal(
            of: String(repeating: "0", count: 64) + "." + TestPKI.caCertHash, by: plane, instancesAfter: 0)
    }

    @Test func aJoinTokenNamingAnotherCAIsNotSentAndTheAgentExitsNonZero() async throws {
        // Given a valid join token whose CA hash is not the control plane's CA's
        let plane = try await AgentDaemonControlPlane.start()
        let token = try await plane.joinToken()
        #expect(token.hasSuffix("." + TestPKI.caCertHash), "\(token)")
        let secretPart = try #require(token.components(separatedBy: ".sha256:").first)
        let agent = try AgentDaemonProcess(
            endpoint: plane.process.endpoint, joinToken: secretPart + ".sha256:" + String(repeating: "ab", count: 32))
        try await plane.run(agent) {
            // When the agent starts
            try agent.start()
            let status = await agent.waitForExit(within: .seconds(60))
            // Then it refuses the control plane with one clear line, registers nothing and stores no CA
            #expect(status != nil && status != 0)
            #expect(agent.log.contains("the control plane is not the one the join token names"), "\(agent.log)")
            let instances = try await plane.ecs("ListContainerInstances", #"{"cluster": "default"}"#)
            #expect(instances["containerInstanceArns"]?.arrayValue?.count == 0)
            #expect(!FileManager.default.fileExists(atPath: agent.dataDirectory + "/agent/control-plane-ca.pem"))
        }
    }

    @Test func aUsedUpJoinTokenIsRefusedAndTheAgentExitsNonZero() async throws {
        // Given a one-use token another host has already joined with
        let plane = try await AgentDaemonControlPlane.start()
        let (_, made) = try await plane.process.post(
            TargetPrefix.agent.target("CreateJoinToken"), #"{"cluster": "default", "uses": 1}"#)
        let token = try #require(try JSONDecoder().decode(JSONValue.self, from: made)["joinToken"]?.stringValue)
        let (first, _) = try await plane.process.post(
            TargetPrefix.agent.target("Register"),
            #"{"joinToken": "\#(token)", "hostname": "first", "resources": {"cpu": 1024, "memory": 1024}}"#, as: nil)
        #expect(first == 200)
        try await expectRefusal(of: token, by: plane, instancesAfter: 1)
    }

    /// Starts a real agent with `token` and expects the running control plane to refuse it: the agent exits non-zero
    /// with one clear line and registers nothing (the cluster still has `instancesAfter` instances). Stops both.
    private func expectRefusal(
        of token: String, by plane: AgentDaemonControlPlane, instancesAfter: Int
    ) async throws {
        let agent = try AgentDaemonProcess(endpoint: plane.process.endpoint, joinToken: token)
        try await plane.run(agent) {
            // When the agent starts
            try agent.start()
            let status = await agent.waitForExit(within: .seconds(60))
            // Then it exits non-zero with one clear line, and no instance registered
            #expect(status != nil && status != 0)
            #expect(agent.log.contains("ecs-agent: the control plane refused the join token for cluster default"))
            let instances = try await plane.ecs("ListContainerInstances", #"{"cluster": "default"}"#)
            #expect(instances["containerInstanceArns"]?.arrayValue?.count == instancesAfter)
        }
    }

    @Test func theAgentRotatesItsInstanceCredentialAndKeepsWorking() async throws {
        // Given instance credentials that live 15 s (the agent asks for the next one two thirds in)
        let plane = try await AgentDaemonControlPlane.start(arguments: ["--instance-credential-ttl", "15s"])
        let agent = try AgentDaemonProcess(endpoint: plane.process.endpoint, joinToken: try await plane.joinToken())
        try await plane.run(agent) {
            try await agent.importBusybox()
            try agent.start()
            #expect(try await agent.waitForLog("container instance registered"), "\(agent.log)")
            // (over TLS, having verified the control plane by the token's CA hash and kept that CA, 0600)
            #expect(agent.log.contains("control plane CA verified by the join token's hash"))
            let storedCA = agent.dataDirectory + "/agent/control-plane-ca.pem"
            let attributes = try FileManager.default.attributesOfItem(atPath: storedCA)
            #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
            func instanceKeys() async throws -> [String] {
                let keys = try await plane.process.post(TargetPrefix.flotilla.target("ListAccessKeys"), "{}")
                let listed = try JSONDecoder().decode(JSONValue.self, from: keys.body)["accessKeys"]?.arrayValue ?? []
                return listed.filter { $0["containerInstanceArn"] != nil }.compactMap { $0["accessKeyId"]?.stringValue }
            }
            let first = try #require(try await instanceKeys().first)
            // When its credential is two thirds through its life, the agent rotates it
            #expect(try await agent.waitForLog("instance credential rotated"), "\(agent.log)")
            #expect(try await instanceKeys().contains { $0 != first })
            // Then it keeps working signed with the new one: a task run now is started and reported RUNNING
            let definition = try String(contentsOf: Self.webDefinition, encoding: .utf8)
            _ = try await plane.ecs("RegisterTaskDefinition", definition)
            let taskArn = try await plane.runTask("web")
            let running = try #require(try await plane.waitForTask(taskArn, lastStatus: "RUNNING"))
            #expect(running["lastStatus"]?.stringValue == "RUNNING", "\(running)\n\(agent.log)")
            // And the identity file keeps only the new credential, 0600
            let identity = try String(contentsOfFile: agent.dataDirectory + "/agent/identity.json", encoding: .utf8)
            #expect(!identity.contains(first))
            // And neither the agent's command line nor its environment (which every container's first process is
            // forked from) shows the join token
            let pid = try #require(agent.pid)
            for file in ["cmdline", "environ"] {
                let bytes = try Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/\(file)"))
                #expect(bytes.range(of: Data(agent.joinToken.utf8)) == nil, "/proc/<agent>/\(file) shows the token")
            }
        }
    }

    @Test func runStopKillRestartAndGracefulShutdownOfARealAgent() async throws {
        let plane = try await AgentDaemonControlPlane.start()
        let agent = try AgentDaemonProcess(endpoint: plane.process.endpoint, joinToken: try await plane.joinToken())
        try await plane.run(agent) {
            try await agent.importBusybox()
            // Given a running agent
            try agent.start()
            #expect(try await agent.waitForLog("container instance registered"), "\(agent.log)")

            // Then DescribeContainerInstances shows it with its resources and attributes
            let arns = try await plane.ecs("ListContainerInstances", #"{"cluster": "default"}"#)
            let instanceArn = try #require(arns["containerInstanceArns"]?[0]?.stringValue)
            let described = try await plane.ecs(
                "DescribeContainerInstances",
                #"{"cluster": "default", "containerInstances": ["\#(instanceArn)"]}"#)
            let instance = try #require(described["containerInstances"]?[0])
            #expect(instance["agentConnected"]?.boolValue == true)
            let resources = instance["registeredResources"]?.arrayValue ?? []
            let cpu = resources.first { $0["name"]?.stringValue == "CPU" }?["integerValue"]?.intValue
            #expect(cpu == 1024 * ProcessInfo.processInfo.activeProcessorCount)
            let memory = resources.first { $0["name"]?.stringValue == "MEMORY" }?["integerValue"]?.intValue ?? 0
            #expect(memory > 0)
            let attributes = Dictionary(
                (instance["attributes"]?.arrayValue ?? []).compactMap { attribute in
                    attribute["name"]?.stringValue.map { ($0, attribute["value"]?.stringValue ?? "") }
                }, uniquingKeysWith: { first, _ in first })
            #expect(attributes["ecs.os-type"] == "linux")
            #expect(attributes["ecs.availability-zone"] == "az-test-1")
            #expect(attributes["rack"] == "r7" && attributes["disk"] == "ssd")
            #expect(attributes["ecs.cpu-architecture"]?.isEmpty == false)

            // When the web task definition (busybox httpd, hostPort 0) is run
            let definition = try String(contentsOf: Self.webDefinition, encoding: .utf8)
            _ = try await plane.ecs("RegisterTaskDefinition", definition)
            let taskArn = try await plane.runTask("web")
            // Then it is RUNNING with a host port binding, and httpd answers there on loopback
            let running = try #require(try await plane.waitForTask(taskArn, lastStatus: "RUNNING"))
            #expect(running["lastStatus"]?.stringValue == "RUNNING", "\(running)\n\(agent.log)")
            let hostPort = try #require(running["containers"]?[0]?["networkBindings"]?[0]?["hostPort"]?.intValue)
            #expect(await loopbackGet(port: hostPort) == "hello from flotilla\n")
            // And the agent endpoint serves its identity, exec into the task's container (with the token
            // ExecuteCommand answers, once), metrics
            let metadata = try await agent.endpoint("GET", "/v1/metadata")
            let identity = try JSONDecoder().decode(JSONValue.self, from: Data(metadata.body.utf8))
            #expect(
                metadata.status == 200 && identity["containerInstanceArn"]?.stringValue == instanceArn, "\(metadata)")
            let taskID = try #require(taskArn.split(separator: "/").last)
            let session = try await plane.ecs(
                "ExecuteCommand",
                #"{"cluster": "default", "task": "\#(taskID)", "command": "cat", "interactive": false}"#)["session"]
            let execPath = "/v1/tasks/\(taskID)/containers/web/exec"
            #expect(session?["streamUrl"]?.stringValue?.hasSuffix(":\(agent.listenPort)\(execPath)") == true)
            let token = try #require(session?["tokenValue"]?.stringValue)
            let exec = try await agent.endpoint(
                "POST", execPath, bearer: token,
                body: #"{"command": ["cat", "/www/index.html"], "timeoutSeconds": 10}"#)
            #expect(exec.status == 200 && exec.body.contains(#""stdout":"hello from flotilla\n""#), "\(exec)")
            // And neither no token, the same token again, nor the agent's own long-lived secret opens it
            for bearer in [nil, token, try agent.endpointSecret] {
                let refused = try await agent.endpoint(
                    "POST", execPath, bearer: bearer, body: #"{"command": ["true"]}"#)
                #expect(refused.status == 401, "\(refused)")
                #expect(refused.body.contains("AccessDeniedException"))
            }
            let metrics = try await agent.endpoint("GET", "/metrics")
            #expect(metrics.body.contains("flotilla_agent_tasks"), "\(metrics.body.prefix(300))")
            let before = try #require(agent.containers.first)
            let pid = try #require(before.pid)

            // When the agent is killed -9, a container no task owns appears meanwhile, and the agent starts again
            agent.send(SIGKILL)
            _ = await agent.waitForExit()
            let orphan = try await HostCommand.runToCompletion(
                [ecsAgentBinary.path, "runtime", "run", "--detach", "--name", "orphan-1"]
                    + agent.runtimeOptions + ["flotilla/busybox:1", "sleep", "1000"])
            #expect(orphan.status == 0, "\(orphan.stderr)")
            #expect(agent.containers.count == 2)
            try agent.start()
            #expect(try await agent.waitForLog("task re-adopted"), "\(agent.log)")
            // Then the orphan is stopped and removed
            #expect(try await agent.waitForLog("orphan container removed"), "\(agent.log)")
            // Then the same container (same pid) still runs, still answers, and the task is still RUNNING
            #expect(agent.containers.map(\.pid) == [pid])
            #expect(processIsAlive(pid))
            #expect(await loopbackGet(port: hostPort) == "hello from flotilla\n")
            #expect(try await plane.task(taskArn)?["lastStatus"]?.stringValue == "RUNNING")

            // When the task is stopped
            _ = try await plane.ecs("StopTask", #"{"cluster": "default", "task": "\#(taskArn)", "reason": "done"}"#)
            let stopped = try #require(try await plane.waitForTask(taskArn, lastStatus: "STOPPED"))
            // Then it is STOPPED with its container's exit, and the container is gone
            #expect(stopped["lastStatus"]?.stringValue == "STOPPED", "\(stopped)\n\(agent.log)")
            #expect(stopped["containers"]?[0]?["lastStatus"]?.stringValue == "STOPPED")
            #expect(stopped["containers"]?[0]?["exitCode"]?.intValue != nil)
            #expect(agent.containers.isEmpty)
            #expect(!processIsAlive(pid))

            // When another task runs and the agent gets SIGTERM
            let second = try await plane.runTask("web")
            _ = try #require(try await plane.waitForTask(second, lastStatus: "RUNNING"))
            let secondPid = try #require(agent.containers.first?.pid)
            agent.send(SIGTERM)
            // Then the agent exits 0 and the container keeps running
            #expect(await agent.waitForExit() == 0)
            #expect(processIsAlive(secondPid))
            #expect(agent.containers.map(\.status) == ["running"])
        }
    }
}
