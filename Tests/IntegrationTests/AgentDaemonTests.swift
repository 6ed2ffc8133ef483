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
@Suite("ecs-agent daemon on real processes", .enabled(if: getuid() == 0), .serialized, .timeLimit(.minutes(6)))
struct AgentDaemonTests {
    static let webDefinition = ControlPlaneProcess.repositoryRoot.appendingPathComponent("examples/taskdefs/web.json")

    @Test func aWrongJoinTokenIsRefusedAndTheAgentExitsNonZero() async throws {
        // Given a control plane whose join tokens are not the agent's
        let plane = try await AgentDaemonControlPlane.start()
        try await expectRefusal(of: String(repeating: "0", count: 64), by: plane, instancesAfter: 0)
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
        do {
            // When the agent starts
            try agent.start()
            let status = await agent.waitForExit(within: .seconds(60))
            // Then it exits non-zero with one clear line, and no instance registered
            #expect(status != nil && status != 0)
            #expect(agent.log.contains("ecs-agent: the control plane refused the join token for cluster default"))
            let instances = try await plane.ecs("ListContainerInstances", #"{"cluster": "default"}"#)
            #expect(instances["containerInstanceArns"]?.arrayValue?.count == instancesAfter)
        } catch {
            await agent.cleanUp()
            try await plane.process.stop()
            throw error
        }
        await agent.cleanUp()
        try await plane.process.stop()
    }

    @Test func runStopKillRestartAndGracefulShutdownOfARealAgent() async throws {
        let plane = try await AgentDaemonControlPlane.start()
        let agent = try AgentDaemonProcess(endpoint: plane.process.endpoint, joinToken: try await plane.joinToken())
        do {
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
            // And the agent endpoint serves its identity, exec into the task's container (with the token), metrics
            let metadata = try await agent.endpoint("GET", "/v1/metadata")
            let identity = try JSONDecoder().decode(JSONValue.self, from: Data(metadata.body.utf8))
            #expect(
                metadata.status == 200 && identity["containerInstanceArn"]?.stringValue == instanceArn, "\(metadata)")
            let taskID = try #require(taskArn.split(separator: "/").last)
            let exec = try await agent.endpoint(
                "POST", "/v1/tasks/\(taskID)/containers/web/exec", authorized: true,
                body: #"{"command": ["cat", "/www/index.html"], "timeoutSeconds": 10}"#)
            #expect(exec.status == 200 && exec.body.contains(#""stdout":"hello from flotilla\n""#), "\(exec)")
            let refused = try await agent.endpoint(
                "POST", "/v1/tasks/\(taskID)/containers/web/exec",
                body: #"{"command": ["true"]}"#)
            #expect(refused.status == 401)
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
        } catch {
            await agent.cleanUp()
            try await plane.process.stop()
            throw error
        }
        await agent.cleanUp()
        try await plane.process.stop()
    }
}
