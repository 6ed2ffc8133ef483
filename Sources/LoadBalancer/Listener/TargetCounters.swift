import Metrics
import Synchronization

/// Per-target traffic counters, written from the event loops without a lock, and their swift-metrics mirrors.
///
/// Metric dimensions are the balancer name and the target address. Both are bounded here: a balancer has one
/// target per running task of its service, and a target's series are destroyed when it leaves the set, so the
/// series alive at any time are at most (balancers × desired tasks), whatever the churn of task addresses.
final class TargetCounters: Sendable {
    let bytesIn = Atomic<Int>(0)
    let bytesOut = Atomic<Int>(0)

    private let connections: Counter
    private let active: Meter
    private let connectErrors: Counter
    private let receivedBytes: Counter
    private let sentBytes: Counter
    private let healthy: Gauge

    init(balancer: String, target: Target) {
        let dimensions = [("balancer", balancer), ("target", target.address)]
        self.connections = Counter(label: "flotilla_lb_connections_total", dimensions: dimensions)
        self.active = Meter(label: "flotilla_lb_active_connections", dimensions: dimensions)
        self.connectErrors = Counter(label: "flotilla_lb_connect_errors_total", dimensions: dimensions)
        self.receivedBytes = Counter(label: "flotilla_lb_received_bytes_total", dimensions: dimensions)
        self.sentBytes = Counter(label: "flotilla_lb_sent_bytes_total", dimensions: dimensions)
        self.healthy = Gauge(label: "flotilla_lb_target_healthy", dimensions: dimensions)
    }

    func connectionOpened() {
        self.connections.increment()
        self.active.increment()
    }

    /// Records a finished connection's bytes (client to target, target to client).
    func connectionClosed(bytesIn: Int, bytesOut: Int) {
        self.active.decrement()
        self.receivedBytes.increment(by: bytesIn)
        self.sentBytes.increment(by: bytesOut)
    }

    func connectFailed() { self.connectErrors.increment() }

    func record(health: TargetHealth) { self.healthy.record(health == .healthy ? 1 : 0) }

    /// Drops the target's series: it left the set.
    func destroy() {
        self.connections.destroy()
        self.active.destroy()
        self.connectErrors.destroy()
        self.receivedBytes.destroy()
        self.sentBytes.destroy()
        self.healthy.destroy()
    }
}
