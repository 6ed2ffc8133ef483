public import Foundation
public import Logging
public import ServiceLifecycle
import ECSVocabulary
import Metrics

/// Marks container instances whose agent has been silent past the grace period `agentConnected: false`.
///
/// Every authenticated agent call stamps the instance's last contact (a blocking poll stamps it at both ends, and
/// waits at most half the grace period), so silence means the agent or its host is gone. The reconciler reads
/// `agentConnected` to replace the instance's service tasks; the agent's next call sets it back.
///
/// - Important: Run it in the control plane's `ServiceGroup` after the HTTP application: on graceful shutdown it
///   stops first and releases every blocked `PollDesiredTasks`, so the server drains without waiting out polls.
public struct ContactMonitor: Service {
    let store: ControlPlaneStore
    let gracePeriod: Duration
    let interval: Duration
    let now: @Sendable () -> Date
    let logger: Logger

    /// - Parameters:
    ///   - interval: how often to look; defaults to a fifth of the grace period (at most a second's worth).
    ///   - now: the clock contact times are compared with (tests inject one).
    public init(
        store: ControlPlaneStore, gracePeriod: Duration, interval: Duration? = nil,
        now: @escaping @Sendable () -> Date = { Date() }, logger: Logger
    ) {
        self.store = store
        self.gracePeriod = gracePeriod
        self.interval = interval ?? max(gracePeriod / 5, .seconds(1))
        self.now = now
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                if Task.isCancelled { break }
                await checkOnce()
            }
        }
        store.desiredStateChanges.shutdown()
    }

    /// One pass: disconnects every instance silent since before `now - gracePeriod`; returns their ARNs.
    @discardableResult
    public func checkOnce() async -> [String] {
        let grace = Double(gracePeriod.components.seconds) + Double(gracePeriod.components.attoseconds) / 1e18
        let cutoff = now().timeIntervalSince1970 - grace
        do {
            let silent = try await store.write { db in
                var silent: [(cluster: String, arn: String)] = []
                for (clusterName, stored) in try db.instancesSilent(since: cutoff) {
                    var instance = stored
                    guard instance.agentConnected, let cluster = try db.cluster(clusterName) else { continue }
                    instance.agentConnected = false
                    instance.version += 1
                    try db.saveContainerInstance(instance, cluster: cluster)
                    silent.append((cluster.clusterName, instance.containerInstanceArn))
                }
                return silent.map { [$0.cluster, $0.arn] }
            }
            if !silent.isEmpty {
                Counter(label: "flotilla_controlplane_agent_disconnects_total").increment(by: silent.count)
            }
            for pair in silent {
                logger.info(
                    "container instance disconnected",
                    metadata: [
                        "cluster": "\(pair[0])", "instance.arn": "\(pair[1])", "agent.grace_period": "\(gracePeriod)",
                    ])
            }
            return silent.map { $0[1] }
        } catch {
            store.health.logFailure(error, "contact check failed", metadata: [:], logger: logger)
            return []
        }
    }
}
