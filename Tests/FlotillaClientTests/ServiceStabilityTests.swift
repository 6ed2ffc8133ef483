import FlotillaClient
import Foundation
import TaskDefinitions
import Testing

@Suite("services-stable waiter: the awscli's conditions and --wait's progress lines", .timeLimit(.minutes(10)))
struct ServiceStabilityTests {
    func service(
        _ name: String, desired: Int, running: Int, pending: Int = 0, deployments: Int = 1,
        status: String = "ACTIVE", events: [(String, String)] = []
    ) -> JSONValue {
        .object([
            "serviceName": .string(name), "status": .string(status), "desiredCount": .number(Double(desired)),
            "runningCount": .number(Double(running)), "pendingCount": .number(Double(pending)),
            "deployments": .array((0..<deployments).map { _ in .object(["status": .string("PRIMARY")]) }),
            "events": .array(
                events.map {
                    .object([
                        "id": .string($0.0), "message": .string($0.1),
                        "createdAt": .number(1_700_000_000),
                    ])
                }),
        ])
    }

    func answer(_ services: [JSONValue], failures: [JSONValue] = []) -> JSONValue {
        .object(["services": .array(services), "failures": .array(failures)])
    }

    @Test(
        "Verdicts",
        arguments: [
            (1, 1, 0, 1, "ACTIVE", ServiceStability.Verdict.stable),
            (0, 0, 0, 1, "ACTIVE", .stable),
            (2, 1, 0, 1, "ACTIVE", .waiting(["web"])),
            (1, 1, 1, 1, "ACTIVE", .waiting(["web"])),
            (1, 1, 0, 2, "ACTIVE", .waiting(["web"])),
            (1, 1, 0, 1, "DRAINING", .failed("service web is DRAINING")),
        ])
    func verdicts(
        desired: Int, running: Int, pending: Int, deployments: Int, status: String,
        expected: ServiceStability.Verdict
    ) {
        let verdict = ServiceStability.verdict(
            of: answer([
                service(
                    "web", desired: desired, running: running,
                    pending: pending, deployments: deployments, status: status)
            ]))
        #expect(verdict == expected)
    }

    @Test func aMissingServiceFailsAtOnce() {
        let missing: JSONValue = .object([
            "arn": .string("arn:aws:ecs:us-east-1:0:service/demo/nope"), "reason": .string("MISSING"),
        ])
        #expect(
            ServiceStability.verdict(of: answer([service("web", desired: 1, running: 1)], failures: [missing]))
                == .failed("service nope is MISSING"))
    }

    @Test func progressPrintsNewEventsOnceOldestFirstAndCountsWhenTheyChange() {
        // Given the answer of the update, with an event already known
        var progress = ServiceProgress(known: [service("web", desired: 2, running: 1, events: [("e1", "old news")])])
        // When the first poll shows a new event (ECS lists newest first)
        let first = progress.lines(
            for: answer([
                service(
                    "web", desired: 2, running: 1, pending: 1,
                    events: [("e3", "started 1 task"), ("e2", "stopped 1 task"), ("e1", "old news")])
            ]))
        // Then the new events come oldest first, then the counts
        #expect(first.count == 3)
        #expect(first[0].hasSuffix("  stopped 1 task") && first[1].hasSuffix("  started 1 task"))
        #expect(first[2] == "web: 2 desired, 1 running, 1 pending, 1 deployment")
        // When nothing changed, nothing is printed; when the counts move, only they are
        #expect(
            progress.lines(for: answer([service("web", desired: 2, running: 1, pending: 1, events: [("e3", "x")])]))
                .isEmpty)
        #expect(
            progress.lines(for: answer([service("web", desired: 2, running: 2, deployments: 2)]))
                == ["web: 2 desired, 2 running, 0 pending, 2 deployments"])
    }

    @Test func logsURLCarriesFollowAndTail() {
        let url = AgentClient.logsURL(
            URL(string: "http://10.0.0.2:51678/v1/tasks/t/containers/web/logs")!, follow: true, tail: 5)
        #expect(url.absoluteString == "http://10.0.0.2:51678/v1/tasks/t/containers/web/logs?follow=true&tail=5")
    }
}
