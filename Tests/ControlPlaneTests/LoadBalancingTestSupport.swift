import AgentProtocol
@testable import ControlPlane
import ECSVocabulary
import FlotillaTestKit
import Foundation
import Glibc
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LoadBalancer
import Logging
import SigV4
import Synchronization
import TaskDefinitions

// MARK: - Harness

/// A control plane on an in-memory store with the embedded balancers running against it (passes every 50 ms), on
/// an injected clock for grace periods.
struct BalancingControlPlane: Sendable {
    let store: ControlPlaneStore
    let board: LoadBalancerStatusBoard
    let clock: ManualClock

    /// Runs `body` with the router test client; the embedded balancers run beside it unless `embedded` is false.
    /// A given `store` and `clock` outlive the run, as a control plane's file and time outlive a restart.
    static func run(
        embedded: Bool = true, store: ControlPlaneStore? = nil, clock: ManualClock = ManualClock(),
        maxConnections: Int = LoadBalancerConfiguration.defaultMaxConnections,
        idleTimeout: Duration = LoadBalancerConfiguration.defaultIdleTimeout,
        logger: Logger = Logger(label: "flotilla.test"),
        _ body: @escaping @Sendable (any TestClientProtocol, BalancingControlPlane) async throws -> Void
    ) async throws {
        let harness = BalancingControlPlane(
            store: try store ?? ControlPlaneStore.inMemory(), board: LoadBalancerStatusBoard(),
            clock: clock)
        // About balancing, not signatures: the hand-moved clock may leave a signature's five minutes behind.
        let api = ECSAPI(
            store: harness.store, configuration: ControlPlaneConfiguration(), authentication: .insecureNoAuth,
            loadBalancers: harness.board, clock: { clock.date })
        let application = Application(router: ControlPlaneApplication.router(api: api), logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            if embedded {
                let service = EmbeddedLoadBalancers(
                    store: harness.store, board: harness.board, interval: .milliseconds(50),
                    maxConnections: maxConnections, idleTimeout: idleTimeout,
                    now: { clock.date }, logger: logger)
                group.addTask { try await service.run() }
            }
            try await application.test(.router) { client in try await body(client, harness) }
            group.cancelAll()
        }
    }

    /// Writes a task of service `service` straight into the store (the reconciler's job once it exists), on
    /// `instance`, with container `web`'s port 80 bound to `hostPort`.
    @discardableResult
    func putServiceTask(
        service: String = "web", instance: String, taskDefinitionArn: String, hostPort: Int,
        lastStatus: TaskStatus = .running, healthStatus: HealthStatus? = nil
    ) async throws -> String {
        let id = UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        let now = clock.date
        return try await store.write { db in
            let cluster = try db.defaultCluster()
            let arn = "arn:aws:ecs:us-east-1:000000000000:task/default/\(id)"
            let binding: JSONValue = .object([
                "bindIP": .string("0.0.0.0"), "containerPort": .number(80),
                "hostPort": .number(Double(hostPort)), "protocol": .string("tcp"),
            ])
            let task = ECSTask(
                taskArn: arn, clusterArn: cluster.clusterArn, taskDefinitionArn: taskDefinitionArn,
                containerInstanceArn: instance, overrides: nil, lastStatus: lastStatus, desiredStatus: .running,
                cpu: "128", memory: "64",
                containers: [
                    TaskContainer(
                        containerArn: nil, taskArn: arn, name: "web", image: "flotilla/busybox:1",
                        lastStatus: WireValue(lastStatus == .running ? .running : .pending), exitCode: nil,
                        reason: nil, healthStatus: healthStatus.map(WireValue.init), networkBindings: [binding],
                        cpu: nil, memory: nil)
                ],
                startedBy: "ecs-svc/test", group: "service:\(service)", launchType: "EC2", version: 1,
                stoppedReason: nil, stopCode: nil, createdAt: now, startedAt: now, healthStatus: healthStatus)
            try db.saveTask(task, cluster: cluster)
            return arn
        }
    }

    /// What the balancers reported of `taskArn`, by balancer name (the `targetHealth` rows).
    func targetHealth(_ taskArn: String) async throws -> [String: TargetHealth] {
        let cluster = try await store.read { db in try db.defaultCluster() }
        return try await store.read { db in try db.targetHealth(inCluster: cluster.clusterName)[taskArn] ?? [:] }
    }

    /// Sets a stored task's container health (what an agent's report would do).
    func setContainerHealth(_ taskArn: String, _ health: HealthStatus) async throws {
        try await store.write { db in
            let cluster = try db.defaultCluster()
            guard var task = try db.task(taskArn, in: cluster) else {
                throw HarnessError.unexpected("no task \(taskArn)")
            }
            task.containers[0].healthStatus = WireValue(health)
            task.version += 1
            try db.saveTask(task, cluster: cluster)
        }
    }

    /// Waits until the embedded balancers have finished `count` more passes (each reads the store and the clock
    /// afresh), so a test can say "a pass later, still ..." without waiting for time.
    func passes(_ count: Int) async {
        let target = board.completedPasses + count
        _ = await eventually { board.completedPasses >= target }
    }

    /// A reconciler on this control plane's store and clock (tests run its passes by hand).
    func reconciler(logger: Logger = Logger(label: "flotilla.test")) -> Reconciler {
        let clock = clock
        return Reconciler(store: store, now: { clock.date }, seed: 1, logger: logger)
    }

    /// When the task's held stop began deregistering (`task.deregisteringSince`), nil when no stop is held.
    func deregisteringSince(_ taskArn: String) async throws -> Date? {
        try await store.read { db in
            try Double.fetchOne(db, sql: "SELECT deregisteringSince FROM task WHERE arn = ?", arguments: [taskArn])
                .map(Date.init(timeIntervalSince1970:))
        }
    }

    func task(_ taskArn: String) async throws -> ECSTask {
        try await store.read { db in
            let cluster = try db.defaultCluster()
            guard let task = try db.task(taskArn, in: cluster) else {
                throw HarnessError.unexpected("no task \(taskArn)")
            }
            return task
        }
    }
}

extension Database {
    func defaultCluster() throws -> Cluster {
        guard let cluster = try cluster("default") else { throw HarnessError.unexpected("no default cluster") }
        return cluster
    }
}

extension TestClientProtocol {
    /// Calls one `FlotillaV1` operation.
    func flotilla(_ operation: String, _ json: String = "{}") async throws -> ECSReply {
        try await call(TargetPrefix.flotilla.target(operation), json)
    }

    @discardableResult
    func flotillaOK(_ operation: String, _ json: String = "{}") async throws -> JSONValue {
        let reply = try await flotilla(operation, json)
        guard reply.status == 200 else {
            throw HarnessError.unexpected(
                "\(operation) answered \(reply.status): \(reply.errorType ?? "") \(reply.message)")
        }
        return reply.body
    }

    /// The one balancer `name` as DescribeLoadBalancers shows it.
    func describeBalancer(_ name: String) async throws -> JSONValue {
        let answer = try await flotillaOK("DescribeLoadBalancers", #"{"names": ["\#(name)"]}"#)
        guard let balancer = answer["loadBalancers"]?[0] else { throw HarnessError.unexpected("no balancer \(name)") }
        return balancer
    }

    /// A cluster, the `web` task definition (container `web`, port 80), an agent instance at 127.0.0.2, a balancer
    /// `name` on `port` with fast health checks, and service `web` attached to it. Answers the instance and the
    /// task definition ARNs.
    func balancedService(
        balancer name: String = "web", port: Int, grace: Int = 0, deregistrationDelay: Double = 5,
        healthyThreshold: Int = 1
    ) async throws -> (instance: String, taskDefinition: String) {
        let (instance, _, taskDefinition) = try await balancedServiceWithAgent(
            balancer: name, port: port, grace: grace, deregistrationDelay: deregistrationDelay,
            healthyThreshold: healthyThreshold)
        return (instance, taskDefinition)
    }

    /// `balancedService`, also answering the agent credential of the instance (to poll as its agent).
    func balancedServiceWithAgent(
        balancer name: String = "web", port: Int, grace: Int = 0, deregistrationDelay: Double = 5,
        healthyThreshold: Int = 1
    ) async throws -> (instance: String, credential: AWSCredentials, taskDefinition: String) {
        try await createCluster()
        let definition = try await registerWeb()
        let taskDefinition = definition["taskDefinition"]?["taskDefinitionArn"]?.stringValue ?? ""
        let (instance, credential, _) = try await registerAgent()
        try await flotillaOK(
            "CreateLoadBalancer",
            """
            {"loadBalancerName": "\(name)", "listenerPort": \(port), "listenerAddress": "127.0.0.1",
             "healthCheck": {"protocol": "TCP", "intervalSeconds": 0.5, "timeoutSeconds": 0.5,
                             "healthyThreshold": \(healthyThreshold), "unhealthyThreshold": 1},
             "deregistrationDelaySeconds": \(deregistrationDelay)}
            """)
        try await ok(
            "CreateService",
            """
            {"serviceName": "web", "taskDefinition": "web", "desiredCount": 0, "healthCheckGracePeriodSeconds": \(grace),
             "loadBalancers": [{"loadBalancerName": "\(name)", "containerName": "web", "containerPort": 80}]}
            """)
        return (instance, credential, taskDefinition)
    }

    /// The desiredStatus the agent of `instance` is told for `taskArn` (PollDesiredTasks without waiting), nil when
    /// the poll does not list the task.
    func agentDesiredStatus(
        of taskArn: String, instance: String, credential: AWSCredentials
    ) async throws -> String? {
        let answer = try await agentOK(
            "PollDesiredTasks", #"{"cluster": "default", "containerInstanceArn": "\#(instance)", "waitSeconds": 0}"#,
            as: credential)
        return answer["tasks"]?.arrayValue?.first { $0["taskArn"]?.stringValue == taskArn }?["desiredStatus"]?
            .stringValue
    }
}
