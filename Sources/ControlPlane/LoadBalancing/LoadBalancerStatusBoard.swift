import ECSProtocol
import ECSVocabulary
import Foundation
public import LoadBalancer
import Synchronization

/// What the embedded balancers are doing right now, shared by the service that runs them and the API that
/// describes them.
///
/// Written from the embedded service's sync pass, read by `DescribeLoadBalancers`; a `Mutex` since both sides
/// only hold it for a dictionary access.
public final class LoadBalancerStatusBoard: Sendable {
    /// One stored balancer's live state.
    public enum Entry: Sendable {
        /// Listening; its snapshot has targets and counters.
        case running(LoadBalancer)
        /// Could not start (the listener port is in use, ...); retried on the next sync pass.
        case failed(reason: String)
    }

    private struct State {
        var isServing = false
        var entries: [String: Entry] = [:]
        var completedPasses = 0
    }

    private let state = Mutex(State())

    public init() {}

    /// True while an embedded balancer service runs against this board.
    public var isServing: Bool { state.withLock { $0.isServing } }

    func setServing(_ isServing: Bool) {
        state.withLock { $0.isServing = isServing }
    }

    /// How many sync passes the embedded service has finished (tests wait for passes instead of for time).
    public var completedPasses: Int { state.withLock { $0.completedPasses } }

    func recordPass() {
        state.withLock { $0.completedPasses += 1 }
    }

    func set(_ entry: Entry?, for name: String) {
        state.withLock { $0.entries[name] = entry }
    }

    /// The live state of balancer `name`, nil when none runs or failed.
    public func entry(for name: String) -> Entry? {
        state.withLock { $0.entries[name] }
    }
}

// MARK: - Describe

extension LoadBalancerDescription {
    /// DescribeLoadBalancers' view of `definition`: the status from `board`, the services of `attachments`, the
    /// `desired` targets with their live state (or, for an `EXTERNAL` balancer, the verdicts `reported` by task ARN:
    /// `ecs-lb`'s), then the live targets no longer desired (draining).
    init(
        _ definition: LoadBalancerDefinition, attachments: [LoadBalancerAttachment], desired: [DesiredTarget],
        board: LoadBalancerStatusBoard, reported: [String: TargetHealth] = [:]
    ) {
        let status: LoadBalancerStatus
        var statusReason: String?
        var live: [Target: TargetSnapshot] = [:]
        switch board.entry(for: definition.loadBalancerName) {
        case .running(let balancer):
            status = .active
            for target in balancer.snapshot().targets { live[target.target] = target }
        case .failed(let reason):
            status = .failed
            statusReason = reason
        case nil where board.isServing:
            status = .provisioning
        case nil:
            status = .external
            statusReason =
                "The embedded load balancer is off (--no-embedded-load-balancer); run ecs-lb --load-balancer-name \(definition.loadBalancerName)."
        }
        let unknownState: TargetHealthState = status == .external || status == .failed ? .unused : .initial
        let reported = status == .external ? reported : [:]
        var seen = Set<Target>()
        var targets = desired.map { desired in
            seen.insert(desired.target)
            return Self.describe(
                desired.target, live: live[desired.target],
                reported: reported[desired.taskArn], unknownState: unknownState,
                cluster: desired.attachment.cluster, serviceName: desired.attachment.serviceName)
        }
        for snapshot in live.values.sorted(by: { $0.target.description < $1.target.description })
        where !seen.contains(snapshot.target) {
            targets.append(
                Self.describe(
                    snapshot.target, live: snapshot, reported: nil, unknownState: .draining,
                    cluster: nil, serviceName: nil))
        }
        self.init(
            definition: definition, status: status, statusReason: statusReason,
            services: attachments.map {
                LoadBalancerServiceDescription(
                    cluster: $0.cluster, serviceName: $0.serviceName,
                    containerName: $0.containerName, containerPort: $0.containerPort)
            },
            targets: targets)
    }

    private static func describe(
        _ target: Target, live: TargetSnapshot?, reported: TargetHealth?, unknownState: TargetHealthState,
        cluster: String?, serviceName: String?
    ) -> TargetDescription {
        let health: TargetHealthDescription
        switch (live?.isDraining, live?.health ?? reported) {
        case (true?, _): health = TargetHealthDescription(state: .draining, reason: "Target.DeregistrationInProgress")
        case (_, .healthy?): health = TargetHealthDescription(state: .healthy)
        case (_, .unhealthy?): health = TargetHealthDescription(state: .unhealthy, reason: "Target.FailedHealthChecks")
        case (_, .initial?): health = TargetHealthDescription(state: .initial, reason: "Elb.RegistrationInProgress")
        default: health = TargetHealthDescription(state: unknownState)
        }
        return TargetDescription(
            id: target.id, cluster: cluster, serviceName: serviceName, host: target.host, port: target.port,
            targetHealth: health, activeConnections: live?.activeConnections ?? 0,
            totalConnections: live?.totalConnections ?? 0, connectErrors: live?.connectErrors ?? 0,
            bytesIn: live?.bytesIn ?? 0, bytesOut: live?.bytesOut ?? 0)
    }
}
