import AgentProtocol
@testable import ControlPlane
import FlotillaTestKit
import Foundation
import Glibc
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LoadBalancer
import Logging
import Synchronization
import TaskDefinitions

// MARK: - Harness

/// A control plane on an in-memory store with the embedded balancers running against it (passes every 50 ms), on
/// an injected clock for grace periods.
struct BalancingControlPlane: Sendable {
    let store: ControlPlaneStore
    let board: LoadBalancerStatusBoard
    let clock: BalancingTestClock

    /// Runs `body` with the router test client; the embedded balancers run beside it unless `embedded` is false.
    /// A given `store` and `clock` outlive the run, as a control plane's file and time outlive a restart.
    static func run(
        embedded: Bool = true, store: ControlPlaneStore? = nil, clock: BalancingTestClock = BalancingTestClock(),
        maxConnections: Int = LoadBalancerConfiguration.defaultMaxConnections,
        idleTimeout: Duration = LoadBalancerConfiguration.defaultIdleTimeout,
        logger: Logger = Logger(label: "flotilla.test"),
        _ body: @escaping @Sendable (any TestClientProtocol, BalancingControlPlane) async throws -> Void
    ) async throws {
        let harness = BalancingControlPlane(store: try store ?? ControlPlaneStore.inMemory(), board: LoadBalancerStatusBoard(),
                                            clock: clock)
        let api = ECSAPI(store: harness.store, configuration: ControlPlaneConfiguration(), loadBalancers: harness.board,
                         clock: { clock.now })
        let application = Application(router: ControlPlaneApplication.router(api: api), logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            if embedded {
                let service = EmbeddedLoadBalancers(store: harness.store, board: harness.board, interval: .milliseconds(50),
                                                    maxConnections: maxConnections, idleTimeout: idleTimeout,
                                                    now: { clock.now }, logger: logger)
                group.addTask { try await service.run() }
            }
            try await application.test(.router) { client in try await body(client, harness) }
            group.cancelAll()
        }
    }

    /// Writes a task of service `service` straight into the store (the reconciler's job once it exists), on
    /// `instance`, with container `web`'s port 80 bound to `hostPort`.
    @discardableResult
    func putServiceTask(service: String = "web", instance: String, taskDefinitionArn: String, hostPort: Int,
                        lastStatus: String = "RUNNING", healthStatus: String? = nil) async throws -> String {
        let id = UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        let now = clock.now
        return try await store.write { db in
            let cluster = try db.defaultCluster()
            let arn = "arn:aws:ecs:us-east-1:000000000000:task/default/\(id)"
            let binding: JSONValue = .object(["bindIP": .string("0.0.0.0"), "containerPort": .number(80),
                                              "hostPort": .number(Double(hostPort)), "protocol": .string("tcp")])
            let task = ECSTask(
                taskArn: arn, clusterArn: cluster.clusterArn, taskDefinitionArn: taskDefinitionArn,
                containerInstanceArn: instance, overrides: nil, lastStatus: lastStatus, desiredStatus: "RUNNING",
                cpu: "128", memory: "64",
                containers: [TaskContainer(containerArn: nil, taskArn: arn, name: "web", image: "flotilla/busybox:1",
                                           lastStatus: lastStatus == "RUNNING" ? "RUNNING" : "PENDING", exitCode: nil,
                                           reason: nil, healthStatus: healthStatus, networkBindings: [binding],
                                           cpu: nil, memory: nil)],
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
    func setContainerHealth(_ taskArn: String, _ health: String) async throws {
        try await store.write { db in
            let cluster = try db.defaultCluster()
            guard var task = try db.task(taskArn, in: cluster) else { throw HarnessError.unexpected("no task \(taskArn)") }
            task.containers[0].healthStatus = health
            task.version += 1
            try db.saveTask(task, cluster: cluster)
        }
    }

    /// A reconciler on this control plane's store and clock (tests run its passes by hand).
    func reconciler(logger: Logger = Logger(label: "flotilla.test")) -> Reconciler {
        let clock = clock
        return Reconciler(store: store, now: { clock.now }, seed: 1, logger: logger)
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
            guard let task = try db.task(taskArn, in: cluster) else { throw HarnessError.unexpected("no task \(taskArn)") }
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

/// A settable clock (grace periods are compared with it, never with the real time).
final class BalancingTestClock: Sendable {
    private let value = Mutex(Date(timeIntervalSince1970: 1_700_000_000))
    var now: Date { value.withLock { $0 } }
    func advance(seconds: TimeInterval) { value.withLock { $0 += seconds } }
}

extension TestClientProtocol {
    /// Calls one `FlotillaV1` operation.
    func flotilla(_ operation: String, _ json: String = "{}") async throws -> ECSReply {
        try await raw(headers: [HTTPField.Name("X-Amz-Target")!: "FlotillaV1.\(operation)",
                                .contentType: "application/x-amz-json-1.1"], body: json)
    }

    @discardableResult
    func flotillaOK(_ operation: String, _ json: String = "{}") async throws -> JSONValue {
        let reply = try await flotilla(operation, json)
        guard reply.status == 200 else {
            throw HarnessError.unexpected("\(operation) answered \(reply.status): \(reply.errorType ?? "") \(reply.message)")
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
    func balancedService(balancer name: String = "web", port: Int, grace: Int = 0, deregistrationDelay: Double = 5,
                         healthyThreshold: Int = 1) async throws -> (instance: String, taskDefinition: String) {
        let (instance, _, taskDefinition) = try await balancedServiceWithAgent(
            balancer: name, port: port, grace: grace, deregistrationDelay: deregistrationDelay, healthyThreshold: healthyThreshold)
        return (instance, taskDefinition)
    }

    /// `balancedService`, also answering the agent credential of the instance (to poll as its agent).
    func balancedServiceWithAgent(balancer name: String = "web", port: Int, grace: Int = 0, deregistrationDelay: Double = 5,
                                  healthyThreshold: Int = 1) async throws -> (instance: String, credential: String, taskDefinition: String) {
        try await createCluster()
        let definition = try await registerWeb()
        let taskDefinition = definition["taskDefinition"]?["taskDefinitionArn"]?.stringValue ?? ""
        let (instance, credential, _) = try await registerAgent()
        try await flotillaOK("CreateLoadBalancer", """
            {"loadBalancerName": "\(name)", "listenerPort": \(port), "listenerAddress": "127.0.0.1",
             "healthCheck": {"protocol": "TCP", "intervalSeconds": 0.1, "timeoutSeconds": 0.1,
                             "healthyThreshold": \(healthyThreshold), "unhealthyThreshold": 1},
             "deregistrationDelaySeconds": \(deregistrationDelay)}
            """)
        try await ok("CreateService", """
            {"serviceName": "web", "taskDefinition": "web", "desiredCount": 0, "healthCheckGracePeriodSeconds": \(grace),
             "loadBalancers": [{"loadBalancerName": "\(name)", "containerName": "web", "containerPort": 80}]}
            """)
        return (instance, credential, taskDefinition)
    }

    /// The desiredStatus the agent of `instance` is told for `taskArn` (PollDesiredTasks without waiting), nil when
    /// the poll does not list the task.
    func agentDesiredStatus(of taskArn: String, instance: String, credential: String) async throws -> String? {
        let answer = try await agentOK("PollDesiredTasks", """
            {"cluster": "default", "containerInstanceArn": "\(instance)", "credential": "\(credential)", "waitSeconds": 0}
            """)
        return answer["tasks"]?.arrayValue?.first { $0["taskArn"]?.stringValue == taskArn }?["desiredStatus"]?.stringValue
    }
}

/// Polls `condition` every 20 ms, at most 500 times (a bound against hangs, not a timing assertion).
func eventually(_ condition: () async throws -> Bool) async throws -> Bool {
    for _ in 0..<500 {
        if try await condition() { return true }
        try await Task.sleep(for: .milliseconds(20))
    }
    return try await condition()
}

// MARK: - Sockets

/// A free TCP port on loopback right now.
func freePort() throws -> Int { try ControlPlaneProcess.freeLoopbackPort() }

func socketAddress(_ host: String, _ port: Int) -> sockaddr_in {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr(host)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    return address
}

enum ELBTestSocketError: Error { case failed(String) }

/// A listening TCP socket on `host:port` (0: any port) that accepts nothing by itself.
///
/// Its descriptor is closed exactly once (by `close()` or `deinit`): every test runs in one process, so a second
/// close would close whatever another test opened under the same number since.
final class ListeningSocket: Sendable {
    let fd: Int32
    let port: Int
    private let isOpen = Mutex(true)

    init(host: String = "127.0.0.1", port: Int = 0) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = socketAddress(host, port)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && listen(fd, 128) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard bound else {
            Glibc.close(fd)
            throw ELBTestSocketError.failed("bind \(host):\(port): errno \(errno)")
        }
        self.fd = fd
        self.port = Int(UInt16(bigEndian: address.sin_port))
    }

    /// Stops listening: connects are refused and a blocked `accept` returns. The descriptor stays valid until
    /// `close()` or `deinit`, so a thread still looping on `accept` never reaches another test's socket.
    func stopListening() {
        shutdown(fd, Int32(SHUT_RDWR))
    }

    /// Frees the port.
    func close() {
        let wasOpen = isOpen.withLock { open in
            let was = open
            open = false
            return was
        }
        guard wasOpen else { return }
        shutdown(fd, Int32(SHUT_RDWR))
        Glibc.close(fd)
    }

    deinit { close() }
}

/// A tiny HTTP/1.0 backend (one thread per connection) standing in for a task's container: `/name` answers its
/// name; `/slow` answers `slow` at once and ` done` when `releaseSlow()` is called. Health-check connections
/// (no request) are not counted.
final class ELBTestBackend: Sendable {
    let name: String
    let port: Int
    private let listener: ListeningSocket
    private let state = Mutex((requests: 0, slowInFlight: 0, slowReleased: false))

    init(name: String, host: String = "127.0.0.2") throws {
        self.name = name
        self.listener = try ListeningSocket(host: host)
        self.port = listener.port
        Thread { [self] in self.acceptLoop() }.start()
    }

    var requests: Int { state.withLock { $0.requests } }
    var slowInFlight: Int { state.withLock { $0.slowInFlight } }
    func releaseSlow() { state.withLock { $0.slowReleased = true } }

    /// Stops accepting: new connections are refused, as when the container died.
    func kill() { listener.stopListening() }

    private func acceptLoop() {
        while true {
            let connection = accept(listener.fd, nil, nil)
            if connection < 0 { return }
            Thread { [self] in self.serve(connection) }.start()
        }
    }

    private func serve(_ connection: Int32) {
        defer { Glibc.close(connection) }
        var request: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1024)
        while !String(decoding: request, as: UTF8.self).contains("\r\n\r\n") {
            let count = read(connection, &buffer, buffer.count)
            if count <= 0 { return }
            request += buffer[..<count]
        }
        let path = String(decoding: request, as: UTF8.self).split(separator: " ").dropFirst().first ?? ""
        state.withLock { $0.requests += 1 }
        func send(_ text: String) { _ = Array(text.utf8).withUnsafeBytes { write(connection, $0.baseAddress, $0.count) } }
        if path == "/slow" {
            state.withLock { $0.slowInFlight += 1 }
            send("HTTP/1.0 200 OK\r\n\r\nslow")
            // Bounded: at most 20 s without a release.
            for _ in 0..<2000 where !state.withLock({ $0.slowReleased }) { usleep(10_000) }
            send(" done")
            state.withLock { $0.slowInFlight -= 1 }
        } else {
            send("HTTP/1.0 200 OK\r\n\r\n\(name)")
        }
    }
}

/// A blocking TCP client to `127.0.0.1:port` (10 s receive timeout).
final class ELBTestClient {
    let fd: Int32

    /// The socket is stored only once connected: a throwing init of a fully initialized class runs `deinit`, and
    /// a second close would close whatever another test opened under the same number since.
    init(port: Int) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = socketAddress("127.0.0.1", port)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            let error = errno
            Glibc.close(fd)
            throw ELBTestSocketError.failed("connect 127.0.0.1:\(port): errno \(error)")
        }
        self.fd = fd
    }

    deinit { Glibc.close(fd) }

    func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        guard write(fd, bytes, bytes.count) == bytes.count else { throw ELBTestSocketError.failed("write") }
    }

    /// At least `count` bytes (or fewer when the peer closes first).
    func read(atLeast count: Int) -> String {
        var result: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while result.count < count {
            let got = Glibc.read(fd, &buffer, buffer.count)
            if got <= 0 { break }
            result += buffer[..<got]
        }
        return String(decoding: result, as: UTF8.self)
    }

    /// Everything until the peer closes.
    func readToEnd() -> String { read(atLeast: Int.max) }

    /// One `GET path` over a new connection through the balancer on `port`; the body.
    static func get(_ path: String, port: Int) throws -> String {
        let client = try ELBTestClient(port: port)
        try client.send("GET \(path) HTTP/1.0\r\n\r\n")
        let response = client.readToEnd()
        guard let split = response.range(of: "\r\n\r\n") else { throw ELBTestSocketError.failed("no response") }
        return String(response[split.upperBound...])
    }
}
