import FlotillaTestKit
import Foundation
import TaskDefinitions
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Issue 5's end-to-end suite: a real control plane and three real agents, each in its own network namespace as its
/// own host, running `examples/taskdefs/web.json` (busybox httpd) in real containers.
@Suite("E2E: a service on three hosts heals itself", .enabled(if: getuid() == 0), .serialized, .timeLimit(.minutes(10)))
struct E2EServiceTests {
    @Test func serviceOfSixAnswersOnEveryHostBinding() async throws {
        try await withE2ECluster { cluster in
            // Given three agents on three hosts
            // When service web asks for 6 replicas
            try await cluster.createWebService(desiredCount: 6)
            // Then 6 tasks run, healthy, each answering HTTP on <its host's address>:<hostPort>
            let tasks = try await cluster.waitForSteadyService(count: 6)
            let pages = await Set(tasks.asyncMap { await cluster.page(of: $0) ?? "" })
            #expect(pages.count == 6, "every replica serves its own page: \(pages)")
            // And the containers behind them are exactly the service's
            #expect(cluster.orphanContainers(besides: tasks).isEmpty)
            // And the service says so, in ECS's words
            let steady = try await eventually(within: .seconds(30)) {
                try await cluster.events("web").contains { $0.contains("(service web) has reached a steady state.") }
                    ? true : nil
            }
            #expect(steady == true)
            #expect(try await cluster.service("web")["runningCount"]?.intValue == 6)
        }
    }

    @Test func killedContainerIsReplacedByAHealthyOne() async throws {
        try await withE2ECluster { cluster in
            // Given web with 3 healthy replicas
            try await cluster.createWebService(desiredCount: 3)
            let before = try await cluster.waitForSteadyService(count: 3)
            let victim = try #require(cluster.container(of: before[0]))
            // When the process of one replica's container (httpd, under the container's init) is killed
            kill(try #require(victim.container.commandPID), SIGKILL)
            // Then that task stops, and a replacement runs healthy and answers, 3 in all
            let stopped = try await eventually(within: .seconds(60)) {
                try await cluster.tasks(service: "web", desiredStatus: "STOPPED").first {
                    $0.taskArn == before[0].taskArn
                }
            }
            #expect(stopped != nil, "the killed task is not STOPPED:\n\(cluster.logTails())")
            let after = try await cluster.waitForSteadyService(count: 3)
            #expect(!after.contains { $0.taskArn == before[0].taskArn })
            #expect(!cluster.runningContainers().contains { $0.container.id == victim.container.id })
        }
    }

    @Test func taskFailingItsHealthCheckIsReplaced() async throws {
        try await withE2ECluster { cluster in
            // Given web with 3 healthy replicas
            try await cluster.createWebService(desiredCount: 3)
            let before = try await cluster.waitForSteadyService(count: 3)
            let victim = try #require(cluster.container(of: before[0]))
            // When its page disappears (httpd answers 404, so `wget http://127.0.0.1/` fails; the process lives on)
            try HostCommand.check([
                "nsenter", "--target", "\(try #require(victim.container.pid))", "--mount",
                "/bin/rm", "-f", "/www/index.html",
            ])
            // Then the task turns UNHEALTHY, is stopped, and a healthy replacement takes its place
            let unhealthy = try await eventually(within: .seconds(90)) { () async throws -> JSONValue? in
                if let stopped = try await cluster.tasks(service: "web", desiredStatus: "STOPPED")
                    .first(where: { $0.taskArn == before[0].taskArn })
                {
                    return stopped
                }
                return try await cluster.tasks(service: "web")
                    .first { $0.taskArn == before[0].taskArn && $0.healthStatus == "UNHEALTHY" }
            }
            #expect(unhealthy != nil, "the failing task never turned UNHEALTHY:\n\(cluster.logTails())")
            let after = try await cluster.waitForSteadyService(count: 3, timeout: .seconds(150))
            #expect(!after.contains { $0.taskArn == before[0].taskArn })
        }
    }

    @Test func killedAgentRestartsAndReadoptsItsContainers() async throws {
        try await withE2ECluster { cluster in
            // Given web with 6 healthy replicas
            try await cluster.createWebService(desiredCount: 6)
            let tasks = try await cluster.waitForSteadyService(count: 6)
            let agent = try #require(cluster.agents.first { !$0.runningContainers().isEmpty })
            let containersBefore = agent.runningContainers()
            // When its agent is killed with SIGKILL and started again
            agent.daemon.kill9()
            try agent.start()
            // Then the instance reconnects, and the same containers (same ids, same pids) still run
            try await cluster.waitForInstances()
            #expect(agent.runningContainers() == containersBefore)
            // And the service kept its 6 tasks, the same ones, all answering
            let after = try await cluster.waitForSteadyService(count: 6)
            #expect(Set(after.map(\.taskArn)) == Set(tasks.map(\.taskArn)))
            // And the agent supervises them again: StopTask on one removes its container
            let adopted = try #require(
                tasks.first { task in containersBefore.contains { $0.belongs(toTask: task.taskArn) } })
            try await cluster.ecs("StopTask", ["task": adopted.taskArn, "reason": "e2e: re-adoption"])
            let gone = await eventually(within: .seconds(60)) {
                agent.runningContainers().contains { $0.belongs(toTask: adopted.taskArn) } ? nil : true
            }
            #expect(gone == true, "the re-adopted container was not stopped:\n\(agent.daemon.logTail())")
        }
    }

    @Test func hostCutOffPastTheGracePeriodHasItsTasksReplacedAndItsSurplusStopped() async throws {
        try await withE2ECluster(agentGracePeriod: "5s") { cluster in
            // Given web with 6 healthy replicas and a host running some of them
            try await cluster.createWebService(desiredCount: 6)
            try await cluster.waitForSteadyService(count: 6)
            let lost = try #require(cluster.agents.first { !$0.runningContainers().isEmpty })
            // When that host is cut off from the network for longer than the 5 s grace period
            try lost.host.cutOff()
            // Then its instance is disconnected and 6 healthy tasks answer from the other hosts
            let disconnected = try await eventually(within: .seconds(60)) {
                try await cluster.containerInstances().contains { $0["agentConnected"]?.boolValue == false }
                    ? true : nil
            }
            #expect(disconnected == true, "the cut-off instance stayed connected:\n\(cluster.logTails())")
            let moved = try await eventually(within: .seconds(120), every: .milliseconds(500)) {
                () async throws -> [JSONValue]? in
                let healthy = try await cluster.healthyTasks()
                let elsewhere = healthy.filter { task in
                    !lost.runningContainers().contains { $0.belongs(toTask: task.taskArn) }
                }
                return elsewhere.count >= 6 ? elsewhere : nil
            }
            #expect(moved != nil, "the lost host's tasks were not replaced elsewhere:\n\(cluster.logTails())")
            // When the host comes back
            try lost.host.reconnect()
            try await cluster.waitForInstances()
            // Then its surplus containers are stopped: exactly 6 run in the whole cluster, none orphaned
            let settled = try await eventually(within: .seconds(90), every: .milliseconds(500)) {
                () async throws -> [JSONValue]? in
                let running = try await cluster.tasks(service: "web").filter { $0.lastStatus == "RUNNING" }
                return running.count == 6 && cluster.runningContainers().count == 6
                    && cluster.orphanContainers(besides: running).isEmpty ? running : nil
            }
            #expect(settled != nil, "surplus tasks remained after the host returned:\n\(cluster.logTails())")
        }
    }

    @Test func controlPlaneKilledDuringScaleUpEndsWithExactlyTwelveAndNoOrphans() async throws {
        try await withE2ECluster { cluster in
            // Given web with 6 healthy replicas
            try await cluster.createWebService(desiredCount: 6)
            try await cluster.waitForSteadyService(count: 6)
            // When it is scaled to 12 and the control plane is killed with SIGKILL while the new tasks start
            try await cluster.ecs("UpdateService", ["service": "web", "desiredCount": 12])
            let midway = try await eventually(within: .seconds(60), every: .milliseconds(50)) {
                let count = try await cluster.tasks(service: "web").count
                return count > 6 ? count : nil
            }
            #expect(midway != nil)
            cluster.controlPlane.daemon.kill9()
            // And started again on the same store
            try await cluster.controlPlane.restart()
            // Then exactly 12 tasks run healthy and answer, and every running container on every host is one of them
            let tasks = try await cluster.waitForSteadyService(count: 12, timeout: .seconds(180))
            let settled = await eventually(within: .seconds(60)) {
                cluster.runningContainers().count == 12 && cluster.orphanContainers(besides: tasks).isEmpty ? true : nil
            }
            #expect(
                settled == true,
                "containers besides the 12 tasks: \(cluster.orphanContainers(besides: tasks).map(\.spec.name))")
            // And it stays at 12 over the next reconciler passes (counted on /metrics, not timed)
            for _ in 0..<3 {
                #expect(await cluster.controlPlane.reconcilerPasses(1))
                #expect(try await cluster.tasks(service: "web").filter { $0.lastStatus == "RUNNING" }.count == 12)
            }
            #expect(cluster.runningContainers().count == 12)
        }
    }

    @Test func drainedInstanceMovesItsTasksWithoutDroppingBelowMinimumHealthyPercent() async throws {
        try await withE2ECluster { cluster in
            // Given web with 6 healthy replicas and minimumHealthyPercent 50
            try await cluster.createWebService(desiredCount: 6, minimumHealthyPercent: 50)
            try await cluster.waitForSteadyService(count: 6)
            let instances = try await cluster.containerInstances()
            let drained = try #require(
                instances.first { instance in
                    let arn = instance["containerInstanceArn"]?.stringValue ?? ""
                    return !(cluster.agent(ofInstance: arn, in: instances)?.runningContainers().isEmpty ?? true)
                })
            let drainedArn = try #require(drained["containerInstanceArn"]?.stringValue)
            // When that instance is set to DRAINING
            try await cluster.ecs(
                "UpdateContainerInstancesState", ["containerInstances": [drainedArn], "status": "DRAINING"])
            // Then, sampled while the tasks move, at least 3 (50 % of 6) stay healthy, until none runs on it
            var lowest = 6
            let moved = try await eventually(within: .seconds(150), every: .milliseconds(250)) {
                () async throws -> Bool? in
                let healthy = try await cluster.healthyTasks()
                lowest = min(lowest, healthy.count)
                let onDrained = try await cluster.tasks(service: "web").filter {
                    $0["containerInstanceArn"]?.stringValue == drainedArn
                }
                return onDrained.isEmpty && healthy.count == 6 ? true : nil
            }
            #expect(moved == true, "tasks stayed on the draining instance:\n\(cluster.logTails())")
            #expect(lowest >= 3, "the service dropped to \(lowest) healthy tasks")
            let tasks = try await cluster.waitForSteadyService(count: 6)
            #expect(!tasks.contains { $0["containerInstanceArn"]?.stringValue == drainedArn })
            #expect(cluster.agent(ofInstance: drainedArn, in: instances)?.runningContainers().isEmpty == true)
        }
    }

    @Test func taskDefinitionThatFitsNowhereProducesTheECSEvent() async throws {
        try await withE2ECluster { cluster in
            // Given a web task definition asking for a million MiB of memory
            try await cluster.registerExample("web.json") { definition in
                definition["family"] = "huge"
                var containers = definition["containerDefinitions"] as! [[String: Any]]
                containers[0]["memory"] = 1_000_000
                definition["containerDefinitions"] = containers
            }
            // When a service of it is created
            try await cluster.ecs(
                "CreateService", ["serviceName": "huge", "taskDefinition": "huge", "desiredCount": 1])
            // Then the service event says why in ECS's words, and nothing runs
            let event = try await eventually(within: .seconds(60)) {
                try await cluster.events("huge").first {
                    $0.contains(
                        "(service huge) was unable to place a task because no container instance met all of its requirements."
                    )
                }
            }
            let message = try #require(event, "no placement event:\n\(cluster.logTails())")
            #expect(message.contains("insufficient memory available"))
            #expect(try await cluster.tasks(service: "huge").isEmpty)
            // And the control plane keeps serving
            #expect(await cluster.controlPlane.isHealthy())
        }
    }
}

extension Sequence {
    /// `map` with an async transform, in order.
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}
