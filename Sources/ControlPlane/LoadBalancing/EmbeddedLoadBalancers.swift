import ECSProtocol
public import Foundation
import GRDB
public import LoadBalancer
public import Logging
import Metrics
public import ServiceLifecycle

/// Runs every stored load balancer inside the control plane and feeds it its service's targets from the store.
///
/// Level-triggered, like the reconciler: each pass reads the store in one transaction and makes the running
/// balancers match it. Listeners start for new balancers and stop (draining) for deleted ones; each balancer's
/// targets become the host bindings of its services' RUNNING (and, with a container health check, HEALTHY) tasks;
/// the balancers' own verdicts on them go to the store's `targetHealth` as they change, where the reconciler reads
/// them (a task counts as healthy once its balancers find it healthy; one failing past its service's
/// `healthCheckGracePeriodSeconds` is replaced). A stopped task held for draining
/// (`Database.stopTask`, lastStatus DEACTIVATING) has its stop released to the agent as soon as none of its balancers
/// has an open connection to it, or when its deregistration delay is over. A pass runs after every commit that
/// touches tasks, services, balancers or instance addresses, and at least every `interval`.
///
/// A balancer whose listener cannot start (its port is in use) is reported FAILED in DescribeLoadBalancers and in
/// the log, retried every pass, and never stops the control plane. Balancers keep their last targets whatever
/// happens to the store: a failed read changes nothing.
///
/// - Important: Run it in the control plane's `ServiceGroup`. On graceful shutdown every balancer stops accepting
///   and drains for up to its deregistration delay.
public struct EmbeddedLoadBalancers: Service {
    let store: ControlPlaneStore
    let board: LoadBalancerStatusBoard
    let interval: Duration
    let maxConnections: Int
    let idleTimeout: Duration
    let now: @Sendable () -> Date
    let logger: Logger

    /// - Parameters:
    ///   - board: where DescribeLoadBalancers reads the live state (the API's `loadBalancers`).
    ///   - interval: the longest time between two passes.
    ///   - maxConnections: each balancer's cap on client connections open at once (`ecs-control-plane
    ///     --balancer-max-connections`, as `ecs-lb --max-connections`).
    ///   - idleTimeout: a connection of any balancer moving no byte this long is closed (`--balancer-idle-timeout`).
    ///   - now: the clock grace periods are measured with (tests inject one).
    public init(
        store: ControlPlaneStore, board: LoadBalancerStatusBoard, interval: Duration = .seconds(1),
        maxConnections: Int = LoadBalancerConfiguration.defaultMaxConnections,
        idleTimeout: Duration = LoadBalancerConfiguration.defaultIdleTimeout,
        now: @escaping @Sendable () -> Date = { Date() }, logger: Logger
    ) {
        self.store = store
        self.board = board
        self.interval = interval
        self.maxConnections = maxConnections
        self.idleTimeout = idleTimeout
        self.now = now
        self.logger = logger
    }

    /// One balancer this service runs.
    struct Running {
        var definition: LoadBalancerDefinition
        var balancer: LoadBalancer
    }

    /// What the passes remember between them.
    struct State {
        var running: [String: Running] = [:]
        /// The last start failure logged per balancer, so a port that stays taken is logged once, not every pass.
        var failures: [String: String] = [:]
        /// The target health last written to the store (balancer → task ARN → health); nil before the first write.
        var reportedHealth: [String: [String: TargetHealth]]?
    }

    public func run() async throws {
        let (wakeups, wake) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        // Targets and balancers; contact stamps change nothing here, a new agent address moves targets.
        let observer = TableCommitObserver(watching: [
            "task": nil, "service": nil, "loadbalancer": nil, "containerinstance": ["agentaddress"],
        ]) { wake.yield() }
        store.writer.add(transactionObserver: observer, extent: .observerLifetime)
        board.setServing(true)
        logger.info("embedded load balancers starting")
        await withDiscardingTaskGroup { group in
            group.addTask {
                await cancelWhenGracefulShutdown {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: interval)
                        wake.yield()
                    }
                }
            }
            var state = State()
            wake.yield()
            for await _ in wakeups.cancelOnGracefulShutdown() {
                for balancer in await syncOnce(&state) {
                    group.addTask { try? await balancer.run() }
                    // A health verdict changes what the store should say: pass again at once (ends when it stops).
                    group.addTask { for await _ in balancer.healthTransitions { wake.yield() } }
                }
                board.recordPass()
            }
            // Graceful shutdown: every balancer's run() sees it too and drains; the group waits for them.
        }
        store.writer.remove(transactionObserver: observer)
        board.setServing(false)
        logger.info("embedded load balancers stopped")
    }

    // MARK: - One pass

    /// Makes the running balancers match the store; returns the balancers it started, for the caller to run.
    func syncOnce(_ state: inout State) async -> [LoadBalancer] {
        let wanted: [LoadBalancerDefinition]
        let targets: [String: [DesiredTarget]]
        let deregistering: [DeregisteringTask]
        do {
            (wanted, targets, deregistering) = try await store.read { db in
                let definitions = try db.loadBalancerDefinitions()
                let attachments = try db.loadBalancerAttachments()
                let desired = try db.desiredTargets(of: attachments)
                return (
                    definitions, Dictionary(grouping: desired, by: \.attachment.loadBalancerName),
                    try db.deregisteringTasks()
                )
            }
        } catch {
            store.health.logFailure(
                error, "load balancer targets not read; keeping the current ones", metadata: [:], logger: logger)
            return []
        }
        let wantedByName = Dictionary(wanted.map { ($0.loadBalancerName, $0) }, uniquingKeysWith: { first, _ in first })

        // Stop balancers deleted or redefined since they started.
        for (name, running) in state.running where wantedByName[name] != running.definition {
            running.balancer.stop()
            state.running[name] = nil
            board.set(nil, for: name)
            logger.info("load balancer stopping", metadata: ["lb.name": "\(name)"])
        }
        for name in state.failures.keys where wantedByName[name] == nil {
            state.failures[name] = nil
            board.set(nil, for: name)
        }

        // Start new ones; a port in use is reported, not fatal.
        var started: [LoadBalancer] = []
        for definition in wanted where state.running[definition.loadBalancerName] == nil {
            let name = definition.loadBalancerName
            do {
                var configuration = LoadBalancerConfiguration(definition)
                configuration.maxConnections = maxConnections
                configuration.idleTimeout = idleTimeout
                let balancer = try await LoadBalancer.start(configuration, logger: logger)
                state.running[name] = Running(definition: definition, balancer: balancer)
                state.failures[name] = nil
                board.set(.running(balancer), for: name)
                started.append(balancer)
            } catch {
                let reason = "\(error)"
                board.set(.failed(reason: reason), for: name)
                if state.failures[name] != reason {
                    state.failures[name] = reason
                    logger.error(
                        "load balancer failed to start", metadata: ["lb.name": "\(name)", "error": "\(reason)"])
                    Counter(label: "flotilla_controlplane_lb_start_failures_total").increment()
                }
            }
        }

        // Targets, then the health verdicts on them.
        var members: [String: [TargetSnapshot]] = [:]
        let now = self.now()
        for (name, running) in state.running {
            running.balancer.updateTargets((targets[name] ?? []).map(\.target))
            members[name] = running.balancer.snapshot().targets
        }
        await reportTargetHealth(members, state: &state, now: now)
        await releaseDrainedTasks(deregistering, members: members, now: now)
        return started
    }

    /// Writes each running balancer's verdicts on its (non-draining) targets to the store when they changed, and
    /// forgets those of balancers not running here. The reconciler reads them: a task behind balancers counts as
    /// healthy once they find it healthy, and one they find failing past its grace period is replaced, with ECS's
    /// "Task failed ELB health checks in (load-balancer NAME)".
    private func reportTargetHealth(_ members: [String: [TargetSnapshot]], state: inout State, now: Date) async {
        var verdicts: [String: [String: TargetHealth]] = [:]
        for (name, list) in members {
            var byTask: [String: TargetHealth] = [:]
            for member in list where !member.isDraining { byTask[member.target.id] = member.health }
            verdicts[name] = byTask
        }
        guard verdicts != state.reportedHealth else { return }
        do {
            try await store.write { [verdicts] db in
                try db.removeTargetHealth(exceptOf: Set(verdicts.keys))
                for (name, byTask) in verdicts { try db.replaceTargetHealth(of: name, with: byTask, now: now) }
            }
            state.reportedHealth = verdicts
        } catch {
            store.health.logFailure(error, "load balancer target health not written", metadata: [:], logger: logger)
        }
    }

    /// Releases the held stops of tasks none of whose balancers has an open connection to them any more (a balancer
    /// not running here has none), and those whose deregistration delay is over.
    ///
    /// Called after the pass set every balancer's targets from the same read, so a held task is no longer a target
    /// anywhere: a member still listed for it is draining, and it is drained once its last connection closed.
    private func releaseDrainedTasks(
        _ deregistering: [DeregisteringTask], members: [String: [TargetSnapshot]], now: Date
    ) async {
        let drained = Set(
            deregistering.filter { task in
                task.loadBalancers.allSatisfy { name in
                    !(members[name] ?? []).contains {
                        $0.target.id == task.taskArn && (!$0.isDraining || $0.activeConnections > 0)
                    }
                }
            }.map(\.taskArn))
        guard deregistering.contains(where: { drained.contains($0.taskArn) || $0.isDelayOver(at: now) }) else { return }
        do {
            let released = try await store.write { db in try db.releaseDeregistrations(now: now, drained: drained) }
            TaskDeregistrationLog.released(released, logger: logger)
        } catch {
            store.health.logFailure(error, "held task stops not released", metadata: [:], logger: logger)
        }
    }
}
