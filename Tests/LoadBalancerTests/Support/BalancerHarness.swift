import LoadBalancer
import Logging

/// Runs a real balancer on a free loopback port for the body's duration, then cancels it.
func withBalancer<Result>(
    _ configuration: LoadBalancerConfiguration,
    targets: [Target],
    assumeHealthy: Bool = true,
    _ body: (LoadBalancer) async throws -> Result
) async throws -> Result {
    let balancer = try await LoadBalancer.start(
        configuration, targets: targets, assumeHealthy: assumeHealthy, logger: quietLogger)
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await balancer.run() }
        defer { group.cancelAll() }
        return try await body(balancer)
    }
}

let quietLogger = Logger(label: "flotilla.lb.test", factory: { _ in SwiftLogNoOpLogHandler() })

extension LoadBalancerConfiguration {
    /// A loopback balancer on a free port with TCP checks every 200 ms that trip on the first result.
    static func test(
        algorithm: BalancingAlgorithm = .roundRobin,
        deregistrationDelay: Duration = .seconds(30),
        interval: Duration = .milliseconds(200)
    ) -> LoadBalancerConfiguration {
        LoadBalancerConfiguration(
            name: "test", listenerHost: "127.0.0.1", listenerPort: 0, algorithm: algorithm,
            healthCheck: TargetHealthCheck(
                kind: .tcp, interval: interval, timeout: .milliseconds(200), healthyThreshold: 1,
                unhealthyThreshold: 1),
            deregistrationDelay: deregistrationDelay)
    }
}

extension TestBackend {
    var target: Target { Target(id: self.name, host: "127.0.0.1", port: self.port) }
}

extension LoadBalancerSnapshot {
    func of(_ target: Target) -> TargetSnapshot? { self.targets.first { $0.target == target } }
}

/// Three named backends on loopback, killed at the end.
func withBackends<Result>(_ count: Int = 3, _ body: ([TestBackend]) async throws -> Result) async throws -> Result {
    var backends: [TestBackend] = []
    for index in 0..<count { backends.append(try await TestBackend.start(name: "backend-\(index)")) }
    do {
        let result = try await body(backends)
        for backend in backends { await backend.kill() }
        return result
    } catch {
        for backend in backends { await backend.kill() }
        throw error
    }
}

/// Polls `condition` every 10 ms, at most `attempts` times; true once it holds. Not a timing assertion: the
/// bound only keeps a broken balancer from hanging the suite.
func eventually(attempts: Int = 500, _ condition: () -> Bool) async throws -> Bool {
    for _ in 0..<attempts {
        if condition() { return true }
        try await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}
