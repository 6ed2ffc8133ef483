public import Foundation

/// How a step's `scalingAdjustment` is read.
public enum AdjustmentType: String, Hashable, Sendable, Codable {
    case changeInCapacity = "ChangeInCapacity"
    case exactCapacity = "ExactCapacity"
    case percentChangeInCapacity = "PercentChangeInCapacity"
}

/// One step: applies when `metric - threshold` is in [lowerBound, upperBound) (a nil bound is unbounded).
public struct StepAdjustment: Hashable, Sendable {
    public var metricIntervalLowerBound: Double?
    public var metricIntervalUpperBound: Double?
    public var scalingAdjustment: Int
    public init(lowerBound: Double?, upperBound: Double?, scalingAdjustment: Int) {
        self.metricIntervalLowerBound = lowerBound
        self.metricIntervalUpperBound = upperBound
        self.scalingAdjustment = scalingAdjustment
    }
}

/// A step-scaling policy (`StepScalingPolicyConfiguration`) with its alarm threshold.
public struct StepScalingPolicy: Hashable, Sendable {
    public var adjustmentType: AdjustmentType
    public var stepAdjustments: [StepAdjustment]
    /// Only for PercentChangeInCapacity: the least number of tasks a non-zero change moves.
    public var minAdjustmentMagnitude: Int?
    public var cooldown: TimeInterval
    /// The alarm threshold the step bounds are relative to.
    public var threshold: Double

    public init(
        adjustmentType: AdjustmentType, stepAdjustments: [StepAdjustment], minAdjustmentMagnitude: Int? = nil,
        cooldown: TimeInterval = 300, threshold: Double
    ) {
        self.adjustmentType = adjustmentType
        self.stepAdjustments = stepAdjustments
        self.minAdjustmentMagnitude = minAdjustmentMagnitude
        self.cooldown = cooldown
        self.threshold = threshold
    }
}

extension Scheduler {
    /// Step scaling: finds the step the breach falls in, applies its adjustment as ChangeInCapacity, ExactCapacity
    /// or PercentChangeInCapacity (rounded as Application Auto Scaling rounds, then raised to
    /// MinAdjustmentMagnitude), clamps to the scalable target and honours the cooldown. Nil when nothing changes.
    public static func stepScaling(
        _ policy: StepScalingPolicy, target: ScalableTarget, currentCapacity: Int,
        metric: Double, history: ScalingHistory, now: Date
    ) -> ScalingDecision? {
        let breach = metric - policy.threshold
        guard
            let step = policy.stepAdjustments.first(where: { step in
                (step.metricIntervalLowerBound.map { breach >= $0 } ?? true)
                    && (step.metricIntervalUpperBound.map { breach < $0 } ?? true)
            })
        else { return nil }
        let desired: Int
        switch policy.adjustmentType {
        case .changeInCapacity:
            desired = currentCapacity + step.scalingAdjustment
        case .exactCapacity:
            desired = step.scalingAdjustment
        case .percentChangeInCapacity:
            var change = percentChange(of: currentCapacity, by: step.scalingAdjustment)
            if let magnitude = policy.minAdjustmentMagnitude, change != 0 || step.scalingAdjustment != 0,
                abs(change) < magnitude
            {
                change = step.scalingAdjustment < 0 ? -magnitude : magnitude
            }
            desired = currentCapacity + change
        }
        let cause =
            "monitor alarm with metric value \(formatted(metric)) breaching threshold \(formatted(policy.threshold)) in step adjustment \(step.scalingAdjustment)"
        return decide(
            desired: target.clamp(desired), current: currentCapacity, scaleOutCooldown: policy.cooldown,
            scaleInCooldown: policy.cooldown, history: history, now: now, cause: cause)
    }

    /// A percent of capacity as Application Auto Scaling rounds it: above 1 rounds down, between 0 and 1 becomes 1,
    /// between -1 and 0 becomes -1, below -1 rounds up (towards zero).
    static func percentChange(of capacity: Int, by percent: Int) -> Int {
        let exact = Double(capacity) * Double(percent) / 100
        if exact > 1 { return Int(exact.rounded(.down)) }
        if exact > 0 { return 1 }
        if exact == 0 { return 0 }
        if exact > -1 { return -1 }
        return Int(exact.rounded(.up))
    }
}
