public import Foundation

/// Application Auto Scaling's scalable target: the bounds every policy's answer is clamped to.
public struct ScalableTarget: Hashable, Sendable {
    public var minCapacity: Int
    public var maxCapacity: Int
    public init(minCapacity: Int, maxCapacity: Int) {
        self.minCapacity = minCapacity
        self.maxCapacity = maxCapacity
    }

    func clamp(_ capacity: Int) -> Int { min(max(capacity, minCapacity), maxCapacity) }
}

/// When the last scaling activities of a policy happened: the cooldown inputs.
public struct ScalingHistory: Hashable, Sendable {
    public var lastScaleOutAt: Date?
    /// The capacity the last scale-out asked for; a scale-out during its cooldown must go beyond it.
    public var lastScaleOutCapacity: Int?
    public var lastScaleInAt: Date?
    public init(lastScaleOutAt: Date? = nil, lastScaleOutCapacity: Int? = nil, lastScaleInAt: Date? = nil) {
        self.lastScaleOutAt = lastScaleOutAt
        self.lastScaleOutCapacity = lastScaleOutCapacity
        self.lastScaleInAt = lastScaleInAt
    }
}

/// A scaling decision: the new desired count and the cause text of the scaling activity.
public struct ScalingDecision: Hashable, Sendable {
    public var desiredCapacity: Int
    public var cause: String
}

/// A target-tracking policy (`TargetTrackingScalingPolicyConfiguration`).
public struct TargetTrackingPolicy: Hashable, Sendable {
    public var targetValue: Double
    public var scaleOutCooldown: TimeInterval
    public var scaleInCooldown: TimeInterval
    public var disableScaleIn: Bool

    /// Scale-in is damped: it waits until the metric is this fraction below target (10 %), so a metric hovering
    /// around the target does not make capacity flap.
    public static let scaleInTolerance = 0.1

    public init(
        targetValue: Double, scaleOutCooldown: TimeInterval = 300, scaleInCooldown: TimeInterval = 300,
        disableScaleIn: Bool = false
    ) {
        self.targetValue = targetValue
        self.scaleOutCooldown = scaleOutCooldown
        self.scaleInCooldown = scaleInCooldown
        self.disableScaleIn = disableScaleIn
    }
}

extension Scheduler {
    /// Target tracking: desired = ceil(current × metric / target), clamped to the scalable target, with damped
    /// scale-in, the scale-in-disabled flag and cooldowns. Returns nil when capacity should not change.
    ///
    /// Cooldowns follow Application Auto Scaling: no scale-in during either cooldown; a scale-out during its own
    /// cooldown only when it asks for more than the last scale-out did; a scale-out ends a scale-in cooldown.
    public static func targetTracking(
        _ policy: TargetTrackingPolicy, target: ScalableTarget, currentCapacity: Int,
        metric: Double, history: ScalingHistory, now: Date
    ) -> ScalingDecision? {
        guard policy.targetValue > 0, metric.isFinite, metric >= 0 else { return nil }
        let ratio = metric / policy.targetValue
        var desired = Int((Double(currentCapacity) * ratio).rounded(.up))
        if currentCapacity == 0, metric > 0 { desired = 1 }
        if desired < currentCapacity, policy.disableScaleIn || ratio >= 1 - TargetTrackingPolicy.scaleInTolerance {
            desired = currentCapacity
        }
        desired = target.clamp(desired)
        let cause =
            "monitor alarm for target tracking metric value \(formatted(metric)) against target \(formatted(policy.targetValue))"
        return decide(
            desired: desired, current: currentCapacity, scaleOutCooldown: policy.scaleOutCooldown,
            scaleInCooldown: policy.scaleInCooldown, history: history, now: now, cause: cause)
    }

    /// Applies cooldowns to a desired capacity; nil when nothing changes.
    static func decide(
        desired: Int, current: Int, scaleOutCooldown: TimeInterval, scaleInCooldown: TimeInterval,
        history: ScalingHistory, now: Date, cause: String
    ) -> ScalingDecision? {
        func cooling(_ last: Date?, _ cooldown: TimeInterval) -> Bool {
            last.map { now < $0.addingTimeInterval(cooldown) } ?? false
        }
        if desired > current {
            if cooling(history.lastScaleOutAt, scaleOutCooldown), desired <= (history.lastScaleOutCapacity ?? current) {
                return nil
            }
            return ScalingDecision(
                desiredCapacity: desired, cause: "\(cause) increased the desired count from \(current) to \(desired)")
        }
        if desired < current {
            if cooling(history.lastScaleOutAt, scaleOutCooldown) || cooling(history.lastScaleInAt, scaleInCooldown) {
                return nil
            }
            return ScalingDecision(
                desiredCapacity: desired, cause: "\(cause) decreased the desired count from \(current) to \(desired)")
        }
        return nil
    }

    static func formatted(_ value: Double) -> String {
        value.rounded() == value ? String(Int(value)) : String(value)
    }
}
