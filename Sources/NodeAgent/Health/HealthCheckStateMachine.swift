public import ECSVocabulary
public import Foundation
public import TaskDefinitions

/// How one health check command ended.
public enum HealthCheckResult: Hashable, Sendable {
    /// The command exited with `code` (0 passes, anything else fails).
    case exited(code: Int32)
    /// The command ran past the check's timeout: a failure.
    case timedOut
    /// The command could not be run at all (exec failed): a failure.
    case couldNotRun(String)
}

/// One container's health check, Docker's and ECS's rules, with no I/O and no clock: `now` is an input.
///
/// Each check is due `interval` after the previous one finished; the first, `interval` after the container started.
/// During `startPeriod`, until the first success, checks run every `startInterval` instead (Docker's
/// `--health-start-interval`, Kubernetes' startup probes), so a task turns HEALTHY within about that long of its
/// server answering rather than a whole interval later. `retries` consecutive failures make the container UNHEALTHY;
/// one success makes it HEALTHY. During `startPeriod` failures do not count until the first success.
public struct HealthCheckStateMachine: Hashable, Sendable {
    /// The argv run inside the container: `CMD` runs its arguments directly, `CMD-SHELL` runs `/bin/sh -c "..."`.
    public let arguments: [String]
    public let interval: Duration
    /// The interval during `startPeriod` until the first success (never longer than `interval`).
    public let startInterval: Duration
    public let timeout: Duration
    public let retries: Int
    public let startPeriodEnds: Date

    public private(set) var status: HealthStatus = .unknown
    public private(set) var consecutiveFailures = 0
    /// When the next check should run; nil while one is running.
    public private(set) var nextCheckDue: Date?
    private var hasPassed = false

    /// The start interval when neither the container's label nor the agent's flag gives one.
    public static let defaultStartInterval = Duration.milliseconds(250)

    /// Starts watching a container that started at `startedAt`, with `startInterval` between the checks of its start
    /// period.
    ///
    /// `lastKnown` is the status an earlier watcher reached (the agent restarted and re-adopted the container): the
    /// container keeps it, and the next check, one interval from `startedAt`, moves it as any check would. A
    /// container known HEALTHY or UNHEALTHY is past its start period.
    public init(
        check: HealthCheck, startedAt: Date, lastKnown: HealthStatus = .unknown,
        startInterval: Duration = defaultStartInterval
    ) {
        arguments = Self.arguments(for: check.command)
        interval = .seconds(check.resolvedInterval)
        self.startInterval = min(startInterval, interval)
        timeout = .seconds(check.resolvedTimeout)
        retries = max(1, check.resolvedRetries)
        startPeriodEnds =
            lastKnown == .unknown
            ? startedAt.addingTimeInterval(TimeInterval(check.resolvedStartPeriod)) : startedAt
        status = lastKnown
        hasPassed = lastKnown == .healthy
        consecutiveFailures = lastKnown == .unhealthy ? retries : 0
        nextCheckDue = startedAt.addingTimeInterval(pause(at: startedAt).timeInterval)
    }

    /// How long after a check (or the start) at `now` the next one is due: `startInterval` while the start period
    /// runs and no check has passed, `interval` otherwise.
    private func pause(at now: Date) -> Duration {
        !hasPassed && now < startPeriodEnds ? startInterval : interval
    }

    /// The argv for an ECS health check command. An empty or unknown form yields `[]` (validation refuses those).
    public static func arguments(for command: [String]) -> [String] {
        guard let kind = command.first else { return [] }
        let rest = Array(command.dropFirst())
        switch kind {
        case "CMD": return rest
        case "CMD-SHELL": return ["/bin/sh", "-c", rest.joined(separator: " ")]
        default: return command
        }
    }

    /// Whether a check should start at `now`; if so the machine waits for `finished` before scheduling another.
    public mutating func startCheckIfDue(now: Date) -> Bool {
        guard let due = nextCheckDue, due <= now else { return false }
        nextCheckDue = nil
        return true
    }

    /// Records a finished check and schedules the next. Returns the new status when it changed.
    public mutating func finished(_ result: HealthCheckResult, now: Date) -> HealthStatus? {
        let before = status
        if case .exited(code: 0) = result {
            hasPassed = true
            consecutiveFailures = 0
            status = .healthy
        } else if hasPassed || now >= startPeriodEnds {
            consecutiveFailures += 1
            if consecutiveFailures >= retries { status = .unhealthy }
        }
        nextCheckDue = now.addingTimeInterval(pause(at: now).timeInterval)
        return status == before ? nil : status
    }
}
