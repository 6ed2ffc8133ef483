import ControlPlane
import FlotillaTestKit
import Foundation
import TaskDefinitions
import Testing

@Suite("Reconciler: services reach and keep their desired count", .timeLimit(.minutes(10)))
struct ReconcilerTests {
    @Test("A service of 6 on 3 instances: tasks created as ECS does, 6 RUNNING spread 2 per instance, steady state")
    func serviceComesUp() async throws {
        try await withReconciler { cp in
            // Given
            let instances = try await cp.registerHosts(3)
            try await cp.createWebService(desiredCount: 6)
            // When: one pass
            let summary = await cp.reconciler.reconcileOnce()
            // Then: 6 tasks, as ECS writes service tasks
            #expect(summary.placements == 6)
            let service = try await cp.service()
            let deploymentID = try #require(service["deployments"]?[0]?["id"]?.stringValue)
            let created = try await cp.tasks()
            #expect(created.count == 6)
            for task in created {
                #expect(task["group"]?.stringValue == "service:web")
                #expect(task["startedBy"]?.stringValue == deploymentID)
                #expect(task["desiredStatus"]?.stringValue == "RUNNING")
                #expect(task["lastStatus"]?.stringValue == "PROVISIONING")
                #expect(task["launchType"]?.stringValue == "EC2")
                #expect(task["containers"]?[0]?["name"]?.stringValue == "web")
                #expect(instances.contains(task["containerInstanceArn"]?.stringValue ?? ""))
            }
            #expect(try await cp.service()["pendingCount"]?.intValue == 6)
            // When: the agents start them
            let settled = try await cp.converge { try await cp.isSteady(running: 6) }
            // Then
            #expect(settled)
            let running = try await cp.runningTasks()
            let perInstance = Dictionary(grouping: running) { $0["containerInstanceArn"]?.stringValue ?? "" }.mapValues(
                \.count)
            #expect(perInstance == Dictionary(uniqueKeysWithValues: instances.map { ($0, 2) }))
            let described = try await cp.service()
            #expect(described["runningCount"]?.intValue == 6)
            #expect(described["pendingCount"]?.intValue == 0)
            #expect(described["deployments"]?.arrayValue?.count == 1)
            #expect(described["deployments"]?[0]?["runningCount"]?.intValue == 6)
            #expect(described["deployments"]?[0]?["rolloutState"]?.stringValue == "COMPLETED")
            let events = try await cp.events()
            #expect(events.first == "(service web) has reached a steady state.")
            let started = try #require(events.first { $0.hasPrefix("(service web) has started 6 tasks:") })
            for task in created { #expect(started.contains("(task \(task.taskID))")) }
            // And: a settled service gets no more events and no more tasks, pass after pass
            for _ in 0..<3 { try await cp.round() }
            #expect(try await cp.events() == events)
            #expect(try await cp.tasks().count == 6)
            // And: instances show what the tasks use
            let instance = try await cp.client.ok(
                "DescribeContainerInstances", #"{"containerInstances": ["\#(instances[0])"]}"#)["containerInstances"]?[
                    0]
            #expect(instance?["runningTasksCount"]?.intValue == 2)
            #expect(instance?["pendingTasksCount"]?.intValue == 0)
            let remaining = instance?["remainingResources"]?.arrayValue ?? []
            #expect(remaining.first { $0["name"]?.stringValue == "CPU" }?["integerValue"]?.intValue == 2048 - 256)
            #expect(remaining.first { $0["name"]?.stringValue == "MEMORY" }?["integerValue"]?.intValue == 4096 - 128)
        }
    }

    @Test("A task whose essential container exits is replaced; the stopped one keeps its exit")
    func exitedTaskIsReplaced() async throws {
        try await withReconciler { cp in
            // Given
            _ = try await cp.registerHosts(3)
            try await cp.createWebService(desiredCount: 6)
            try #require(try await cp.converge { try await cp.runningTasks().count == 6 })
            let victim = try #require(try await cp.runningTasks().first?["taskArn"]?.stringValue)
            // When
            await cp.fleet.kill(victim)
            try await cp.fleet.sync()
            let summary = await cp.reconciler.reconcileOnce()
            // Then
            #expect(summary.placements == 1)
            try #require(try await cp.converge { try await cp.runningTasks().count == 6 })
            let all = try await cp.tasks()
            #expect(all.count == 7)
            let stopped = try #require(all.first { $0["taskArn"]?.stringValue == victim })
            #expect(stopped["lastStatus"]?.stringValue == "STOPPED")
            #expect(stopped["stopCode"]?.stringValue == "EssentialContainerExited")
            #expect(try await cp.service()["deployments"]?[0]?["failedTasks"]?.intValue == 1)
            #expect(try await cp.events().contains { $0.hasPrefix("(service web) has started 1 tasks:") })
        }
    }

    @Test("An UNHEALTHY task is left alone during the grace period, then stopped and replaced")
    func unhealthyAfterGrace() async throws {
        try await withReconciler { cp in
            // Given: a 60 s grace period
            _ = try await cp.registerHosts(3)
            try await cp.createWebService(
                desiredCount: 3, healthCheck: true, extra: #", "healthCheckGracePeriodSeconds": 60"#)
            try #require(try await cp.converge { try await cp.runningTasks().count == 3 })
            #expect(try await cp.runningTasks().allSatisfy { $0["healthStatus"]?.stringValue == "HEALTHY" })
            let sick = try #require(try await cp.runningTasks().first?["taskArn"]?.stringValue)
            // When: its health check fails 30 s after it started
            cp.clock.advance(seconds: 30)
            await cp.fleet.setHealth(sick, "UNHEALTHY")
            try await cp.fleet.sync()
            for _ in 0..<3 { try await cp.round() }
            // Then: still inside the grace period, nothing happens
            let during = try #require(try await cp.tasks().first { $0["taskArn"]?.stringValue == sick })
            #expect(during["healthStatus"]?.stringValue == "UNHEALTHY")
            #expect(during["desiredStatus"]?.stringValue == "RUNNING")
            #expect(try await cp.tasks().count == 3)
            // When: the grace period ends
            cp.clock.advance(seconds: 31)
            try #require(
                try await cp.converge {
                    try await cp.runningTasks().filter { $0["healthStatus"]?.stringValue == "HEALTHY" }.count == 3
                })
            // Then
            let after = try #require(try await cp.tasks().first { $0["taskArn"]?.stringValue == sick })
            #expect(after["desiredStatus"]?.stringValue == "STOPPED")
            #expect(after["stoppedReason"]?.stringValue == "Task failed container health checks")
            #expect(after["stopCode"]?.stringValue == "ServiceSchedulerInitiated")
            #expect(try await cp.tasks().count == 4)
            #expect(
                try await cp.events().contains {
                    $0.hasPrefix("(service web) has stopped 1 running tasks: (task \(after.taskID))")
                })
        }
    }

    @Test("Scale 6 → 12 → 3: exact counts, spread kept, scale-in stops the surplus")
    func scaling() async throws {
        try await withReconciler { cp in
            // Given
            let instances = try await cp.registerHosts(3)
            try await cp.createWebService(desiredCount: 6)
            try #require(try await cp.converge { try await cp.runningTasks().count == 6 })
            // When
            try await cp.client.ok("UpdateService", #"{"service": "web", "desiredCount": 12}"#)
            try #require(try await cp.converge { try await cp.runningTasks().count == 12 })
            // Then
            var perInstance = Dictionary(grouping: try await cp.runningTasks()) {
                $0["containerInstanceArn"]?.stringValue ?? ""
            }.mapValues(\.count)
            #expect(perInstance == Dictionary(uniqueKeysWithValues: instances.map { ($0, 4) }))
            #expect(try await cp.tasks().count == 12)
            // When
            try await cp.client.ok("UpdateService", #"{"service": "web", "desiredCount": 3}"#)
            let settled = try await cp.converge {
                try await cp.isSteady(running: 3)
            }
            // Then
            #expect(settled)
            perInstance = Dictionary(grouping: try await cp.runningTasks()) {
                $0["containerInstanceArn"]?.stringValue ?? ""
            }.mapValues(\.count)
            #expect(perInstance == Dictionary(uniqueKeysWithValues: instances.map { ($0, 1) }))
            let stopped = try await cp.tasks().filter { $0["desiredStatus"]?.stringValue == "STOPPED" }
            #expect(stopped.count == 9)
            #expect(
                stopped.allSatisfy {
                    $0["lastStatus"]?.stringValue == "STOPPED"
                        && $0["stopCode"]?.stringValue == "ServiceSchedulerInitiated"
                })
            let deploymentID = try #require(try await cp.service()["deployments"]?[0]?["id"]?.stringValue)
            #expect(
                stopped.allSatisfy {
                    $0["stoppedReason"]?.stringValue == "Scaling activity initiated by (deployment \(deploymentID))"
                })
            #expect(await cp.fleet.runningTasks().values.map(\.count).reduce(0, +) == 3)
            #expect(try await cp.events().contains { $0.hasPrefix("(service web) has stopped 9 running tasks:") })
        }
    }

    @Test("A silent agent's tasks run elsewhere; when it returns, its old tasks are desired STOPPED and it stops them")
    func lostAgent() async throws {
        try await withReconciler { cp in
            // Given
            let instances = try await cp.registerHosts(3)
            try await cp.createWebService(desiredCount: 6)
            try #require(try await cp.converge { try await cp.runningTasks().count == 6 })
            let lost = try await cp.runningTasks().filter { $0["containerInstanceArn"]?.stringValue == instances[2] }
                .compactMap { $0["taskArn"]?.stringValue }
            #expect(lost.count == 2)
            // When: host-c goes silent past the 30 s grace period while the others keep talking
            await cp.fleet.setSilent("host-c", true)
            cp.clock.advance(seconds: 31)
            try await cp.fleet.sync()
            #expect(await cp.monitor.checkOnce() == [instances[2]])
            try #require(
                try await cp.converge {
                    try await cp.runningTasks().filter { !lost.contains($0["taskArn"]?.stringValue ?? "") }.count == 6
                })
            // Then: 6 run on a and b, the lost ones are desired STOPPED with ECS's reason
            let all = try await cp.tasks()
            for arn in lost {
                let task = try #require(all.first { $0["taskArn"]?.stringValue == arn })
                #expect(task["desiredStatus"]?.stringValue == "STOPPED")
                #expect(
                    task["stoppedReason"]?.stringValue
                        == "Task stopped because the container instance agent is disconnected")
            }
            let live = all.filter { $0["desiredStatus"]?.stringValue == "RUNNING" }
            #expect(live.count == 6)
            #expect(live.allSatisfy { $0["containerInstanceArn"]?.stringValue != instances[2] })
            // When: host-c comes back
            await cp.fleet.setSilent("host-c", false)
            try await cp.round()
            try await cp.round()
            // Then: it stopped its old tasks; nothing is duplicated
            #expect(await cp.fleet.runningTasks()["host-c"] == [])
            let final = try await cp.tasks()
            #expect(
                final.filter { lost.contains($0["taskArn"]?.stringValue ?? "") }.allSatisfy {
                    $0["lastStatus"]?.stringValue == "STOPPED"
                })
            #expect(try await cp.runningTasks().count == 6)
            #expect(final.count == 8)
        }
    }

    @Test(
        "Draining an instance moves its tasks without going below minimumHealthyPercent at any applied plan",
        arguments: [(100, 200), (50, 100)])
    func draining(minimumHealthyPercent: Int, maximumPercent: Int) async throws {
        try await withReconciler { cp in
            // Given
            let instances = try await cp.registerHosts(3)
            try await cp.createWebService(
                desiredCount: 6,
                extra:
                    #", "deploymentConfiguration": {"minimumHealthyPercent": \#(minimumHealthyPercent), "maximumPercent": \#(maximumPercent)}"#
            )
            try #require(try await cp.converge { try await cp.runningTasks().count == 6 })
            // When
            try await cp.client.ok(
                "UpdateContainerInstancesState", #"{"containerInstances": ["\#(instances[0])"], "status": "DRAINING"}"#)
            // Then: after every pass, the healthy tasks still wanted stay at or above the minimum, live ones within the maximum
            let minimum = (6 * minimumHealthyPercent + 99) / 100
            var moved = false
            for _ in 0..<12 {
                await cp.reconciler.reconcileOnce()
                let all = try await cp.tasks()
                let wanted = all.filter { $0["desiredStatus"]?.stringValue == "RUNNING" }
                #expect(wanted.filter { $0["lastStatus"]?.stringValue == "RUNNING" }.count >= minimum)
                #expect(wanted.count <= 6 * maximumPercent / 100)
                try await cp.fleet.sync()
                let running = try await cp.runningTasks()
                if running.count == 6, running.allSatisfy({ $0["containerInstanceArn"]?.stringValue != instances[0] }) {
                    moved = true
                    break
                }
            }
            #expect(moved)
            let stopped = try await cp.tasks().filter { $0["desiredStatus"]?.stringValue == "STOPPED" }
            #expect(stopped.count == 2)
            #expect(
                stopped.allSatisfy {
                    $0["stoppedReason"]?.stringValue
                        == "Service tasks on the container instance are being replaced because the instance is DRAINING"
                })
        }
    }

    @Test("A task definition that fits nowhere: ECS's event once, no task, no crash; it places once an instance fits")
    func unplaceable() async throws {
        try await withReconciler { cp in
            // Given
            let instances = try await cp.registerHosts(2)
            try await cp.client.ok("RegisterTaskDefinition", webDefinition(family: "huge", memory: 100_000))
            try await cp.client.ok(
                "CreateService", #"{"serviceName": "huge", "taskDefinition": "huge", "desiredCount": 1}"#)
            // When
            for _ in 0..<3 { try await cp.round() }
            // Then
            let events = try await cp.events("huge")
            let unable = events.filter {
                $0.contains("was unable to place a task because no container instance met all of its requirements.")
            }
            #expect(unable.count == 1)
            #expect(unable.first?.hasPrefix("(service huge) was unable to place a task") == true)
            let quoted = instances.map {
                "The closest matching (container-instance \($0.split(separator: "/").last ?? "")) has insufficient memory available."
            }
            #expect(quoted.contains { unable.first?.contains($0) == true })
            #expect(unable.first?.contains("For more information, see the Troubleshooting section") == true)
            #expect(try await cp.tasks().isEmpty)
            // When: an instance that fits joins
            try await cp.fleet.register("big", memory: 200_000)
            // Then
            #expect(try await cp.converge { try await cp.isSteady(running: 1, service: "huge") })
        }
    }

    @Test("DeleteService: DRAINING while its tasks stop, INACTIVE once they have")
    func deleteService() async throws {
        try await withReconciler { cp in
            _ = try await cp.registerHosts(2)
            try await cp.createWebService(desiredCount: 2)
            try #require(try await cp.converge { try await cp.runningTasks().count == 2 })
            // When
            let reply = try await cp.client.ok("DeleteService", #"{"service": "web", "force": true}"#)
            // Then
            #expect(reply["service"]?["status"]?.stringValue == "DRAINING")
            #expect(try await cp.service()["status"]?.stringValue == "DRAINING")
            try #require(try await cp.converge { try await cp.service()["status"]?.stringValue == "INACTIVE" })
            #expect(try await cp.tasks().allSatisfy { $0["lastStatus"]?.stringValue == "STOPPED" })
            #expect(await cp.fleet.runningTasks().values.allSatisfy(\.isEmpty))
        }
    }

    @Test("A DAEMON service runs one task on every instance, including one that joins later")
    func daemon() async throws {
        try await withReconciler { cp in
            // Given
            let instances = try await cp.registerHosts(3)
            try await cp.client.ok("RegisterTaskDefinition", webDefinition())
            try await cp.client.ok(
                "CreateService", #"{"serviceName": "web", "taskDefinition": "web", "schedulingStrategy": "DAEMON"}"#)
            // When
            try #require(try await cp.converge { try await cp.runningTasks().count == 3 })
            // Then
            var hosts = try await cp.runningTasks().compactMap { $0["containerInstanceArn"]?.stringValue }
            #expect(Set(hosts) == Set(instances))
            // When: a fourth instance joins
            let late = try await cp.fleet.register("host-d")
            try #require(try await cp.converge { try await cp.runningTasks().count == 4 })
            // Then
            hosts = try await cp.runningTasks().compactMap { $0["containerInstanceArn"]?.stringValue }
            #expect(Set(hosts) == Set(instances + [late]))
            #expect(hosts.count == 4)
            #expect(try await cp.service()["desiredCount"]?.intValue == 4)
        }
    }

    @Test("UpdateService to a new revision rolls every task over within 100 %/200 %; the old deployment disappears")
    func rollingDeployment() async throws {
        try await withReconciler { cp in
            // Given
            _ = try await cp.registerHosts(2)
            try await cp.createWebService(desiredCount: 4)
            try #require(try await cp.converge { try await cp.isSteady(running: 4) })
            try await cp.client.ok("RegisterTaskDefinition", webDefinition())
            // When
            try await cp.client.ok("UpdateService", #"{"service": "web", "taskDefinition": "web:2"}"#)
            #expect(try await cp.service()["deployments"]?.arrayValue?.count == 2)
            // Then: after every pass, at least 4 healthy tasks wanted and at most 8 live
            var done = false
            for _ in 0..<20 where !done {
                await cp.reconciler.reconcileOnce()
                let wanted = try await cp.tasks().filter { $0["desiredStatus"]?.stringValue == "RUNNING" }
                #expect(wanted.filter { $0["lastStatus"]?.stringValue == "RUNNING" }.count >= 4)
                #expect(wanted.count <= 8)
                try await cp.fleet.sync()
                done = try await cp.hasOnlyCompletedDeployment(
                    of: "arn:aws:ecs:us-east-1:000000000000:task-definition/web:2", running: 4)
            }
            #expect(done)
            let running = try await cp.runningTasks().compactMap { $0["taskDefinitionArn"]?.stringValue }
            #expect(running == Array(repeating: "arn:aws:ecs:us-east-1:000000000000:task-definition/web:2", count: 4))
            #expect(try await cp.tasks().count == 8)
            // And the service says it is steady again, though it said so minutes before the deployment
            let events = try await cp.events()
            #expect(events.first == "(service web) has reached a steady state.")
            #expect(events.dropFirst().first?.hasSuffix("deployment completed.") == true)
        }
    }
}
