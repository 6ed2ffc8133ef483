import ECSVocabulary
public import Foundation
public import SigV4
public import Scheduler
public import TaskDefinitions

/// A fake fleet of agents that carries out plans instantly and in memory: the cluster state a real control plane
/// and its agents would converge to, with no processes. Stopped tasks stay visible (as ECS keeps them) so the
/// circuit breaker can count them.
public struct FakeAgentFleet: Sendable {
    public private(set) var snapshot: ClusterSnapshot
    /// Task definitions whose tasks exit as soon as they start (circuit-breaker tests).
    public var failingTaskDefinitions: Set<String> = []
    /// When set, tasks start RUNNING but not yet healthy: health-checked with container health UNKNOWN, behind
    /// balancer `lb` with its verdict `initial`. Tests then deliver health reports with `mutate`, in any order.
    public var reportsHealthLater = false
    private var reserved: [String: TaskRequirements] = [:]
    private var nextTask = 0
    private var nextDeployment = 0

    public init(snapshot: ClusterSnapshot) {
        self.snapshot = snapshot
        for task in snapshot.tasks where task.isLive {
            if let service = snapshot.services.first(where: { $0.group == task.group }),
                let deployment = service.deployments.first(where: { $0.id == task.deploymentId })
            {
                reserved[task.taskArn] = deployment.requirements
            }
        }
    }

    /// Applies a plan as the control plane would, then bumps the index.
    public mutating func apply(_ plan: Plan, now: Date) {
        precondition(plan.baseIndex == snapshot.baseIndex, "plan computed on a stale snapshot")
        for stop in plan.stops { stopTask(stop.taskArn, code: .serviceSchedulerInitiated) }
        for placement in plan.placements {
            nextTask += 1
            let arn = "arn:aws:ecs:local:000000000000:task/\(snapshot.clusterName)/\(nextTask)"
            let requirements = requirements(of: placement)
            guard
                let slot = snapshot.instances.firstIndex(where: {
                    $0.containerInstanceArn == placement.containerInstanceArn
                })
            else { continue }
            snapshot.instances[slot].remainingCPU -= requirements.cpu
            snapshot.instances[slot].remainingMemoryMiB -= requirements.memoryMiB
            for port in requirements.hostPorts { snapshot.instances[slot].portsInUse.insert(port) }
            snapshot.instances[slot].runningTasksCount += 1
            reserved[arn] = requirements
            snapshot.tasks.append(
                TaskSnapshot(
                    taskArn: arn, containerInstanceArn: placement.containerInstanceArn,
                    group: placement.group, taskDefinitionArn: placement.taskDefinitionArn,
                    deploymentId: placement.deploymentId, lastStatus: .pending,
                    healthStatus: .unknown, createdAt: now))
        }
        for update in plan.deploymentUpdates { applyDeploymentUpdate(update, now: now) }
        snapshot.baseIndex += 1
    }

    /// Agents report: pending tasks start (healthy, unless `reportsHealthLater`), or exit at once if their task
    /// definition is failing.
    public mutating func advance(now: Date) {
        for index in snapshot.tasks.indices
        where snapshot.tasks[index].isLive && snapshot.tasks[index].lastStatus == .pending {
            if failingTaskDefinitions.contains(snapshot.tasks[index].taskDefinitionArn) {
                stopTask(snapshot.tasks[index].taskArn, code: .essentialContainerExited)
            } else {
                snapshot.tasks[index].lastStatus = .running
                snapshot.tasks[index].healthStatus = reportsHealthLater ? .unknown : .healthy
                if reportsHealthLater {
                    snapshot.tasks[index].isHealthChecked = true
                    snapshot.tasks[index].loadBalancerHealth = .initial
                }
                snapshot.tasks[index].startedAt = now
            }
        }
        snapshot.baseIndex += 1
    }

    /// Changes the cluster as an operator or a host would (drain an instance, lose an agent, change a service).
    public mutating func mutate(_ change: (inout ClusterSnapshot) -> Void) {
        change(&snapshot)
        snapshot.baseIndex += 1
    }

    private func requirements(of placement: TaskPlacement) -> TaskRequirements {
        let service = snapshot.services.first { $0.serviceName == placement.serviceName }
        return service?.deployments.first { $0.id == placement.deploymentId }?.requirements
            ?? TaskRequirements(cpu: 0, memoryMiB: 0)
    }

    private mutating func stopTask(_ arn: String, code: StopCode) {
        guard let index = snapshot.tasks.firstIndex(where: { $0.taskArn == arn }),
            snapshot.tasks[index].lastStatus != .stopped
        else { return }
        snapshot.tasks[index].desiredStatus = .stopped
        snapshot.tasks[index].lastStatus = .stopped
        snapshot.tasks[index].stopCode = code
        if let requirements = reserved.removeValue(forKey: arn),
            let slot = snapshot.instances.firstIndex(where: {
                $0.containerInstanceArn == snapshot.tasks[index].containerInstanceArn
            })
        {
            snapshot.instances[slot].remainingCPU += requirements.cpu
            snapshot.instances[slot].remainingMemoryMiB += requirements.memoryMiB
            for port in requirements.hostPorts { snapshot.instances[slot].portsInUse.remove(port) }
            snapshot.instances[slot].runningTasksCount -= 1
        }
    }

    private mutating func applyDeploymentUpdate(_ update: DeploymentUpdate, now: Date) {
        guard let serviceIndex = snapshot.services.firstIndex(where: { $0.serviceName == update.serviceName }),
            let index = snapshot.services[serviceIndex].deployments.firstIndex(where: { $0.id == update.deploymentId })
        else { return }
        if let status = update.status { snapshot.services[serviceIndex].deployments[index].status = status }
        if let state = update.rolloutState { snapshot.services[serviceIndex].deployments[index].rolloutState = state }
        if let arn = update.rollbackToTaskDefinitionArn,
            let target = snapshot.services[serviceIndex].deployments.first(where: { $0.taskDefinitionArn == arn })
        {
            nextDeployment += 1
            snapshot.services[serviceIndex].deployments[index].status = .active
            let id = "ecs-svc/rollback-\(nextDeployment)"
            snapshot.services[serviceIndex].deployments.append(
                DeploymentSnapshot(
                    id: id, status: .primary, taskDefinitionArn: arn,
                    requirements: target.requirements, rolloutState: .inProgress, createdAt: now))
            // As the control plane does: the rollback takes over the live tasks of the deployment it returns to.
            for task in snapshot.tasks.indices
            where snapshot.tasks[task].deploymentId == update.rollbackToDeploymentId
                && snapshot.tasks[task].isLive
            {
                snapshot.tasks[task].deploymentId = id
            }
        }
    }
}

/// Fake agents that speak the real agent protocol (`FlotillaAgentV1.Register`, `PollDesiredTasks`,
/// `SubmitStateChanges`) to a control plane, without running anything: each `sync()` moves every task one step
/// (PENDING, then RUNNING and HEALTHY when its containers have health checks; STOPPED once desired STOPPED) and
/// reports it, as a real agent would after starting or stopping containers. Tests kill tasks, make them unhealthy
/// and take hosts away (silence) to drive the control plane's reconciler.
///
/// Transport is a closure, so the same fleet talks to an in-process router or a live server, and survives a
/// control-plane restart (`connect(_:)`).
public actor FakeAgentHosts {
    /// Sends one `FlotillaAgentV1.<operation>` with a JSON body, signed with `credentials` (nil: unsigned, as a
    /// joining agent's Register); answers the JSON reply or throws on an error reply.
    public typealias Call =
        @Sendable (_ operation: String, _ body: JSONValue, _ credentials: AWSCredentials?) async throws -> JSONValue

    /// A task as this fake agent knows it.
    public struct FakeTask: Sendable, Hashable {
        public var taskArn: String
        public var taskDefinitionArn: String
        public var desiredStatus: String
        /// What the agent has reported.
        public var lastStatus: String
        public var healthStatus: String
        public var startedAt: Date?
        public var containerNames: [String] = []
    }

    /// One fake host (one container instance).
    public struct Host: Sendable {
        public var name: String
        public var containerInstanceArn: String
        var credential: AWSCredentials
        var index: Int
        /// A silent host neither polls nor reports: its agent (or its network) is gone.
        public var isSilent = false
        public var tasks: [String: FakeTask] = [:]
        var nextHostPort = 32768
    }

    private var call: Call
    private let cluster: String
    private let clock: @Sendable () -> Date
    public private(set) var hosts: [Host] = []
    /// Task definition families whose essential container exits as soon as it starts.
    public var failingFamilies: Set<String> = []
    /// Changes to send with the next sync, by host (kills, health changes).
    private var pending: [String: [String: JSONValue]] = [:]

    public init(cluster: String = "default", clock: @escaping @Sendable () -> Date, call: @escaping Call) {
        self.cluster = cluster
        self.clock = clock
        self.call = call
    }

    /// Points the fleet at another control plane (a restarted one); hosts keep their instances and credentials.
    public func connect(_ call: @escaping Call) { self.call = call }

    public func setFailingFamilies(_ families: Set<String>) { failingFamilies = families }

    /// Registers a host with the cluster's join token; answers its container-instance ARN.
    @discardableResult
    public func register(
        _ name: String, cpu: Int = 2048, memory: Int = 4096, zone: String = "zone-a",
        attributes: [String: String] = [:]
    ) async throws -> String {
        let token =
            try await call("GetJoinToken", .object(["cluster": .string(cluster)]), TestAccessKeys.administrator)[
                "joinToken"]?.stringValue ?? ""
        var attributeList: [JSONValue] = [
            .object(["name": .string("ecs.os-type"), "value": .string("linux")]),
            .object(["name": .string("ecs.availability-zone"), "value": .string(zone)]),
        ]
        for (key, value) in attributes.sorted(by: { $0.key < $1.key }) {
            attributeList.append(.object(["name": .string(key), "value": .string(value)]))
        }
        let reply = try await call(
            "Register",
            .object([
                "cluster": .string(cluster), "joinToken": .string(token), "hostname": .string(name),
                "address": .string("127.0.0.\(hosts.count + 2)"),
                "resources": .object(["cpu": .number(Double(cpu)), "memory": .number(Double(memory))]),
                "attributes": .array(attributeList),
                "versionInfo": .object(["agentVersion": .string("fake-0.1")]),
            ]), nil)
        guard let arn = reply["containerInstanceArn"]?.stringValue, let id = reply["accessKeyId"]?.stringValue,
            let secret = reply["credential"]?.stringValue
        else {
            throw FakeAgentError.unexpectedReply("Register", "\(reply)")
        }
        hosts.append(
            Host(
                name: name, containerInstanceArn: arn,
                credential: AWSCredentials(accessKeyID: id, secretAccessKey: secret), index: 0))
        return arn
    }

    /// Every host that is not silent polls its desired tasks and reports one step of progress on each.
    public func sync() async throws {
        for slot in hosts.indices where !hosts[slot].isSilent { try await sync(host: slot) }
    }

    /// Takes a host away (its agent stops talking) or brings it back.
    public func setSilent(_ name: String, _ silent: Bool) {
        guard let slot = hosts.firstIndex(where: { $0.name == name }) else { return }
        hosts[slot].isSilent = silent
    }

    /// The essential container of `taskArn` exits with `exitCode`; reported at the next sync.
    public func kill(_ taskArn: String, exitCode: Int = 1) {
        guard let (slot, task) = find(taskArn) else { return }
        hosts[slot].tasks[taskArn]?.lastStatus = "STOPPED"
        let containers: [JSONValue] = task.containerNames.enumerated().map { index, name in
            .object([
                "name": .string(name), "lastStatus": .string("STOPPED"),
                "exitCode": .number(Double(index == 0 ? exitCode : 137)),
            ])
        }
        pending[hosts[slot].name, default: [:]][taskArn] = .object([
            "taskArn": .string(taskArn), "lastStatus": .string("STOPPED"),
            "stopCode": .string("EssentialContainerExited"),
            "stoppedReason": .string("Essential container in task exited"),
            "stoppedAt": .number(clock().timeIntervalSince1970),
            "containers": .array(containers),
        ])
    }

    /// The task's health checks now answer `status` (HEALTHY or UNHEALTHY); reported at the next sync.
    public func setHealth(_ taskArn: String, _ status: String) {
        guard let (slot, _) = find(taskArn) else { return }
        hosts[slot].tasks[taskArn]?.healthStatus = status
        pending[hosts[slot].name, default: [:]][taskArn] = .object([
            "taskArn": .string(taskArn), "lastStatus": .string("RUNNING"), "healthStatus": .string(status),
        ])
    }

    /// Tasks this fake agent runs now (reported RUNNING, not stopped), by host name.
    public func runningTasks() -> [String: [String]] {
        var result: [String: [String]] = [:]
        for host in hosts {
            result[host.name] = host.tasks.values.filter { $0.lastStatus == "RUNNING" }.map(\.taskArn).sorted()
        }
        return result
    }

    /// Every task any host ever ran or was given.
    public func allTasks() -> [FakeTask] { hosts.flatMap { $0.tasks.values } }

    // MARK: - One host

    private func find(_ taskArn: String) -> (Int, FakeTask)? {
        for (slot, host) in hosts.enumerated() { if let task = host.tasks[taskArn] { return (slot, task) } }
        return nil
    }

    private func sync(host slot: Int) async throws {
        let host = hosts[slot]
        let reply = try await call(
            "PollDesiredTasks",
            .object([
                "cluster": .string(cluster), "containerInstanceArn": .string(host.containerInstanceArn),
                "index": .number(Double(host.index)), "waitSeconds": .number(0),
            ]), host.credential)
        hosts[slot].index = reply["index"]?.intValue ?? host.index
        var changes = pending.removeValue(forKey: host.name) ?? [:]
        let now = clock()
        for desired in reply["tasks"]?.arrayValue ?? [] {
            guard let arn = desired["taskArn"]?.stringValue, let desiredStatus = desired["desiredStatus"]?.stringValue,
                changes[arn] == nil
            else { continue }
            let definition = desired["taskDefinition"]
            let containers = definition?["containerDefinitions"]?.arrayValue ?? []
            var task =
                hosts[slot].tasks[arn]
                ?? FakeTask(
                    taskArn: arn, taskDefinitionArn: desired["taskDefinitionArn"]?.stringValue ?? "",
                    desiredStatus: desiredStatus,
                    lastStatus: "PROVISIONING", healthStatus: "UNKNOWN",
                    containerNames: containers.compactMap { $0["name"]?.stringValue })
            task.desiredStatus = desiredStatus
            var change: [String: JSONValue] = ["taskArn": .string(arn)]
            if desiredStatus == "STOPPED" {
                guard task.lastStatus != "STOPPED" else { continue }
                task.lastStatus = "STOPPED"
                change["lastStatus"] = .string("STOPPED")
                change["stoppedAt"] = .number(now.timeIntervalSince1970)
                change["containers"] = .array(
                    containers.map {
                        .object([
                            "name": $0["name"] ?? .null, "lastStatus": .string("STOPPED"), "exitCode": .number(143),
                        ])
                    })
            } else if task.lastStatus == "PROVISIONING" {
                task.lastStatus = "PENDING"
                change["lastStatus"] = .string("PENDING")
            } else if task.lastStatus == "PENDING" {
                let family = definition?["family"]?.stringValue ?? ""
                if failingFamilies.contains(family) {
                    task.lastStatus = "STOPPED"
                    change["lastStatus"] = .string("STOPPED")
                    change["stopCode"] = .string("EssentialContainerExited")
                    change["stoppedReason"] = .string("Essential container in task exited")
                    change["containers"] = .array(
                        containers.map {
                            .object([
                                "name": $0["name"] ?? .null, "lastStatus": .string("STOPPED"), "exitCode": .number(1),
                            ])
                        })
                } else {
                    let checked = containers.contains { $0["healthCheck"] != nil && $0["healthCheck"] != .null }
                    task.lastStatus = "RUNNING"
                    task.startedAt = now
                    task.healthStatus = checked ? "HEALTHY" : "UNKNOWN"
                    change["lastStatus"] = .string("RUNNING")
                    change["startedAt"] = .number(now.timeIntervalSince1970)
                    if checked { change["healthStatus"] = .string("HEALTHY") }
                    let mode = definition?["networkMode"]?.stringValue ?? "bridge"
                    change["containers"] = .array(
                        containers.map { container in
                            var bindings: [JSONValue] = []
                            for mapping in container["portMappings"]?.arrayValue ?? [] {
                                let containerPort = mapping["containerPort"]?.intValue ?? 0
                                var hostPort = mapping["hostPort"]?.intValue ?? 0
                                if mode == "host" { hostPort = containerPort }
                                if hostPort == 0 {
                                    hostPort = hosts[slot].nextHostPort
                                    hosts[slot].nextHostPort += 1
                                }
                                bindings.append(
                                    .object([
                                        "bindIP": .string("0.0.0.0"), "containerPort": .number(Double(containerPort)),
                                        "hostPort": .number(Double(hostPort)),
                                        "protocol": mapping["protocol"] ?? .string("tcp"),
                                    ]))
                            }
                            var report: [String: JSONValue] = [
                                "name": container["name"] ?? .null, "lastStatus": .string("RUNNING"),
                                "networkBindings": .array(bindings),
                            ]
                            if container["healthCheck"] != nil, container["healthCheck"] != .null {
                                report["healthStatus"] = .string("HEALTHY")
                            }
                            return .object(report)
                        })
                }
            } else {
                hosts[slot].tasks[arn] = task
                continue
            }
            hosts[slot].tasks[arn] = task
            changes[arn] = .object(change)
        }
        guard !changes.isEmpty else { return }
        let ordered = changes.keys.sorted().compactMap { changes[$0] }
        for batch in stride(from: 0, to: ordered.count, by: 100) {
            _ = try await call(
                "SubmitStateChanges",
                .object([
                    "cluster": .string(cluster), "containerInstanceArn": .string(host.containerInstanceArn),
                    "tasks": .array(Array(ordered[batch..<min(batch + 100, ordered.count)])),
                ]), host.credential)
        }
    }
}

/// A fake agent got an answer it cannot use.
public enum FakeAgentError: Error {
    case unexpectedReply(String, String)
}
