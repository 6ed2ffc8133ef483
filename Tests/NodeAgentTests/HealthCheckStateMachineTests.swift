import Foundation
import NodeAgent
import TaskDefinitions
import Testing

@Suite(.timeLimit(.minutes(10)))
struct HealthCheckStateMachineTests {
    let start = Date(timeIntervalSinceReferenceDate: 1_000_000)

    func at(_ seconds: Double) -> Date { start.addingTimeInterval(seconds) }

    @Test(arguments: [
        (["CMD", "/bin/check", "-q"], ["/bin/check", "-q"]),
        (
            ["CMD-SHELL", "wget -q -O- http://127.0.0.1/ || exit 1"],
            ["/bin/sh", "-c", "wget -q -O- http://127.0.0.1/ || exit 1"]
        ),
        (["CMD-SHELL", "test", "-f /ok"], ["/bin/sh", "-c", "test -f /ok"]),
    ])
    func commandBecomesArgv(command: [String], expected: [String]) {
        // Given an ECS health check command / When the machine derives the argv / Then CMD runs directly, CMD-SHELL via sh -c
        let machine = HealthCheckStateMachine(check: HealthCheck(command: command), startedAt: start)
        #expect(machine.arguments == expected)
    }

    @Test func checksAreScheduledIntervalAfterStartAndAfterEachFinish() {
        // Given a check with interval 10 s
        var machine = HealthCheckStateMachine(
            check: HealthCheck(command: ["CMD", "true"], interval: 10), startedAt: start)
        // When time has not reached the interval / Then no check is due
        #expect(machine.nextCheckDue == at(10))
        let startedEarly = machine.startCheckIfDue(now: at(9))
        #expect(!startedEarly)
        // When it is reached / Then one check starts and no other is due until it finishes
        let startedOnTime = machine.startCheckIfDue(now: at(10))
        #expect(startedOnTime)
        #expect(machine.nextCheckDue == nil)
        let startedTwice = machine.startCheckIfDue(now: at(30))
        #expect(!startedTwice)
        // When it finishes at 12 s / Then the next is due at 22 s
        _ = machine.finished(.exited(code: 0), now: at(12))
        #expect(machine.nextCheckDue == at(22))
    }

    @Test(arguments: [1, 2, 3, 5])
    func unhealthyAfterExactlyRetriesConsecutiveFailures(retries: Int) {
        // Given a healthy container whose check allows `retries` failures
        var machine = HealthCheckStateMachine(
            check: HealthCheck(command: ["CMD", "true"], interval: 5, retries: retries), startedAt: start)
        let change4 = machine.finished(.exited(code: 0), now: at(5))
        #expect(change4 == .healthy)
        // When it fails retries - 1 times / Then it is still healthy
        for attempt in 1..<retries {
            let change5 = machine.finished(.exited(code: 1), now: at(5 + Double(attempt) * 5))
            #expect(change5 == nil)
            #expect(machine.status == .healthy)
        }
        // When it fails once more / Then it turns unhealthy
        let change6 = machine.finished(.exited(code: 1), now: at(100))
        #expect(change6 == .unhealthy)
        #expect(machine.consecutiveFailures == retries)
    }

    @Test(arguments: [HealthCheckResult.exited(code: 2), .timedOut, .couldNotRun("no such file")])
    func everyKindOfFailureCounts(result: HealthCheckResult) {
        // Given a check with one retry / When a check fails in this way / Then the container is unhealthy
        var machine = HealthCheckStateMachine(
            check: HealthCheck(command: ["CMD", "true"], retries: 1), startedAt: start)
        let change7 = machine.finished(result, now: at(30))
        #expect(change7 == .unhealthy)
    }

    @Test func successResetsTheFailureCount() {
        // Given two failures out of three allowed
        var machine = HealthCheckStateMachine(
            check: HealthCheck(command: ["CMD", "true"], retries: 3), startedAt: start)
        _ = machine.finished(.timedOut, now: at(30))
        _ = machine.finished(.timedOut, now: at(60))
        // When a check passes, then two more fail / Then it stays healthy
        let change8 = machine.finished(.exited(code: 0), now: at(90))
        #expect(change8 == .healthy)
        _ = machine.finished(.exited(code: 1), now: at(120))
        _ = machine.finished(.exited(code: 1), now: at(150))
        #expect(machine.status == .healthy)
        #expect(machine.consecutiveFailures == 2)
    }

    @Test func failuresDuringStartPeriodDoNotCount() {
        // Given a 60 s start period and one retry
        var machine = HealthCheckStateMachine(
            check: HealthCheck(command: ["CMD", "true"], interval: 5, retries: 1, startPeriod: 60), startedAt: start)
        // When checks fail inside the start period / Then nothing counts
        let change9 = machine.finished(.exited(code: 1), now: at(5))
        #expect(change9 == nil)
        let change10 = machine.finished(.timedOut, now: at(59))
        #expect(change10 == nil)
        #expect(machine.status == .unknown)
        #expect(machine.consecutiveFailures == 0)
        // When one fails after it / Then it counts
        let change11 = machine.finished(.exited(code: 1), now: at(60))
        #expect(change11 == .unhealthy)
    }

    @Test func successDuringStartPeriodEndsIt() {
        // Given a 60 s start period and one retry
        var machine = HealthCheckStateMachine(
            check: HealthCheck(command: ["CMD", "true"], interval: 5, retries: 1, startPeriod: 60), startedAt: start)
        // When a check passes inside it / Then the container is healthy
        let change12 = machine.finished(.exited(code: 0), now: at(5))
        #expect(change12 == .healthy)
        // When a check then fails, still inside the period / Then it counts
        let change13 = machine.finished(.exited(code: 1), now: at(10))
        #expect(change13 == .unhealthy)
    }

    @Test func duringTheStartPeriodChecksRunEveryStartIntervalUntilTheFirstPass() {
        // Given interval 5 s, a 2 s start period and a 250 ms start interval
        var machine = HealthCheckStateMachine(
            check: HealthCheck(command: ["CMD", "true"], interval: 5, retries: 1, startPeriod: 2), startedAt: start,
            startInterval: .milliseconds(250))
        // Then the first check is due 250 ms after the start, and after a failure 250 ms after it finished
        #expect(machine.nextCheckDue == at(0.25))
        let started = machine.startCheckIfDue(now: at(0.25))
        #expect(started)
        #expect(machine.finished(.exited(code: 1), now: at(0.5)) == nil)
        #expect(machine.nextCheckDue == at(0.75))
        // When one passes / Then it is healthy at once and the next check is a whole interval later
        #expect(machine.finished(.exited(code: 0), now: at(0.75)) == .healthy)
        #expect(machine.nextCheckDue == at(5.75))
    }

    @Test func afterTheStartPeriodWithoutAPassChecksRunEveryInterval() {
        // Given a 2 s start period, a 250 ms start interval, checks failing through the period
        var machine = HealthCheckStateMachine(
            check: HealthCheck(command: ["CMD", "true"], interval: 5, retries: 3, startPeriod: 2), startedAt: start,
            startInterval: .milliseconds(250))
        #expect(machine.finished(.exited(code: 1), now: at(1.75)) == nil)
        #expect(machine.nextCheckDue == at(2))
        // When a check fails once the period is over / Then it counts, and the next is a whole interval later
        #expect(machine.finished(.exited(code: 1), now: at(2.25)) == nil)
        #expect(machine.consecutiveFailures == 1)
        #expect(machine.nextCheckDue == at(7.25))
    }

    @Test func withoutAStartPeriodTheFirstCheckIsOneIntervalAfterStart() {
        // Given no start period (ECS's default) and a 250 ms start interval / Then Docker's schedule: one interval
        let machine = HealthCheckStateMachine(
            check: HealthCheck(command: ["CMD", "true"], interval: 5), startedAt: start,
            startInterval: .milliseconds(250))
        #expect(machine.nextCheckDue == at(5))
    }

    @Test func aStartIntervalLongerThanTheIntervalIsTheInterval() {
        let machine = HealthCheckStateMachine(
            check: HealthCheck(command: ["CMD", "true"], interval: 5, startPeriod: 60), startedAt: start,
            startInterval: .seconds(30))
        #expect(machine.startInterval == .seconds(5))
        #expect(machine.nextCheckDue == at(5))
    }
}
