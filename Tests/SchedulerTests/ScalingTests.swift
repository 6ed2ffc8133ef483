import Foundation
import Scheduler
import Testing

@Suite(.timeLimit(.minutes(10)))
struct ScalingTests {
    let now = Date(timeIntervalSince1970: 1_764_400_000)
    let bounds = ScalableTarget(minCapacity: 2, maxCapacity: 20)

    @Test(
        "target tracking: desired = ceil(current × metric / target), bounded, scale-in damped",
        arguments: [
            // (current, metric, target, expected desired or nil for no change)
            (4, 90.0, 50.0, 8),  // 7.2 → 8
            (4, 55.0, 50.0, 5),  // 4.4 → 5
            (10, 300.0, 50.0, 20),  // 60 → max 20
            (4, 20.0, 50.0, 2),  // 1.6 → 2 (and min 2)
            (10, 30.0, 50.0, 6),  // 6
            (20, 46.0, 50.0, nil),  // 18.4 → 19, but within the 10 % scale-in tolerance: no flapping
            (4, 50.0, 50.0, nil),  // on target
            (3, 0.0, 50.0, 2),  // idle: down to min
            (1, 10.0, 50.0, 2),  // below min: raised to min
        ] as [(Int, Double, Double, Int?)])
    func targetTracking(current: Int, metric: Double, target: Double, expected: Int?) {
        let policy = TargetTrackingPolicy(targetValue: target)
        let decision = Scheduler.targetTracking(
            policy, target: bounds, currentCapacity: current, metric: metric, history: ScalingHistory(), now: now)
        #expect(decision?.desiredCapacity == expected)
    }

    @Test("disableScaleIn keeps capacity when the metric is low but still scales out")
    func disableScaleIn() {
        let policy = TargetTrackingPolicy(targetValue: 50, disableScaleIn: true)
        #expect(
            Scheduler.targetTracking(
                policy, target: bounds, currentCapacity: 10, metric: 10, history: ScalingHistory(), now: now) == nil)
        #expect(
            Scheduler.targetTracking(
                policy, target: bounds, currentCapacity: 10, metric: 60, history: ScalingHistory(), now: now)?
                .desiredCapacity == 12)
    }

    @Test(
        "cooldowns: no scale-in while cooling; scale-out during its cooldown only beyond the last scale-out",
        arguments: [
            // (current, metric, seconds since last scale-out, last scale-out capacity, seconds since last scale-in, expected)
            (10, 20.0, nil, nil, 100.0, nil),  // scale-in cooldown (300 s) running
            (10, 20.0, nil, nil, 400.0, 4),  // scale-in cooldown over
            (10, 20.0, 100.0, 10, nil, nil),  // a scale-out cooldown blocks scale-in too
            (10, 60.0, 100.0, 12, nil, nil),  // asks 12, the running scale-out already asked 12
            (10, 90.0, 100.0, 12, nil, 18),  // asks more than the running scale-out: goes ahead
            (10, 60.0, nil, nil, 100.0, 12),  // scale-out ends a scale-in cooldown
        ] as [(Int, Double, Double?, Int?, Double?, Int?)])
    func cooldowns(
        current: Int, metric: Double, sinceOut: Double?, lastOutCapacity: Int?, sinceIn: Double?, expected: Int?
    ) {
        let history = ScalingHistory(
            lastScaleOutAt: sinceOut.map { now - $0 }, lastScaleOutCapacity: lastOutCapacity,
            lastScaleInAt: sinceIn.map { now - $0 })
        let decision = Scheduler.targetTracking(
            TargetTrackingPolicy(targetValue: 50), target: bounds, currentCapacity: current,
            metric: metric, history: history, now: now)
        #expect(decision?.desiredCapacity == expected)
    }

    static let steps = [
        StepAdjustment(lowerBound: nil, upperBound: -10, scalingAdjustment: -30),
        StepAdjustment(lowerBound: -10, upperBound: 0, scalingAdjustment: -5),
        StepAdjustment(lowerBound: 0, upperBound: 20, scalingAdjustment: 10),
        StepAdjustment(lowerBound: 20, upperBound: nil, scalingAdjustment: 50),
    ]

    @Test(
        "step scaling picks the step by breach and applies each adjustment type",
        arguments: [
            // (type, current, metric (threshold 70), min magnitude, expected)
            (AdjustmentType.changeInCapacity, 10, 75.0, nil, 20),  // +10 → 20
            (.changeInCapacity, 10, 95.0, nil, 20),  // +50 → 60 → max 20
            (.changeInCapacity, 10, 65.0, nil, 5),  // -5
            (.changeInCapacity, 10, 50.0, nil, 2),  // -30 → min 2
            (.exactCapacity, 10, 75.0, nil, 10),  // exactly 10: no change
            (.exactCapacity, 4, 90.0, nil, 20),  // exactly 50 → max 20
            (.percentChangeInCapacity, 10, 75.0, nil, 11),  // +10 % of 10 = 1
            (.percentChangeInCapacity, 10, 95.0, nil, 15),  // +50 % = 5
            (.percentChangeInCapacity, 4, 75.0, nil, 5),  // +0.4 → 1
            (.percentChangeInCapacity, 4, 75.0, 3, 7),  // +1 raised to MinAdjustmentMagnitude 3
            (.percentChangeInCapacity, 10, 65.0, 2, 8),  // -0.5 → -1, raised to -2
            (.percentChangeInCapacity, 13, 50.0, nil, 10),  // -3.9 → -3 (towards zero)
        ] as [(AdjustmentType, Int, Double, Int?, Int?)])
    func stepScaling(type: AdjustmentType, current: Int, metric: Double, magnitude: Int?, expected: Int?) {
        let policy = StepScalingPolicy(
            adjustmentType: type, stepAdjustments: Self.steps, minAdjustmentMagnitude: magnitude, threshold: 70)
        let decision = Scheduler.stepScaling(
            policy, target: bounds, currentCapacity: current, metric: metric, history: ScalingHistory(), now: now)
        #expect(decision?.desiredCapacity == (expected == current ? nil : expected))
    }

    @Test("step scaling: no step covers the breach, or the cooldown runs: nothing changes")
    func stepScalingNoChange() {
        let gap = StepScalingPolicy(
            adjustmentType: .changeInCapacity,
            stepAdjustments: [StepAdjustment(lowerBound: 0, upperBound: 10, scalingAdjustment: 1)], threshold: 70)
        #expect(
            Scheduler.stepScaling(
                gap, target: bounds, currentCapacity: 5, metric: 90, history: ScalingHistory(), now: now) == nil)
        let policy = StepScalingPolicy(
            adjustmentType: .changeInCapacity, stepAdjustments: Self.steps, cooldown: 300, threshold: 70)
        let cooling = ScalingHistory(lastScaleInAt: now - 60)
        #expect(
            Scheduler.stepScaling(policy, target: bounds, currentCapacity: 10, metric: 65, history: cooling, now: now)
                == nil)
        let decision = Scheduler.stepScaling(
            policy, target: bounds, currentCapacity: 10, metric: 65, history: ScalingHistory(lastScaleInAt: now - 600),
            now: now)
        #expect(decision?.desiredCapacity == 5)
        #expect(decision?.cause.contains("decreased the desired count from 10 to 5") == true)
    }
}
