import Logging
import Synchronization

extension LoadBalancer {
    /// Checks every non-draining target each interval, concurrently, until the task is cancelled.
    func checkHealthUntilCancelled() async {
        let healthCheck = self.configuration.healthCheck
        let clock = ContinuousClock()
        while !Task.isCancelled {
            let next = clock.now.advanced(by: healthCheck.interval)
            let targets = self.state.withLock { $0.targets.targetsToCheck }
            await withDiscardingTaskGroup { group in
                for target in targets {
                    group.addTask {
                        let passed = await HealthProbe.check(target, healthCheck, group: self.eventLoopGroup)
                        self.record(check: passed, of: target)
                    }
                }
            }
            do { try await clock.sleep(until: next) } catch { return }
        }
    }

    /// Applies one check result; a threshold crossing is logged, counted and published.
    func record(check passed: Bool, of target: Target) {
        let healthCheck = self.configuration.healthCheck
        let (transition, counters) = self.state.withLock { state in
            let transition = state.targets.recordCheck(
                of: target, passed: passed, healthyThreshold: healthCheck.healthyThreshold,
                unhealthyThreshold: healthCheck.unhealthyThreshold)
            return (transition, state.counters[target])
        }
        guard let transition else { return }
        counters?.record(health: transition.to)
        let metadata: Logger.Metadata = [
            "target.id": "\(target.id)", "target.address": "\(target.address)",
            "target.health": "\(transition.to.rawValue)", "target.previous_health": "\(transition.from.rawValue)",
        ]
        if transition.to == .unhealthy {
            self.logger.warning("Target failed health checks", metadata: metadata)
        } else {
            self.logger.info("Target health changed", metadata: metadata)
        }
        self.transitions.yield(
            TargetHealthTransition(
                balancer: self.configuration.name, target: target, from: transition.from, to: transition.to))
    }
}
