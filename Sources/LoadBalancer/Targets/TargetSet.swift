/// The balancer's live set of targets: who may get the next connection, who drains, who is healthy.
///
/// Pure: no clocks, no I/O. The listener asks it for a target and tells it when connections end and checks finish;
/// it answers with the target and with what changed, and the listener performs the effects (timers, closes, logs).
struct TargetSet: Sendable {
    /// One target and everything the set knows about it.
    struct Member: Sendable {
        var target: Target
        var health: TargetHealth
        var consecutivePasses = 0
        var consecutiveFailures = 0
        /// Removed by the owner: gets no new connection, keeps its open ones until the deregistration delay ends.
        var isDraining = false
        /// Counts drains, so a delay timer of an earlier drain cannot end a later one.
        var drainGeneration = 0
        var activeConnections = 0
        var totalConnections = 0
        var connectErrors = 0

        var isEligible: Bool { self.health == .healthy && !self.isDraining }
    }

    /// What an update did, for the listener to act on.
    enum Change: Hashable, Sendable {
        case added(Target)
        /// Start the deregistration delay; when it ends, call `drainDelayEnded(_:generation:)`.
        case drainStarted(Target, generation: Int)
        /// Gone for good: its connections are closed, its counters can be dropped.
        case removed(Target)
    }

    let algorithm: BalancingAlgorithm
    /// Members in registration order, the order round robin follows.
    private(set) var members: [Member] = []
    private var nextIndex = 0

    init(algorithm: BalancingAlgorithm) {
        self.algorithm = algorithm
    }

    // MARK: - Owner updates

    /// Makes `targets` the set of targets: new ones join (healthy at once if `assumeHealthy`), missing ones drain.
    mutating func replace(with targets: [Target], assumeHealthy: Bool) -> [Change] {
        var changes: [Change] = []
        let wanted = Set(targets)
        for index in self.members.indices where !wanted.contains(self.members[index].target) {
            guard !self.members[index].isDraining else { continue }
            self.members[index].isDraining = true
            self.members[index].drainGeneration += 1
            changes.append(.drainStarted(self.members[index].target, generation: self.members[index].drainGeneration))
        }
        var seen = Set<Target>()
        for target in targets where seen.insert(target).inserted {
            if let index = self.index(of: target) {
                // Back before its drain ended: it serves again, and the pending delay timer is stale.
                if self.members[index].isDraining {
                    self.members[index].isDraining = false
                    self.members[index].drainGeneration += 1
                }
                if assumeHealthy { self.members[index].health = .healthy }
            } else {
                self.members.append(Member(target: target, health: assumeHealthy ? .healthy : .initial))
                changes.append(.added(target))
            }
        }
        changes += self.removeIdleDrainingMembers()
        return changes
    }

    // MARK: - Connections

    /// Picks the target of a new connection among healthy, non-draining targets not in `excluded`, and counts the
    /// connection as open on it. Nil when no target qualifies.
    mutating func pick(excluding excluded: Set<Target> = []) -> Target? {
        let count = self.members.count
        guard count > 0 else { return nil }
        var chosen: Int?
        for step in 0..<count {
            let index = (self.nextIndex + step) % count
            let member = self.members[index]
            guard member.isEligible, !excluded.contains(member.target) else { continue }
            switch self.algorithm {
            case .roundRobin:
                chosen = index
            case .leastOutstandingConnections:
                if let best = chosen, self.members[best].activeConnections <= member.activeConnections { continue }
                chosen = index
            }
            if self.algorithm == .roundRobin { break }
        }
        guard let chosen else { return nil }
        self.nextIndex = (chosen + 1) % count
        self.members[chosen].activeConnections += 1
        self.members[chosen].totalConnections += 1
        return self.members[chosen].target
    }

    /// The connection to `target` picked earlier could not be made: it is not open, and counts as a connect error.
    mutating func connectFailed(to target: Target) -> [Change] {
        guard let index = self.index(of: target) else { return [] }
        self.members[index].connectErrors += 1
        self.members[index].totalConnections -= 1
        return self.connectionClosed(to: target)
    }

    /// A connection to `target` ended.
    mutating func connectionClosed(to target: Target) -> [Change] {
        guard let index = self.index(of: target) else { return [] }
        self.members[index].activeConnections -= 1
        precondition(
            self.members[index].activeConnections >= 0, "closed more connections than were opened to \(target)")
        return self.removeIdleDrainingMembers()
    }

    // MARK: - Draining

    /// The deregistration delay of drain `generation` of `target` ended. True when the target was still draining
    /// that drain: it is removed, and the listener closes its remaining connections.
    mutating func drainDelayEnded(_ target: Target, generation: Int) -> Bool {
        guard let index = self.index(of: target), self.members[index].isDraining,
            self.members[index].drainGeneration == generation
        else { return false }
        self.removeMember(at: index)
        return true
    }

    /// Every target drains (the balancer is shutting down).
    mutating func drainAll() -> [Change] {
        self.replace(with: [], assumeHealthy: false)
    }

    var activeConnections: Int { self.members.reduce(0) { $0 + $1.activeConnections } }

    // MARK: - Health

    /// Targets whose health is checked: all but draining ones.
    var targetsToCheck: [Target] { self.members.filter { !$0.isDraining }.map(\.target) }

    /// Records one health-check result; returns the transition when it crossed a threshold.
    mutating func recordCheck(
        of target: Target, passed: Bool, healthyThreshold: Int, unhealthyThreshold: Int
    ) -> (from: TargetHealth, to: TargetHealth)? {
        guard let index = self.index(of: target), !self.members[index].isDraining else { return nil }
        var member = self.members[index]
        defer { self.members[index] = member }
        let before = member.health
        if passed {
            member.consecutivePasses += 1
            member.consecutiveFailures = 0
            if before != .healthy, member.consecutivePasses >= healthyThreshold { member.health = .healthy }
        } else {
            member.consecutiveFailures += 1
            member.consecutivePasses = 0
            if before != .unhealthy, member.consecutiveFailures >= unhealthyThreshold { member.health = .unhealthy }
        }
        return member.health == before ? nil : (before, member.health)
    }

    // MARK: - Private

    private func index(of target: Target) -> Int? {
        self.members.firstIndex { $0.target == target }
    }

    private mutating func removeIdleDrainingMembers() -> [Change] {
        var changes: [Change] = []
        while let index = self.members.firstIndex(where: { $0.isDraining && $0.activeConnections == 0 }) {
            changes.append(.removed(self.members[index].target))
            self.removeMember(at: index)
        }
        return changes
    }

    private mutating func removeMember(at index: Int) {
        self.members.remove(at: index)
        if index < self.nextIndex { self.nextIndex -= 1 }
        if self.nextIndex >= self.members.count { self.nextIndex = 0 }
    }
}
