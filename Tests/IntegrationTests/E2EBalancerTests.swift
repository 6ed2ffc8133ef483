import FlotillaTestKit
import Foundation
import Synchronization
import TaskDefinitions
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Issue 6 on real tasks: the control plane's embedded balancer in front of service web, whose replicas run on
/// three agents in their own network namespaces.
@Suite(
    "E2E: the embedded balancer in front of a service", .enabled(if: getuid() == 0), .serialized,
    .timeLimit(.minutes(10)))
struct E2EBalancerTests {
    /// Creates load balancer `web`, round robin, on a free loopback port with an HTTP health check of `/` every
    /// second; returns the port.
    func createWebBalancer(_ cluster: E2ECluster, unhealthyThreshold: Int, deregistrationDelay: Int) async throws -> Int
    {
        let port = try freePort(on: "127.0.0.1")
        try await cluster.controlPlane.invoke(
            "FlotillaV1.CreateLoadBalancer",
            [
                "loadBalancerName": "web", "listenerPort": port, "listenerAddress": "127.0.0.1",
                "algorithm": "round-robin",
                "healthCheck": [
                    "protocol": "HTTP", "path": "/", "intervalSeconds": 1, "timeoutSeconds": 1,
                    "healthyThreshold": 1, "unhealthyThreshold": unhealthyThreshold,
                ],
                "deregistrationDelaySeconds": deregistrationDelay,
            ])
        return port
    }

    /// Creates load balancer `web` and service web behind it; returns the listener's URL once every replica is a
    /// target.
    func webBehindBalancer(_ cluster: E2ECluster, replicas: Int) async throws -> String {
        // Two failed checks in a row (1 s apart, 1 s timeout) take a target out: one check slowed by a loaded machine
        // must not take a healthy replica out (and, its task being replaced, every replica at once).
        let port = try await createWebBalancer(cluster, unhealthyThreshold: 2, deregistrationDelay: 1)
        try await cluster.createWebService(desiredCount: replicas, loadBalancer: "web")
        let tasks = try await cluster.waitForSteadyService(count: replicas)
        let bindings = Set(
            tasks.compactMap { task in
                task.hostPort(containerPort: 80).flatMap { port in
                    cluster.container(of: task).map { "\($0.agent.host.address):\(port)" }
                }
            })
        #expect(bindings.count == replicas)
        let targeted = try await eventually(within: .seconds(30)) {
            try await cluster.healthyTargets("web").isSuperset(of: bindings) ? true : nil
        }
        #expect(targeted == true, "the balancer's targets never covered the service's tasks:\n\(cluster.logTails())")
        return "http://127.0.0.1:\(port)/"
    }

    @Test func connectionsSpreadAcrossEveryReplica() async throws {
        try await withE2ECluster { cluster in
            // Given web (6 replicas, each serving its own page) behind balancer web
            let url = try await webBehindBalancer(cluster, replicas: 6)
            // When 60 requests go to the listener, one connection each
            var pages: [String: Int] = [:]
            var failed = 0
            for _ in 0..<60 {
                if let page = await httpGet(url, timeout: 5) { pages[page, default: 0] += 1 } else { failed += 1 }
            }
            // Then none fails and every replica served some
            #expect(failed == 0)
            #expect(pages.count == 6, "pages served: \(pages)")
        }
    }

    @Test func killedReplicaGetsNoNewConnectionOnceItsCheckFails() async throws {
        try await withE2ECluster { cluster in
            // Given web (3 replicas) behind balancer web
            let url = try await webBehindBalancer(cluster, replicas: 3)
            let tasks = try await cluster.healthyTasks()
            let victim = try #require(cluster.container(of: tasks[0]))
            let victimPage = try #require(await cluster.page(of: tasks[0]))
            let victimTarget = "\(victim.agent.host.address):\(try #require(tasks[0].hostPort(containerPort: 80)))"
            // When that replica's process is killed
            kill(try #require(victim.container.commandPID), SIGKILL)
            // Then the balancer drops its target
            let dropped = try await eventually(within: .seconds(30)) {
                try await cluster.healthyTargets("web").contains(victimTarget) ? nil : true
            }
            #expect(dropped == true, "the killed replica stayed a healthy target:\n\(cluster.logTails())")
            // And afterwards every request succeeds, none served by the killed replica
            for _ in 0..<30 {
                let page = await httpGet(url, timeout: 5)
                #expect(page != nil)
                #expect(page != victimPage)
            }
            // And the service replaces the task behind the balancer
            try await cluster.waitForSteadyService(count: 3)
        }
    }
}

extension E2EBalancerTests {
    /// Every line `seq 1 3000000` prints: what `/big` of the download test serves (about 23 MB).
    static let bigFile: [UInt8] = Array((1...3_000_000).map { "\($0)\n" }.joined().utf8)

    @Test func rollingReplacementLosesNoInFlightDownload() async throws {
        try await withE2ECluster(hosts: 2) { cluster in
            // Given balancer web with a 20 s deregistration delay in front of service web (2 replicas), whose
            // containers serve a 23 MB file /big
            let port = try await createWebBalancer(cluster, unhealthyThreshold: 2, deregistrationDelay: 20)
            try await cluster.registerExample("web.json") { definition in
                var containers = definition["containerDefinitions"] as! [[String: Any]]
                containers[0]["memory"] = 128
                containers[0]["command"] = [
                    "mkdir -p /www && seq 1 3000000 > /www/big && echo $(hostname)-$RANDOM$RANDOM > /www/index.html && exec httpd -f -p 80 -h /www"
                ]
                definition["containerDefinitions"] = containers
            }
            try await cluster.ecs(
                "CreateService",
                [
                    "serviceName": "web", "taskDefinition": "web", "desiredCount": 2,
                    "deploymentConfiguration": ["minimumHealthyPercent": 100, "maximumPercent": 200],
                    "loadBalancers": [["loadBalancerName": "web", "containerName": "web", "containerPort": 80]],
                ])
            let old = try await cluster.waitForSteadyService(count: 2)
            var oldPages: Set<String> = []
            for task in old { if let page = await cluster.page(of: task) { oldPages.insert(page) } }
            let url = "http://127.0.0.1:\(port)/"
            let targeted = try await eventually(within: .seconds(30)) {
                try await cluster.healthyTargets("web").count == 2 ? true : nil
            }
            try #require(targeted == true, "the balancer never had both replicas:\n\(cluster.logTails())")

            // And a slow download of /big through the balancer (256 KiB/s until the test lets it go faster)
            let download = SlowDownload(port: port, path: "/big")
            defer { download.finish() }
            let serving = try await eventually(within: .seconds(20)) { () async throws -> String? in
                try await cluster.targets("web").first { $0.activeConnections > 0 }?.id
            }
            let servingTask = try #require(serving, "no target shows the download's connection")
            try #require(old.contains { $0.taskArn == servingTask })

            // When the service is redeployed (update-service --force-new-deployment)
            try await cluster.ecs("UpdateService", ["service": "web", "forceNewDeployment": true])
            // Then the serving task goes DEACTIVATING (desired STOPPED) while its download is still under way
            let stopping = try await eventually(within: .seconds(90), every: .milliseconds(250)) {
                () async throws -> JSONValue? in
                try await cluster.tasks(service: "web", desiredStatus: "STOPPED").first { $0.taskArn == servingTask }
            }
            try #require(stopping != nil, "the serving task was never stopped:\n\(cluster.logTails())")
            #expect(stopping?.lastStatus == "DEACTIVATING")
            #expect(!download.isDone)
            // And meanwhile new connections go to the new tasks only
            let new = try await eventually(within: .seconds(30)) { () async throws -> [JSONValue]? in
                let running = try await cluster.healthyTasks().filter { task in
                    !old.contains { $0.taskArn == task.taskArn }
                }
                return running.count == 2 ? running : nil
            }
            var newPages: Set<String> = []
            for task in new ?? [] { if let page = await cluster.page(of: task) { newPages.insert(page) } }
            #expect(newPages.count == 2)
            let newTargets = Set(
                (new ?? []).compactMap { task in
                    task.hostPort(containerPort: 80).flatMap { port in
                        cluster.container(of: task).map { "\($0.agent.host.address):\(port)" }
                    }
                })
            let switched = try await eventually(within: .seconds(30)) {
                try await cluster.healthyTargets("web") == newTargets ? true : nil
            }
            #expect(switched == true, "the balancer's healthy targets never became the new tasks")
            var pagesServed: [String] = []
            for _ in 0..<8 { if let page = await httpGet(url, timeout: 5) { pagesServed.append(page) } }
            #expect(pagesServed.count == 8)
            #expect(
                pagesServed.allSatisfy { newPages.contains($0) && !oldPages.contains($0) }, "served: \(pagesServed)")
            #expect(
                try await cluster.tasks(service: "web", desiredStatus: "STOPPED")
                    .first { $0.taskArn == servingTask }?.lastStatus == "DEACTIVATING")

            // When the client reads the rest at 8 MiB/s
            download.speedUp()
            let body = try #require(await download.result(within: .seconds(60)), "the download never ended")
            // (When the download's own thread read the end: the test's task may see the body seconds later on a
            // loaded machine.)
            let finishedAt = try #require(download.finishedAt)
            // Then it completes byte-exact
            // (Compared outside #expect: a failed == on two 23 MB arrays would make it compute their difference.)
            let isExact = body == Self.bigFile
            #expect(isExact, "the download differs from /big (\(body.count) of \(Self.bigFile.count) bytes)")
            // And the serving task ends STOPPED after the download finished, well before the 20 s delay: it drained
            let stopped = try await eventually(within: .seconds(60)) { () async throws -> JSONValue? in
                try await cluster.tasks(service: "web", desiredStatus: "STOPPED").first {
                    $0.taskArn == servingTask && $0.lastStatus == "STOPPED"
                }
            }
            let task = try #require(stopped, "the serving task never stopped:\n\(cluster.logTails())")
            let stoppingAt = try #require(task["stoppingAt"]?.seconds)
            let stoppedAt = try #require(task["stoppedAt"]?.seconds)
            #expect(stoppedAt >= finishedAt.timeIntervalSince1970 - 1, "stopped before the download finished")
            #expect(stoppedAt - stoppingAt < 20, "the stop waited out the whole delay instead of draining")
            print(
                "e2e drain: stop requested → download done \(String(format: "%.1f", finishedAt.timeIntervalSince1970 - stoppingAt)) s, → task STOPPED \(String(format: "%.1f", stoppedAt - stoppingAt)) s (delay 20 s)"
            )
            // And the service settles on its new tasks
            try await cluster.waitForSteadyService(count: 2)
        }
    }
}

/// A download through the balancer on a thread of its own, read slowly (a small receive buffer, a paced loop) so
/// it lasts: 256 KiB/s until `speedUp()`, then 8 MiB/s. Bounded: it gives up after 120 s.
final class SlowDownload: Sendable {
    private struct State {
        var fast = false
        var finished = false
        var body: [UInt8]?
        var finishedAt: Date?
    }

    private let state = Mutex(State())

    init(port: Int, path: String) {
        Thread { [self] in self.run(port: port, path: path) }.start()
    }

    var isDone: Bool { state.withLock { $0.body != nil || $0.finished } }
    /// When the server's close was read (nil before).
    var finishedAt: Date? { state.withLock { $0.finishedAt } }
    func speedUp() { state.withLock { $0.fast = true } }
    /// Stops reading (the thread closes its socket).
    func finish() { state.withLock { $0.finished = true } }

    /// The response body once the server closed the connection, nil if it did not within `timeout`.
    func result(within timeout: Duration) async -> [UInt8]? {
        await eventually(within: timeout, every: .milliseconds(100)) { state.withLock { $0.body } }
    }

    private func run(port: Int, path: String) {
        guard let fd = connectToLoopback(port: port, timeoutSeconds: 30, receiveBuffer: 32 * 1024) else { return }
        defer { close(fd) }
        let request = Array("GET \(path) HTTP/1.0\r\nHost: web\r\n\r\n".utf8)
        guard write(fd, request, request.count) == request.count else { return }
        var response: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        let deadline = ContinuousClock.now + .seconds(120)
        // Paced by bytes over time within each phase, so the rate holds whatever each read returns.
        var phase = (fast: false, start: ContinuousClock.now, bytes: 0)
        while ContinuousClock.now < deadline, !state.withLock({ $0.finished }) {
            let count = read(fd, &chunk, chunk.count)
            if count <= 0 {
                state.withLock { $0.finishedAt = Date() }
                break
            }
            response += chunk[..<count]
            let fast = state.withLock { $0.fast }
            if fast != phase.fast { phase = (fast, ContinuousClock.now, 0) }
            phase.bytes += count
            let rate = Double(fast ? 8 << 20 : 256 << 10)
            let due = phase.start + .seconds(Double(phase.bytes) / rate)
            let wait = (due - ContinuousClock.now).components
            if due > ContinuousClock.now {
                Thread.sleep(forTimeInterval: Double(wait.seconds) + Double(wait.attoseconds) / 1e18)
            }
        }
        let separator = Array("\r\n\r\n".utf8)
        let split =
            response.count < separator.count
            ? nil
            : (0...(response.count - separator.count)).first { Array(response[$0..<$0 + separator.count]) == separator }
        let body = split.map { Array(response[($0 + separator.count)...]) } ?? []
        state.withLock { $0.body = body }
    }
}

private extension JSONValue {
    /// An ECS timestamp (seconds since 1970), when this is a number.
    var seconds: Double? {
        if case .number(let value) = self { return value }
        return nil
    }
}

extension E2ECluster {
    /// The targets of balancer `name` as DescribeLoadBalancers shows them: id (task ARN) and open connections.
    func targets(_ name: String) async throws -> [(id: String, activeConnections: Int)] {
        let answer = try await controlPlane.invoke("FlotillaV1.DescribeLoadBalancers", ["names": [name]])
        return (answer["loadBalancers"]?[0]?["targets"]?.arrayValue ?? []).map { target in
            (target["id"]?.stringValue ?? "", target["activeConnections"]?.intValue ?? 0)
        }
    }

    /// `host:port` of the targets of balancer `name` that DescribeLoadBalancers shows as healthy.
    func healthyTargets(_ name: String) async throws -> Set<String> {
        let answer = try await controlPlane.invoke("FlotillaV1.DescribeLoadBalancers", ["names": [name]])
        let targets = answer["loadBalancers"]?[0]?["targets"]?.arrayValue ?? []
        return Set(
            targets.compactMap { target -> String? in
                guard target["targetHealth"]?["state"]?.stringValue == "healthy",
                    let host = target["host"]?.stringValue,
                    let port = target["port"]?.intValue
                else { return nil }
                return "\(host):\(port)"
            })
    }
}
