import Testing

@testable import LoadBalancer

@Suite("Target set (pure)", .timeLimit(.minutes(10)))
struct TargetSetTests {
    let a = Target(id: "a", host: "10.0.0.1", port: 80)
    let b = Target(id: "b", host: "10.0.0.2", port: 80)
    let c = Target(id: "c", host: "10.0.0.3", port: 80)

    @Test func roundRobinVisitsEachHealthyTargetInTurn() {
        // Given three healthy targets
        var set = TargetSet(algorithm: .roundRobin)
        _ = set.replace(with: [a, b, c], assumeHealthy: true)
        // When six connections are picked
        let picks = (0..<6).map { _ in set.pick() }
        // Then each target is picked twice, in order
        #expect(picks == [a, b, c, a, b, c])
    }

    @Test func leastOutstandingPrefersTheIdleTarget() {
        // Given a and b each hold a connection
        var set = TargetSet(algorithm: .leastOutstandingConnections)
        _ = set.replace(with: [a, b, c], assumeHealthy: true)
        _ = set.pick()
        _ = set.pick()
        // When three short connections come and go
        var picks: [Target?] = []
        for _ in 0..<3 {
            let target = set.pick()
            picks.append(target)
            if let target { _ = set.connectionClosed(to: target) }
        }
        // Then all go to c
        #expect(picks == [c, c, c])
    }

    @Test func newTargetsJoinOnlyAfterHealthyThreshold() {
        // Given a target that is not vouched for
        var set = TargetSet(algorithm: .roundRobin)
        #expect(set.replace(with: [a], assumeHealthy: false) == [.added(a)])
        #expect(set.pick() == nil)
        // When it passes two checks with threshold 2
        #expect(set.recordCheck(of: a, passed: true, healthyThreshold: 2, unhealthyThreshold: 2) == nil)
        let transition = set.recordCheck(of: a, passed: true, healthyThreshold: 2, unhealthyThreshold: 2)
        // Then it becomes healthy and gets connections
        #expect(transition?.from == .initial)
        #expect(transition?.to == .healthy)
        #expect(set.pick() == a)
    }

    @Test func failingTargetLeavesRotationAfterUnhealthyThreshold() {
        var set = TargetSet(algorithm: .roundRobin)
        _ = set.replace(with: [a, b], assumeHealthy: true)
        // When a fails twice with threshold 2 (a pass in between resets the count)
        _ = set.recordCheck(of: a, passed: false, healthyThreshold: 2, unhealthyThreshold: 2)
        _ = set.recordCheck(of: a, passed: true, healthyThreshold: 2, unhealthyThreshold: 2)
        #expect(set.recordCheck(of: a, passed: false, healthyThreshold: 2, unhealthyThreshold: 2) == nil)
        let transition = set.recordCheck(of: a, passed: false, healthyThreshold: 2, unhealthyThreshold: 2)
        // Then only b is picked
        #expect(transition?.to == .unhealthy)
        #expect((0..<4).map { _ in set.pick() } == [b, b, b, b])
    }

    @Test func removedTargetDrainsUntilItsLastConnectionCloses() {
        // Given a holds one connection
        var set = TargetSet(algorithm: .roundRobin)
        _ = set.replace(with: [a, b], assumeHealthy: true)
        #expect(set.pick() == a)
        // When a is removed
        #expect(set.replace(with: [b], assumeHealthy: false) == [.drainStarted(a, generation: 1)])
        // Then it gets no new connection, and leaves when its connection closes
        #expect(set.pick() == b)
        #expect(set.pick() == b)
        #expect(set.connectionClosed(to: a) == [.removed(a)])
        #expect(set.members.map(\.target) == [b])
    }

    @Test func drainDelayEndOfAStaleDrainIsIgnored() {
        var set = TargetSet(algorithm: .roundRobin)
        _ = set.replace(with: [a], assumeHealthy: true)
        _ = set.pick()
        // Given a drained, came back, and drained again
        _ = set.replace(with: [], assumeHealthy: false)
        _ = set.replace(with: [a], assumeHealthy: false)
        #expect(set.pick() == a)
        let changes = set.replace(with: [], assumeHealthy: false)
        // Then only the latest drain's delay removes it
        #expect(changes == [.drainStarted(a, generation: 3)])
        let staleEnded = set.drainDelayEnded(a, generation: 1)
        let latestEnded = set.drainDelayEnded(a, generation: 3)
        #expect(!staleEnded)
        #expect(latestEnded)
        #expect(set.members.isEmpty)
    }

    @Test func connectErrorIsCountedAndNotAConnection() {
        var set = TargetSet(algorithm: .roundRobin)
        _ = set.replace(with: [a, b], assumeHealthy: true)
        let first = set.pick()
        _ = set.connectFailed(to: a)
        // Then the retry excluding a goes to b
        #expect(first == a)
        #expect(set.pick(excluding: [a]) == b)
        #expect(set.members[0].connectErrors == 1)
        #expect(set.members[0].totalConnections == 0)
        #expect(set.members[0].activeConnections == 0)
    }
}

@Suite("Configuration", .timeLimit(.minutes(10)))
struct ConfigurationTests {
    @Test func everyBadFieldIsNamed() {
        let configuration = LoadBalancerConfiguration(
            name: "", listenerPort: 70000,
            healthCheck: TargetHealthCheck(kind: .http(path: "health"), healthyThreshold: 0))
        #expect(
            throws: LoadBalancerError.invalidConfiguration([
                "name: must not be empty",
                "listenerPort: must be between 0 and 65535, got 70000",
                "healthCheck.healthyThreshold: must be between 1 and 10, got 0",
                "healthCheck.path: must start with '/', got 'health'",
            ])
        ) {
            try configuration.validate()
        }
    }
}
