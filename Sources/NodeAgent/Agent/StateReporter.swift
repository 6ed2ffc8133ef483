import AgentProtocol
import Foundation
import Logging
import Metrics
import TaskDefinitions

/// Sends task state changes to the control plane in batches: the latest change per task replaces an unsent older
/// one (the control plane merges forward only, so the latest says everything), at most `AgentWire.maxBatch` per call,
/// retried with backoff until acknowledged. Usage metrics ride along when due.
actor StateReporter {
    private struct Pending {
        var change: TaskStateChange
        /// Bumped on every replacement: an acknowledgement only clears the version that was sent.
        var version: Int
    }

    private let connection: ControlPlaneConnection
    private let logger: Logger
    private let acknowledged: @Sendable ([TaskStateChange]) async -> Void
    private var pending: [String: Pending] = [:]
    /// Task ARNs in the order their first unsent change arrived.
    private var order: [String] = []
    private var nextVersion = 0
    private var metrics: JSONValue?
    private var closing = false
    private let wakeups: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation

    /// `acknowledged` gets every change the control plane confirmed (updated, unchanged or ignored as stale).
    init(
        connection: ControlPlaneConnection, logger: Logger,
        acknowledged: @escaping @Sendable ([TaskStateChange]) async -> Void
    ) {
        self.connection = connection
        self.logger = logger
        self.acknowledged = acknowledged
        (wakeups, wake) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// Queues `change`, replacing an unsent older change of the same task.
    func submit(_ change: TaskStateChange) {
        nextVersion += 1
        if pending[change.taskArn] == nil { order.append(change.taskArn) }
        pending[change.taskArn] = Pending(change: change, version: nextVersion)
        wake.yield()
    }

    /// Queues usage metrics for the next call (replacing unsent older ones).
    func submit(metrics: JSONValue) {
        self.metrics = metrics
        wake.yield()
    }

    /// Changes not yet acknowledged.
    var backlog: Int { pending.count }

    /// Makes `run()` return once everything queued is sent (or after `deadline` attempts fail).
    func close() {
        closing = true
        wake.finish()
    }

    /// Sends until closed; after `close()`, flushes what is queued (giving up after a few failed attempts).
    func run() async {
        var failures = 0
        var iterator = wakeups.makeAsyncIterator()
        while true {
            if pending.isEmpty && metrics == nil {
                if closing { return }
                // nil: closed; the loop re-checks and flushes what remains.
                _ = await iterator.next()
                continue
            }
            if await sendBatch() {
                failures = 0
                continue
            }
            failures += 1
            if closing && failures >= 3 {
                logger.warning(
                    "state changes not sent before shutdown", metadata: ["agent.backlog": "\(pending.count)"])
                return
            }
            try? await Task.sleep(for: Self.backoff(after: failures))
        }
    }

    /// One call with the oldest ≤100 changes (and metrics); true if it was acknowledged.
    private func sendBatch() async -> Bool {
        let arns = Array(order.prefix(AgentWire.maxBatch))
        let batch = arns.compactMap { arn in pending[arn].map { (arn, $0) } }
        let sentMetrics = metrics
        let started = ContinuousClock.now
        do {
            let response = try await connection.submit(batch.map(\.1.change), metrics: sentMetrics)
            Timer(label: "flotilla_agent_submit_duration_seconds").record(duration: ContinuousClock.now - started)
            Counter(label: "flotilla_agent_state_changes_submitted_total").increment(by: batch.count)
            for ignored in response.ignored {
                logger.debug(
                    "state change ignored by the control plane",
                    metadata: [
                        "task": "\(AgentTaskID.of(ignored.taskArn))", "reason": "\(ignored.reason)",
                    ])
            }
            if sentMetrics == metrics { metrics = nil }
            var confirmed: [TaskStateChange] = []
            for (arn, sent) in batch {
                confirmed.append(sent.change)
                guard pending[arn]?.version == sent.version else { continue }
                pending[arn] = nil
                order.removeAll { $0 == arn }
            }
            await acknowledged(confirmed)
            return true
        } catch {
            Counter(label: "flotilla_agent_submit_failures_total").increment()
            logger.warning(
                "state changes could not be sent",
                metadata: [
                    "error": "\(error)", "agent.backlog": "\(pending.count)",
                ])
            return false
        }
    }

    /// 0.5 s doubling to 5 s, with up to 50% jitter: a restarted control plane hears from its agents within seconds.
    static func backoff(after failures: Int) -> Duration {
        let base = min(5.0, 0.5 * pow(2.0, Double(min(failures, 10) - 1)))
        return .milliseconds(Int(base * 1000 * Double.random(in: 0.5...1.0)))
    }
}
