import ControlPlane
import FlotillaTestKit
import Foundation
import TaskDefinitions
import Testing

@Suite("ECS API: tasks and container instances", .timeLimit(.minutes(10)))
struct TaskAndInstanceAPITests {
    @Test("RunTask with no container instance answers a failures entry and creates no task")
    func runTaskWithoutInstances() async throws {
        try await withControlPlane { client in
            try await client.createCluster()
            _ = try await client.registerWeb()
            let reply = try await client.ok("RunTask", #"{"taskDefinition": "web", "count": 2}"#)
            #expect(reply["tasks"]?.arrayValue?.isEmpty == true)
            #expect(
                reply["failures"]?[0]?["reason"]?.stringValue == "No Container Instances were found in your cluster.")
            let list = try await client.ok("ListTasks")
            #expect(list["taskArns"]?.arrayValue?.isEmpty == true)
        }
    }

    @Test("RunTask places PENDING tasks within an instance's resources and reports the rest as RESOURCE failures")
    func runTaskPlaces() async throws {
        try await withControlPlane { client in
            try await client.createCluster()
            _ = try await client.registerWeb()
            let instance = try await client.registerInstance(cpu: 256, memory: 4096)
            // When: 3 tasks of 128 CPU units on 256 units
            let reply = try await client.ok("RunTask", #"{"taskDefinition": "web", "count": 3, "startedBy": "me"}"#)
            // Then
            let tasks = try #require(reply["tasks"]?.arrayValue)
            #expect(tasks.count == 2)
            #expect(
                tasks.allSatisfy {
                    $0["lastStatus"]?.stringValue == "PENDING" && $0["desiredStatus"]?.stringValue == "RUNNING"
                })
            #expect(tasks[0]["containerInstanceArn"]?.stringValue == instance)
            #expect(
                tasks[0]["taskArn"]?.stringValue?.hasPrefix("arn:aws:ecs:us-east-1:000000000000:task/default/") == true)
            #expect(reply["failures"]?[0]?["reason"]?.stringValue == "RESOURCE:CPU")
            let described = try await client.ok(
                "DescribeContainerInstances", #"{"containerInstances": ["\#(instance)"]}"#)
            let remaining = described["containerInstances"]?[0]?["remainingResources"]?.arrayValue ?? []
            #expect(remaining.first { $0["name"]?.stringValue == "CPU" }?["integerValue"]?.intValue == 0)
            #expect(remaining.first { $0["name"]?.stringValue == "MEMORY" }?["integerValue"]?.intValue == 4096 - 128)
            #expect(described["containerInstances"]?[0]?["pendingTasksCount"]?.intValue == 2)
            let cluster = try await client.ok("DescribeClusters")
            #expect(cluster["clusters"]?[0]?["pendingTasksCount"]?.intValue == 2)
            for bad in [0, 11] {
                let reply = try await client.ecs("RunTask", #"{"taskDefinition": "web", "count": \#(bad)}"#)
                #expect(reply.errorType == "InvalidParameterException")
            }
        }
    }

    @Test("Static host ports are not double-booked on one instance")
    func hostPorts() async throws {
        try await withControlPlane { client in
            try await client.createCluster()
            _ = try await client.registerWeb(hostPort: 8080)
            _ = try await client.registerInstance()
            let reply = try await client.ok("RunTask", #"{"taskDefinition": "web", "count": 2}"#)
            #expect(reply["tasks"]?.arrayValue?.count == 1)
            #expect(reply["failures"]?[0]?["reason"]?.stringValue == "RESOURCE:PORTS")
        }
    }

    @Test("StartTask, StopTask, DescribeTasks and ListTasks filters")
    func taskLifecycle() async throws {
        try await withControlPlane { client in
            try await client.createCluster()
            _ = try await client.registerWeb()
            _ = try await client.registerWeb(family: "api")
            let instance = try await client.registerInstance()
            let started = try await client.ok(
                "StartTask",
                #"{"taskDefinition": "web", "containerInstances": ["\#(instance)", "missing"], "startedBy": "ops"}"#)
            let task = try #require(started["tasks"]?[0]?["taskArn"]?.stringValue)
            #expect(started["failures"]?[0]?["reason"]?.stringValue == "MISSING")
            try await client.ok("RunTask", #"{"taskDefinition": "api", "startedBy": "cron"}"#)
            // ListTasks filters
            let byFamily = try await client.ok("ListTasks", #"{"family": "web"}"#)
            #expect(byFamily["taskArns"]?.arrayValue?.compactMap(\.stringValue) == [task])
            let byStarter = try await client.ok("ListTasks", #"{"startedBy": "cron"}"#)
            #expect(byStarter["taskArns"]?.arrayValue?.count == 1)
            let byInstance = try await client.ok("ListTasks", #"{"containerInstance": "\#(instance)"}"#)
            #expect(byInstance["taskArns"]?.arrayValue?.count == 2)
            let pending = try await client.ok("ListTasks", #"{"desiredStatus": "PENDING"}"#)
            #expect(pending["taskArns"]?.arrayValue?.count == 2)
            let paged = try await client.ok("ListTasks", #"{"maxResults": 1}"#)
            #expect(paged["taskArns"]?.arrayValue?.count == 1)
            #expect(paged["nextToken"] != nil)
            // StopTask
            let stopped = try await client.ok("StopTask", #"{"task": "\#(task)", "reason": "done"}"#)
            #expect(stopped["task"]?["desiredStatus"]?.stringValue == "STOPPED")
            #expect(stopped["task"]?["stoppedReason"]?.stringValue == "done")
            #expect(stopped["task"]?["stopCode"]?.stringValue == "UserInitiated")
            let stoppedList = try await client.ok("ListTasks", #"{"desiredStatus": "STOPPED"}"#)
            #expect(stoppedList["taskArns"]?.arrayValue?.compactMap(\.stringValue) == [task])
            let missing = try await client.ecs("StopTask", #"{"task": "0123"}"#)
            #expect(missing.errorType == "InvalidParameterException")
            // DescribeTasks
            let id = String(task.split(separator: "/").last!)
            let described = try await client.ok("DescribeTasks", #"{"tasks": ["\#(id)", "nope"]}"#)
            #expect(described["tasks"]?[0]?["taskArn"]?.stringValue == task)
            #expect(described["tasks"]?[0]?["containers"]?[0]?["name"]?.stringValue == "web")
            #expect(described["failures"]?[0]?["reason"]?.stringValue == "MISSING")
            let badStatus = try await client.ecs("ListTasks", #"{"desiredStatus": "DANCING"}"#)
            #expect(badStatus.errorType == "InvalidParameterException")
        }
    }

    @Test("Container instances: register, list, describe, drain, deregister")
    func containerInstances() async throws {
        try await withControlPlane { client in
            try await client.createCluster()
            let instance = try await client.registerInstance()
            #expect(instance.hasPrefix("arn:aws:ecs:us-east-1:000000000000:container-instance/default/"))
            let described = try await client.ok(
                "DescribeContainerInstances", #"{"containerInstances": ["\#(instance)", "ghost"]}"#)
            let found = try #require(described["containerInstances"]?[0])
            #expect(found["status"]?.stringValue == "ACTIVE")
            #expect(found["agentConnected"]?.boolValue == true)
            #expect(found["attributes"]?[0]?["name"]?.stringValue == "ecs.os-type")
            #expect(found["registeredResources"]?[0]?["integerValue"]?.intValue == 2048)
            #expect(described["failures"]?[0]?["reason"]?.stringValue == "MISSING")
            // drain
            let drained = try await client.ok(
                "UpdateContainerInstancesState", #"{"containerInstances": ["\#(instance)"], "status": "DRAINING"}"#)
            #expect(drained["containerInstances"]?[0]?["status"]?.stringValue == "DRAINING")
            let draining = try await client.ok("ListContainerInstances", #"{"status": "DRAINING"}"#)
            #expect(draining["containerInstanceArns"]?.arrayValue?.compactMap(\.stringValue) == [instance])
            let badState = try await client.ecs(
                "UpdateContainerInstancesState", #"{"containerInstances": ["\#(instance)"], "status": "ASLEEP"}"#)
            #expect(badState.errorType == "InvalidParameterException")
            // deregister
            let gone = try await client.ok("DeregisterContainerInstance", #"{"containerInstance": "\#(instance)"}"#)
            #expect(gone["containerInstance"]?["status"]?.stringValue == "INACTIVE")
            let list = try await client.ok("ListContainerInstances")
            #expect(list["containerInstanceArns"]?.arrayValue?.isEmpty == true)
            let again = try await client.ecs("DeregisterContainerInstance", #"{"containerInstance": "\#(instance)"}"#)
            #expect(again.errorType == "InvalidParameterException")
            let noResources = try await client.ecs("RegisterContainerInstance", #"{"totalResources": []}"#)
            #expect(noResources.errorType == "InvalidParameterException")
        }
    }

    @Test("DeregisterContainerInstance refuses an instance with live tasks unless forced")
    func deregisterWithTasks() async throws {
        try await withControlPlane { client in
            try await client.createCluster()
            _ = try await client.registerWeb()
            let instance = try await client.registerInstance()
            try await client.ok("RunTask", #"{"taskDefinition": "web"}"#)
            let refused = try await client.ecs("DeregisterContainerInstance", #"{"containerInstance": "\#(instance)"}"#)
            #expect(refused.errorType == "InvalidParameterException")
            try await client.ok("DeregisterContainerInstance", #"{"containerInstance": "\#(instance)", "force": true}"#)
            let stopped = try await client.ok("ListTasks", #"{"desiredStatus": "STOPPED"}"#)
            #expect(stopped["taskArns"]?.arrayValue?.count == 1)
        }
    }

    @Test("DiscoverPollEndpoint answers this server's URL")
    func discoverPollEndpoint() async throws {
        try await withControlPlane { client in
            try await client.createCluster()
            let reply = try await client.ok("DiscoverPollEndpoint", #"{"cluster": "default"}"#)
            #expect(reply["endpoint"]?.stringValue?.hasPrefix("http://") == true)
            let missing = try await client.ecs("DiscoverPollEndpoint", #"{"cluster": "nope"}"#)
            #expect(missing.errorType == "ClusterNotFoundException")
        }
    }
}
