import FlotillaTestKit
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import TaskDefinitions
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `ecsctl logs` and `ecsctl exec` against real tasks on agents in their own network namespaces: the control plane
/// hands out the agent endpoint, ecsctl talks to the agent on the host's address.
@Suite("E2E: ecsctl logs and exec on real tasks", .enabled(if: getuid() == 0), .serialized, .timeLimit(.minutes(10)))
struct E2EContainerAccessTests {
    @Test func execRunsInTheTasksContainerAndPassesTheExitCode() async throws {
        try await withE2ECluster(hosts: 2) { cluster in
            // Given web with one healthy replica
            try await cluster.createWebService(desiredCount: 1)
            let task = try #require(try await cluster.waitForSteadyService(count: 1).first)
            let page = try #require(await cluster.page(of: task))
            // When ecsctl exec reads the page inside the container
            let cat = try await ecsctl(
                [
                    "exec", "--cluster", cluster.cluster, "--task", task.taskArn, "--container", "web",
                    "--", "cat", "/www/index.html",
                ], endpoint: cluster.controlPlane.endpoint)
            // Then it prints what the replica serves, and exits 0
            #expect(cat.status == 0, "\(cat.stderr)")
            #expect(cat.stdout == page)
            // And a failing command's exit code and stderr come back
            let failing = try await ecsctl(
                [
                    "exec", "--cluster", cluster.cluster, "--task", task.taskArn, "--",
                    "sh", "-c", "echo broken >&2; exit 3",
                ], endpoint: cluster.controlPlane.endpoint)
            #expect(failing.status == 3)
            #expect(failing.stderr.contains("broken"))
            // And every agent endpoint listens on its host's advertise address alone (no --listen given), not on
            // every interface
            for agent in cluster.agents {
                let listening = try agent.host.run(["ss", "-ltnH", "sport = :\(AgentProcess.endpointPort)"])
                let addresses = listening.stdout.split(separator: "\n").compactMap {
                    $0.split(whereSeparator: \.isWhitespace).dropFirst(3).first.map(String.init)
                }
                #expect(addresses == ["\(agent.host.address):\(AgentProcess.endpointPort)"], "\(listening.stdout)")
            }
            // And a session ExecuteCommand answers runs one command: ecsctl's exec took its own, so the one asked
            // for here is refused the second time, and so is the agent's long-lived endpoint secret
            let session = try await cluster.ecs(
                "ExecuteCommand",
                ["task": task.taskArn, "container": "web", "command": "true", "interactive": false])["session"]
            let streamUrl = try #require(session?["streamUrl"]?.stringValue)
            let token = try #require(session?["tokenValue"]?.stringValue)
            let agent = try #require(cluster.agents.first { streamUrl.hasPrefix($0.endpoint + "/") })
            let identity = try JSONDecoder().decode(
                JSONValue.self,
                from: Data(contentsOf: URL(fileURLWithPath: agent.dataDirectory + "/agent/identity.json")))
            let secret = try #require(identity["agentToken"]?.stringValue)
            var statuses: [Int] = []
            for bearer in [token, token, secret] {
                var request = URLRequest(url: try #require(URL(string: streamUrl)), timeoutInterval: 20)
                request.httpMethod = "POST"
                request.httpBody = Data(#"{"command": ["true"]}"#.utf8)
                request.setValue("Bearer \(bearer)", forHTTPHeaderField: "Authorization")
                let (_, response) = try await URLSession.shared.data(for: request)
                statuses.append((response as? HTTPURLResponse)?.statusCode ?? 0)
            }
            #expect(statuses == [200, 401, 401])
        }
    }

    @Test func logsPrintAndFollowARunningTask() async throws {
        try await withE2ECluster(hosts: 2) { cluster in
            // Given worker (prints "worker tick N" every 2 s) started with RunTask
            try await cluster.registerExample("worker.json")
            let run = try await cluster.ecs("RunTask", ["taskDefinition": "worker", "count": 1])
            let taskArn = try #require(run["tasks"]?[0]?.taskArn)
            let running = try await eventually(within: .seconds(60)) {
                try await cluster.tasks().first { $0.taskArn == taskArn && $0.lastStatus == "RUNNING" }
            }
            #expect(running != nil, "worker never ran:\n\(cluster.logTails())")
            // When ecsctl logs asks for its output
            let printed = try await eventually(within: .seconds(30)) { () async throws -> String? in
                let logs = try await ecsctl(
                    ["logs", "--cluster", cluster.cluster, "--task", taskArn],
                    endpoint: cluster.controlPlane.endpoint)
                return logs.status == 0 && logs.stdout.contains("worker tick 2\n") ? logs.stdout : nil
            }
            // Then it prints the container's lines in order
            let lines = try #require(printed).split(separator: "\n")
            #expect(lines.starts(with: ["worker tick 1", "worker tick 2"]))

            // When ecsctl logs --follow runs while the task runs
            let command = Ecsctl.command(
                ["logs", "--cluster", cluster.cluster, "--task", taskArn, "--follow"],
                endpoint: cluster.controlPlane.endpoint)
            let follow = DaemonProcess(
                arguments: command.arguments, environment: command.environment,
                logFile: cluster.directory + "/follow.log")
            try follow.start()
            defer { follow.kill9() }
            // Then new lines arrive as the container prints them
            let seen = lines.count
            let grew = await eventually(within: .seconds(20)) { () -> Bool? in
                let text = (try? String(contentsOfFile: follow.logFile, encoding: .utf8)) ?? ""
                return text.contains("worker tick \(seen + 2)\n") ? true : nil
            }
            #expect(grew == true, "follow printed: \(follow.logTail())")
            // And it ends once the task is stopped
            try await cluster.ecs("StopTask", ["task": taskArn])
            #expect(
                await follow.waitForExit(within: .seconds(30)) != nil,
                "ecsctl logs --follow kept running after the task stopped")
        }
    }
}
