@testable import ControlPlane
import FlotillaTestKit
import GRDB
import Foundation
import InMemoryLogging
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import SigV4
import ServiceLifecycle
import Synchronization
import TaskDefinitions
import Testing

@Suite("Agent protocol: register, blocking poll, state changes, contact", .timeLimit(.minutes(10)))
struct AgentAPITests {
    // MARK: - Register

    @Test("Register with the join token creates an instance DescribeContainerInstances shows connected")
    func registerRightToken() async throws {
        try await withControlPlane { client in
            // Given
            try await client.createCluster()
            // When
            let (arn, credential, index) = try await client.registerAgent()
            // Then
            #expect(arn.hasPrefix("arn:aws:ecs:us-east-1:000000000000:container-instance/default/"))
            #expect(credential.accessKeyID.hasPrefix("AKFL") && credential.accessKeyID.count == 20)
            #expect(credential.secretAccessKey.count == 40)
            #expect(index == 0)
            let described = try await client.ok("DescribeContainerInstances", #"{"containerInstances": ["\#(arn)"]}"#)
            let instance = try #require(described["containerInstances"]?[0])
            #expect(instance["agentConnected"]?.boolValue == true)
            #expect(instance["status"]?.stringValue == "ACTIVE")
            #expect(instance["ec2InstanceId"]?.stringValue == "host-a")
            let registered = instance["registeredResources"]?.arrayValue ?? []
            #expect(registered.first { $0["name"]?.stringValue == "CPU" }?["integerValue"]?.intValue == 2048)
            #expect(registered.first { $0["name"]?.stringValue == "MEMORY" }?["integerValue"]?.intValue == 4096)
            #expect(registered.first { $0["name"]?.stringValue == "PORTS" }?["stringSetValue"]?[0]?.stringValue == "22")
            let attributes = Dictionary(
                uniqueKeysWithValues: (instance["attributes"]?.arrayValue ?? []).compactMap { attribute in
                    attribute["name"]?.stringValue.map { ($0, attribute["value"]?.stringValue ?? "") }
                })
            #expect(attributes["ecs.availability-zone"] == "zone-a")
            #expect(attributes["rack"] == "r1")
        }
    }

    @Test("Register with a wrong token is refused, logged at warning with the cluster, and creates nothing")
    func registerWrongToken() async throws {
        let logs = InMemoryLogHandler()
        try await withControlPlane(logger: Logger(label: "test") { _ in logs }) { client in
            try await client.createCluster()
            // When
            let reply = try await client.agent("Register", registerBody(token: String(repeating: "0", count: 64)))
            // Then
            #expect(reply.status == 403)
            #expect(reply.errorType == "AccessDeniedException")
            #expect(reply.message.contains("joinToken"))
            let list = try await client.ok("ListContainerInstances")
            #expect(list["containerInstanceArns"]?.arrayValue?.isEmpty == true)
            let warning = logs.entries.first { $0.message == "agent registration refused" }
            #expect(warning?.level == .warning)
            #expect(warning?.metadata["cluster"] == "default")
        }
    }

    @Test("After RotateJoinToken the old token is refused and the new one accepted")
    func registerRotatedToken() async throws {
        try await withControlPlane { client in
            try await client.createCluster()
            let old = try #require(try await client.agentOK("GetJoinToken", "{}")["joinToken"]?.stringValue)
            let new = try #require(try await client.agentOK("RotateJoinToken", "{}")["joinToken"]?.stringValue)
            // When / Then
            let refused = try await client.agent("Register", registerBody(token: old))
            #expect(refused.errorType == "AccessDeniedException")
            let accepted = try await client.agent("Register", registerBody(token: new))
            #expect(accepted.status == 200)
        }
    }

    @Test("Re-registration with the previous ARN keeps the instance and its tasks, and replaces the credential")
    func reregistration() async throws {
        try await withControlPlane { client in
            try await client.createCluster()
            _ = try await client.registerWeb()
            let first = try await client.registerAgent()
            try await client.ok("RunTask", #"{"taskDefinition": "web"}"#)
            // When: the agent restarts and registers again naming its instance
            let second = try await client.registerAgent(previous: (first.arn, first.credential))
            // Then
            #expect(second.arn == first.arn)
            #expect(second.credential != first.credential)
            #expect(second.index == 1)
            let list = try await client.ok("ListContainerInstances")
            #expect(list["containerInstanceArns"]?.arrayValue?.count == 1)
            let stale = try await client.agent(
                "PollDesiredTasks", pollBody(first.arn, index: 0, wait: 0), as: first.credential)
            #expect(stale.errorType == "UnrecognizedClientException")
            let poll = try await client.agentOK(
                "PollDesiredTasks", pollBody(second.arn, index: 0, wait: 0), as: second.credential)
            #expect(poll["tasks"]?.arrayValue?.count == 1)
        }
    }

    @Test(
        "Register names the bad field",
        arguments: [
            (#""resources": {"cpu": 0, "memory": 10}"#, "resources.cpu"),
            (#""resources": {"cpu": 1024, "memory": -1}"#, "resources.memory"),
            (#""resources": {"cpu": 1024, "memory": 10, "ports": [70000]}"#, "resources.ports[0]"),
            (
                #""resources": {"cpu": 1024, "memory": 10}, "agentEndpoint": "ftp://10.0.0.2:51678", "agentToken": "0123456789abcdef""#,
                "agentEndpoint"
            ),
            (
                #""resources": {"cpu": 1024, "memory": 10}, "agentEndpoint": "http://10.0.0.2:51678", "agentToken": "short""#,
                "agentToken"
            ),
            (#""resources": {"cpu": 1024, "memory": 10}, "agentEndpoint": "http://10.0.0.2:51678""#, "agentToken"),
        ])
    func registerValidation(resources: String, field: String) async throws {
        try await withControlPlane { client in
            try await client.createCluster()
            let reply = try await client.agent("Register", #"{"joinToken": "x", "hostname": "h", \#(resources)}"#)
            #expect(reply.errorType == "InvalidParameterException")
            #expect(reply.message.hasPrefix(field))
        }
    }

    // MARK: - PollDesiredTasks

    @Test("A poll answers at once when the instance's index is newer, with the task definition and overrides")
    func pollNewerIndex() async throws {
        try await withControlPlane { client in
            try await client.createCluster()
            _ = try await client.registerWeb()
            let agent = try await client.registerAgent()
            let run = try await client.ok(
                "RunTask",
                #"{"taskDefinition": "web", "overrides": {"containerOverrides": [{"name": "web", "environment": [{"name": "A", "value": "1"}]}]}}"#
            )
            let taskArn = try #require(run["tasks"]?[0]?["taskArn"]?.stringValue)
            // When: the agent still holds index 0 (asks to wait up to 60 s)
            let poll = try await client.agentOK(
                "PollDesiredTasks", pollBody(agent.arn, index: 0, wait: 60), as: agent.credential)
            // Then
            #expect(poll["index"]?.intValue == 1)
            #expect(poll["containerInstanceStatus"]?.stringValue == "ACTIVE")
            let task = try #require(poll["tasks"]?[0])
            #expect(task["taskArn"]?.stringValue == taskArn)
            #expect(task["desiredStatus"]?.stringValue == "RUNNING")
            #expect(task["taskDefinition"]?["family"]?.stringValue == "web")
            #expect(task["taskDefinition"]?["containerDefinitions"]?[0]?["image"]?.stringValue == "flotilla/busybox:1")
            #expect(task["overrides"]?["containerOverrides"]?[0]?["environment"]?[0]?["value"]?.stringValue == "1")
            // When: the agent holds an index from a store that was since replaced (ahead of this one)
            let ahead = try await client.agentOK(
                "PollDesiredTasks", pollBody(agent.arn, index: 99, wait: 60), as: agent.credential)
            // Then: it answers at once with the store's index, so the agent resynchronises
            #expect(ahead["index"]?.intValue == 1)
            #expect(ahead["tasks"]?.arrayValue?.count == 1)
        }
    }

    @Test("A poll with the current index times out answering the same index")
    func pollTimesOut() async throws {
        try await withControlPlane { client in
            try await client.createCluster()
            let agent = try await client.registerAgent()
            let poll = try await client.agentOK(
                "PollDesiredTasks", pollBody(agent.arn, index: 0, wait: 1), as: agent.credential)
            #expect(poll["index"]?.intValue == 0)
            #expect(poll["tasks"]?.arrayValue?.isEmpty == true)
        }
    }

    @Test("Poll refuses a wrong secret and a wait above 60 s")
    func pollRefusals() async throws {
        try await withControlPlane { client in
            try await client.createCluster()
            let agent = try await client.registerAgent()
            let guessed = AWSCredentials(
                accessKeyID: agent.credential.accessKeyID, secretAccessKey: String(repeating: "f", count: 40))
            let wrong = try await client.agent(
                "PollDesiredTasks", pollBody(agent.arn, index: 0, wait: 0), as: guessed)
            #expect(wrong.errorType == "InvalidSignatureException")
            let long = try await client.agent(
                "PollDesiredTasks", pollBody(agent.arn, index: 0, wait: 61), as: agent.credential)
            #expect(long.errorType == "InvalidParameterException")
            #expect(long.message.hasPrefix("waitSeconds"))
        }
    }

    @Test(
        "On the wire, a blocked poll is woken by RunTask and then by StopTask (memory and file store)",
        arguments: [false, true])
    func pollWokenOnTheWire(onFile: Bool) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "flotilla-agentapi-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = onFile ? try ControlPlaneStore.open(directory: directory) : try ControlPlaneStore.inMemory()
        try await withLiveControlPlane(store: store) { client, port in
            try await client.createCluster()
            _ = try await client.registerWeb()
            let agent = try await client.registerAgent()

            // RunTask wakes a poll holding index 0
            let (ran, afterRun) = try await pollAcross(port: port, store: store, agent: agent, index: 0) {
                try await client.ok("RunTask", #"{"taskDefinition": "web"}"#)["tasks"]?[0]?["taskArn"]?.stringValue
            }
            #expect(afterRun["index"]?.intValue == 1)
            #expect(afterRun["tasks"]?[0]?["taskArn"]?.stringValue == ran)
            #expect(afterRun["tasks"]?[0]?["desiredStatus"]?.stringValue == "RUNNING")

            // StopTask wakes a poll holding index 1
            let task = try #require(ran)
            let (_, afterStop) = try await pollAcross(port: port, store: store, agent: agent, index: 1) {
                try await client.ok("StopTask", #"{"task": "\#(task)"}"#)["task"]?["taskArn"]?.stringValue
            }
            #expect(afterStop["index"]?.intValue == 2)
            #expect(afterStop["tasks"]?[0]?["desiredStatus"]?.stringValue == "STOPPED")
            #expect(afterStop["tasks"]?[0]?["stopCode"]?.stringValue == "UserInitiated")
        }
    }

    /// Starts a poll at `index` on its own connection, checks it is still blocked once it waits on `store`'s notifier,
    /// runs `write`, and answers what `write` returned and the poll's answer.
    func pollAcross(
        port: Int, store: ControlPlaneStore, agent: (arn: String, credential: AWSCredentials, index: Int), index: Int,
        write: @escaping @Sendable () async throws -> String?
    ) async throws -> (String?, JSONValue) {
        let answered = Flag()
        return try await withThrowingTaskGroup(of: JSONValue?.self) { group in
            group.addTask {
                let body = try await TestClient.withClient(
                    host: "127.0.0.1", port: port, configuration: .init(timeout: .seconds(45))
                ) { poller in
                    // Signed by the agent's own credential at the API's time, as the live control plane checks it.
                    let body = pollBody(agent.arn, index: index, wait: 60)
                    let target = "FlotillaAgentV1.PollDesiredTasks"
                    var headers: HTTPFields = [:]
                    for (name, value) in TestAccessKeys.signedHeaders(
                        agent.credential, host: "localhost", target: target, body: body, at: testNow)
                    {
                        headers[HTTPField.Name(name)!] = value
                    }
                    return try await poller.execute(
                        .init("/", method: .post, authority: "localhost", headers: headers, body: ByteBuffer(string: body))
                    ).body
                }
                answered.set()
                return try JSONDecoder().decode(JSONValue.self, from: Data((body ?? ByteBuffer()).readableBytesView))
            }
            // Given: the poll waits for a change (or answered, wrongly, before anything changed)
            #expect(await eventually { store.desiredStateChanges.waiterCount == 1 || answered.isSet })
            #expect(!answered.isSet, "the poll answered before anything changed")
            // When
            let written = try await write()
            // Then: the poll answers
            let reply = try #require(try await group.next() ?? nil)
            return (written, reply)
        }
    }

    @Test("The notifier bounds waits per instance and releases them all on shutdown")
    func notifierBoundsAndShutdown() async throws {
        let notifier = DesiredStateNotifier(maxWaitersPerInstance: 2)
        let key = DesiredStateNotifier.Key(cluster: "default", instanceID: "i")
        try await withThrowingTaskGroup(of: DesiredStateNotifier.Outcome.self) { group in
            for _ in 0..<2 { group.addTask { await notifier.waitForChange(of: key, from: 0) } }
            #expect(await eventually { notifier.waiterCount == 2 })
            // When: a third poll arrives
            #expect(await notifier.waitForChange(of: key, from: 0) == .busy)
            // When: a signal with the same index arrives, nobody wakes; shutdown wakes both
            notifier.signal(key, index: 0)
            #expect(notifier.waiterCount == 2)
            notifier.shutdown()
            var outcomes: [DesiredStateNotifier.Outcome] = []
            for try await outcome in group { outcomes.append(outcome) }
            #expect(outcomes == [.shutDown, .shutDown])
        }
        #expect(await notifier.waitForChange(of: key, from: 0) == .shutDown)
    }

    @Test("A signal recorded before the wait starts answers at once; cancellation ends a wait")
    func notifierRaceAndCancel() async throws {
        let notifier = DesiredStateNotifier()
        let key = DesiredStateNotifier.Key(cluster: "default", instanceID: "i")
        notifier.signal(key, index: 3)
        #expect(await notifier.waitForChange(of: key, from: 2) == .changed)
        let outcome = await withTaskGroup(of: DesiredStateNotifier.Outcome.self) { group in
            group.addTask { await notifier.waitForChange(of: key, from: 3) }
            group.cancelAll()
            return await group.next() ?? .changed
        }
        #expect(outcome == .cancelled)
        #expect(notifier.waiterCount == 0)
    }

    // MARK: - SubmitStateChanges

    @Test("A state-change batch shows in DescribeTasks, is idempotent, and ignores going back")
    func stateChanges() async throws {
        let store = try ControlPlaneStore.inMemory()
        try await withControlPlane(store: store) { client in
            try await client.createCluster()
            _ = try await client.registerWeb()
            let agent = try await client.registerAgent()
            let task = try #require(
                try await client.ok("RunTask", #"{"taskDefinition": "web"}"#)["tasks"]?[0]?["taskArn"]?.stringValue)
            let running = """
                {"containerInstanceArn": "\(agent.arn)",
                 "tasks": [{"taskArn": "\(task)", "lastStatus": "RUNNING", "healthStatus": "HEALTHY",
                            "pullStartedAt": 1700000001, "pullStoppedAt": 1700000002, "startedAt": 1700000003,
                            "containers": [{"name": "web", "lastStatus": "RUNNING", "healthStatus": "HEALTHY",
                                            "networkBindings": [{"bindIP": "0.0.0.0", "containerPort": 80, "hostPort": 32768, "protocol": "tcp"}]}]}],
                 "metrics": {"instance": {"cpuUtilizationPercent": 12.5}}}
                """
            // When
            let first = try await client.agentOK("SubmitStateChanges", running, as: agent.credential)
            let described = try await client.ok("DescribeTasks", #"{"tasks": ["\#(task)"]}"#)
            let again = try await client.agentOK("SubmitStateChanges", running, as: agent.credential)
            let describedAgain = try await client.ok("DescribeTasks", #"{"tasks": ["\#(task)"]}"#)
            // Then
            #expect(first["updated"]?.arrayValue?.compactMap(\.stringValue) == [task])
            let shown = try #require(described["tasks"]?[0])
            #expect(shown["lastStatus"]?.stringValue == "RUNNING")
            #expect(shown["healthStatus"]?.stringValue == "HEALTHY")
            #expect(shown["startedAt"]?.intValue == 1_700_000_003)
            #expect(shown["pullStartedAt"]?.intValue == 1_700_000_001)
            #expect(shown["containers"]?[0]?["networkBindings"]?[0]?["hostPort"]?.intValue == 32768)
            #expect(again["unchanged"]?.arrayValue?.compactMap(\.stringValue) == [task])
            #expect(describedAgain == described)
            let metrics = try await store.read { db in
                try String.fetchOne(db, sql: "SELECT metrics FROM containerInstance")
            }
            #expect(metrics?.contains("cpuUtilizationPercent") == true)
            let cluster = try await client.ok("DescribeClusters")
            #expect(cluster["clusters"]?[0]?["runningTasksCount"]?.intValue == 1)

            // When: the essential container exits, then a late RUNNING report arrives
            let stopped = """
                {"containerInstanceArn": "\(agent.arn)",
                 "tasks": [{"taskArn": "\(task)", "lastStatus": "STOPPED", "stopCode": "EssentialContainerExited",
                            "stoppedReason": "Essential container in task exited", "stoppedAt": 1700000100,
                            "containers": [{"name": "web", "lastStatus": "STOPPED", "exitCode": 137, "reason": "killed"}]}]}
                """
            try await client.agentOK("SubmitStateChanges", stopped, as: agent.credential)
            let late = try await client.agentOK("SubmitStateChanges", running, as: agent.credential)
            // Then
            #expect(late["ignored"]?[0]?["reason"]?.stringValue?.contains("cannot go back") == true)
            let final = try #require(try await client.ok("DescribeTasks", #"{"tasks": ["\#(task)"]}"#)["tasks"]?[0])
            #expect(final["lastStatus"]?.stringValue == "STOPPED")
            #expect(final["desiredStatus"]?.stringValue == "STOPPED")
            #expect(final["stopCode"]?.stringValue == "EssentialContainerExited")
            #expect(final["stoppedAt"]?.intValue == 1_700_000_100)
            #expect(final["containers"]?[0]?["exitCode"]?.intValue == 137)
            #expect(final["containers"]?[0]?["lastStatus"]?.stringValue == "STOPPED")
        }
    }

    @Test("A service task that fails to start puts the agent's reason in the service's events")
    func startFailureEvent() async throws {
        try await withControlPlane { client in
            // Given service web, and one of its tasks on an agent whose host lacks the image
            try await client.createCluster()
            _ = try await client.registerWeb()
            let agent = try await client.registerAgent()
            try await client.ok("CreateService", #"{"serviceName": "web", "taskDefinition": "web", "desiredCount": 0}"#)
            let placed = try await client.ok("RunTask", #"{"taskDefinition": "web", "group": "service:web"}"#)
            let task = try #require(placed["tasks"]?[0]?["taskArn"]?.stringValue)
            let reason =
                "CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to resolve ref flotilla/nope:1"
            // When the agent reports it STOPPED before it ran, twice (a retried batch)
            let failed = """
                {"containerInstanceArn": "\(agent.arn)",
                 "tasks": [{"taskArn": "\(task)", "lastStatus": "STOPPED", "stopCode": "TaskFailedToStart",
                            "stoppedReason": "\(reason)", "containers": [{"name": "web", "lastStatus": "STOPPED", "reason": "\(reason)"}]}]}
                """
            try await client.agentOK("SubmitStateChanges", failed, as: agent.credential)
            try await client.agentOK("SubmitStateChanges", failed, as: agent.credential)
            // Then the service's newest event names the task and the reason, once
            let events =
                try await client.ok("DescribeServices", #"{"services": ["web"]}"#)["services"]?[0]?["events"]?
                .arrayValue ?? []
            let taskID = try #require(task.split(separator: "/").last)
            let expected = "(service web) (task \(taskID)) failed to start: \(reason)"
            #expect(events.first?["message"]?.stringValue == expected)
            #expect(events.filter { $0["message"]?.stringValue == expected }.count == 1)
        }
    }

    @Test("A batch is refused whole when one change is malformed, and another instance's task is ignored")
    func stateChangeRefusals() async throws {
        try await withControlPlane { client in
            try await client.createCluster()
            _ = try await client.registerWeb()
            let a = try await client.registerAgent(hostname: "a")
            let b = try await client.registerAgent(hostname: "b")
            let task = try #require(
                try await client.ok("StartTask", #"{"taskDefinition": "web", "containerInstances": ["\#(a.arn)"]}"#)[
                    "tasks"]?[0]?["taskArn"]?.stringValue)
            let bad = try await client.agent(
                "SubmitStateChanges",
                """
                {"containerInstanceArn": "\(a.arn)",
                 "tasks": [{"taskArn": "\(task)", "lastStatus": "RUNNING"}, {"taskArn": "\(task)", "lastStatus": "DANCING"}]}
                """, as: a.credential)
            #expect(bad.errorType == "InvalidParameterException")
            #expect(bad.message.hasPrefix("tasks[1].lastStatus"))
            let unchanged = try await client.ok("DescribeTasks", #"{"tasks": ["\#(task)"]}"#)
            #expect(unchanged["tasks"]?[0]?["lastStatus"]?.stringValue == "PENDING")
            let foreign = try await client.agentOK(
                "SubmitStateChanges",
                """
                {"containerInstanceArn": "\(b.arn)", "tasks": [{"taskArn": "\(task)", "lastStatus": "RUNNING"}]}
                """, as: b.credential)
            #expect(foreign["ignored"]?[0]?["taskArn"]?.stringValue == task)
        }
    }

    // MARK: - Contact

    @Test("The contact monitor disconnects a silent instance and its next call reconnects it")
    func contactMonitor() async throws {
        let store = try ControlPlaneStore.inMemory()
        let logs = InMemoryLogHandler()
        try await withControlPlane(store: store, logger: Logger(label: "test") { _ in logs }) { client in
            try await client.createCluster()
            let agent = try await client.registerAgent()
            // An instance registered through the ECS API (no agent protocol) has no contact to lose
            _ = try await client.registerInstance()
            // Given: the agent was last heard at testNow
            let early = ContactMonitor(
                store: store, gracePeriod: .seconds(30), now: { testNow.addingTimeInterval(29) },
                logger: Logger(label: "test") { _ in logs })
            let late = ContactMonitor(
                store: store, gracePeriod: .seconds(30), now: { testNow.addingTimeInterval(31) },
                logger: Logger(label: "test") { _ in logs })
            // When / Then: within the grace period nothing happens
            #expect(await early.checkOnce().isEmpty)
            // When / Then: past it the instance is disconnected, once
            #expect(await late.checkOnce() == [agent.arn])
            #expect(await late.checkOnce().isEmpty)
            let described = try await client.ok(
                "DescribeContainerInstances", #"{"containerInstances": ["\#(agent.arn)"]}"#)
            #expect(described["containerInstances"]?[0]?["agentConnected"]?.boolValue == false)
            let logged = logs.entries.first { $0.message == "container instance disconnected" }
            #expect(logged?.level == .info)
            #expect(logged?.metadata["instance.arn"] == "\(agent.arn)")
            #expect(logged?.metadata["cluster"] == "default")
            // When: the agent calls again
            try await client.agentOK("PollDesiredTasks", pollBody(agent.arn, index: 0, wait: 0), as: agent.credential)
            // Then
            let back = try await client.ok("DescribeContainerInstances", #"{"containerInstances": ["\#(agent.arn)"]}"#)
            #expect(back["containerInstances"]?[0]?["agentConnected"]?.boolValue == true)
            #expect(logs.entries.contains { $0.message == "container instance reconnected" })
        }
    }

    @Test("Graceful shutdown of the contact monitor releases a blocked poll, which answers what it has")
    func shutdownReleasesPolls() async throws {
        let store = try ControlPlaneStore.inMemory()
        let configuration = ControlPlaneConfiguration(agentGracePeriod: .seconds(600))
        let monitor = ContactMonitor(store: store, gracePeriod: .seconds(600), logger: Logger(label: "test"))
        let group = ServiceGroup(configuration: .init(services: [monitor], logger: Logger(label: "test")))
        try await withControlPlane(store: store, configuration: configuration) { client in
            try await client.createCluster()
            let agent = try await client.registerAgent()
            try await withThrowingTaskGroup(of: JSONValue?.self) { tasks in
                tasks.addTask {
                    try await group.run()
                    return nil
                }
                tasks.addTask {
                    try await client.agentOK(
                        "PollDesiredTasks", pollBody(agent.arn, index: 0, wait: 60), as: agent.credential)
                }
                // Given: the poll is waiting
                #expect(await eventually { store.desiredStateChanges.waiterCount == 1 })
                // When
                await group.triggerGracefulShutdown()
                // Then: the poll answers its unchanged index, and the monitor ends
                var answers: [JSONValue] = []
                for try await answer in tasks { if let answer { answers.append(answer) } }
                #expect(answers.count == 1)
                #expect(answers.first?["index"]?.intValue == 0)
                #expect(store.desiredStateChanges.waiterCount == 0)
            }
        }
    }

    @Test("DiscoverPollEndpoint and Register answer the advertised endpoint when one is configured")
    func advertisedEndpoint() async throws {
        let configuration = ControlPlaneConfiguration(advertisedEndpoint: "http://10.1.2.3:8080")
        try await withControlPlane(configuration: configuration) { client in
            try await client.createCluster()
            let discovered = try await client.ok("DiscoverPollEndpoint", #"{"cluster": "default"}"#)
            #expect(discovered["endpoint"]?.stringValue == "http://10.1.2.3:8080")
            let token = try #require(try await client.agentOK("GetJoinToken", "{}")["joinToken"]?.stringValue)
            let registered = try await client.agentOK("Register", registerBody(token: token))
            #expect(registered["endpoint"]?.stringValue == "http://10.1.2.3:8080")
        }
    }
}

/// Runs `body` against a control plane listening on a loopback port (the blocking query measured on the wire).
func withLiveControlPlane(
    store: ControlPlaneStore,
    _ body: @escaping @Sendable (any TestClientProtocol, Int) async throws -> Void
) async throws {
    // A long grace period lets polls wait the full 60 s: a poll nothing wakes outlives the poller's 45 s read timeout
    // and fails the test instead of passing late.
    let configuration = ControlPlaneConfiguration(agentGracePeriod: .seconds(600))
    let api = ECSAPI(
        store: store, configuration: configuration, authentication: try await testAuthentication(store: store),
        clock: { testNow })
    let application = Application(
        router: ControlPlaneApplication.router(api: api),
        configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    try await application.test(.live) { client in
        try await body(client, try #require(client.port))
    }
}

/// A one-way flag set from one task and read from another.
final class Flag: Sendable {
    private let state = Mutex(false)
    var isSet: Bool { state.withLock { $0 } }
    func set() { state.withLock { $0 = true } }
}
