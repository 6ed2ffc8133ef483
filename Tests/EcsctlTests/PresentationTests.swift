@testable import ecsctl
import FlotillaClient
import Foundation
import TaskDefinitions
import Testing

@Suite(.timeLimit(.minutes(10)))
struct PresentationTests {
    @Test func tableAlignsColumnsWithoutTrailingBlanks() {
        // Given rows of different widths
        let table = TextTable(
            headers: ["NAME", "STATUS", "DESIRED"],
            rows: [["web", "ACTIVE", "2"], ["background-worker", "DRAINING", "10"]])

        // Then every column starts at the same offset on every line
        #expect(
            table.render() == """
                NAME               STATUS    DESIRED
                web                ACTIVE    2
                background-worker  DRAINING  10

                """)
    }

    @Test func cellsAreOneLineAndShortRowsArePadded() {
        let table = TextTable(headers: ["A", "B"], rows: [["x\ny"], ["z", "w"]])
        #expect(table.render() == "A    B\nx y\nz    w\n")
    }

    @Test func servicesTableShowsCountsAndShortTaskDefinition() {
        // Given a DescribeServices answer
        let service: JSONValue = .object([
            "serviceName": .string("web"), "status": .string("ACTIVE"), "desiredCount": .number(2),
            "runningCount": .number(1), "pendingCount": .number(1),
            "taskDefinition": .string("arn:aws:ecs:us-east-1:000000000000:task-definition/web:3"),
            "events": .array([
                .object([
                    "createdAt": .number(1_795_000_000),
                    "message": .string("(service web) has reached a steady state."),
                ])
            ]),
        ])

        // When it is rendered with details
        let text = ECSTables.serviceDetails([service])

        // Then the table and the recent events read as ecsctl prints them
        #expect(
            text == """
                NAME  STATUS  DESIRED  RUNNING  PENDING  TASK DEFINITION
                web   ACTIVE  2        1        1        web:3

                Recent events of web:
                TIME                  MESSAGE
                2026-11-18 11:06:40Z  (service web) has reached a steady state.

                """)
    }

    @Test func missingMembersShowAsDash() {
        #expect(
            ECSTables.clusters([.object(["clusterName": .string("prod")])]) == """
                NAME  STATUS  INSTANCES  SERVICES  RUNNING  PENDING
                prod  -       -          -         -        -

                """)
    }

    @Test func failuresAreListedOnlyWhenThereAreAny() {
        #expect(ECSTables.failures([]) == "")
        let text = ECSTables.failures([
            .object([
                "arn": .string("arn:aws:ecs:us-east-1:0:service/default/api"),
                "reason": .string("MISSING"),
            ])
        ])
        #expect(text.contains("FAILED"))
        #expect(text.contains("arn:aws:ecs:us-east-1:0:service/default/api  MISSING  -"))
    }

    @Test func taskDefinitionShowsContainersAndPorts() {
        let definition: JSONValue = .object([
            "family": .string("web"), "revision": .number(1), "status": .string("ACTIVE"),
            "networkMode": .string("bridge"),
            "containerDefinitions": .array([
                .object([
                    "name": .string("httpd"), "image": .string("busybox"), "memoryReservation": .number(64),
                    "portMappings": .array([.object(["containerPort": .number(80), "hostPort": .number(0)])]),
                ])
            ]),
        ])
        let text = ECSTables.taskDefinition(definition)
        #expect(text.contains("web:1            ACTIVE  bridge"))
        #expect(text.contains("httpd      busybox  -    64 (soft)  true       0->80/tcp"))
    }

    @Test(arguments: [
        ("arn:aws:ecs:us-east-1:000000000000:task-definition/web:3", "web:3"),
        ("arn:aws:ecs:us-east-1:000000000000:service/default/web", "web"),
        ("arn:aws:ecs:us-east-1:000000000000:task/default/0a1b2c", "0a1b2c"),
        ("web:3", "web:3"),
    ])
    func shortNamesOfARNs(arn: String, short: String) {
        #expect(ECSText.shortName(arn) == short)
    }

    @Test(arguments: [
        (JSONValue.number(3), "3"), (.number(0.5), "0.5"), (.bool(false), "false"), (.string(""), "-"), (.null, "-"),
    ])
    func cellText(value: JSONValue, text: String) {
        #expect(ECSText.text(value) == text)
    }
}

@Suite(.timeLimit(.minutes(10)))
struct JSONTextTests {
    @Test func printsLikeTheAWSCLI() {
        // Given an answer with nesting, empty containers, integers, fractions, escapes and ARNs
        let value: JSONValue = .object([
            "services": .array([
                .object([
                    "serviceName": .string("web \"a\""), "desiredCount": .number(2),
                    "createdAt": .number(1.5), "events": .array([]), "tags": .object([:]),
                ])
            ]),
            "arn": .string("arn:aws:ecs:us-east-1:0:cluster/default"),
        ])

        // Then it reads as the awscli's JSON output
        #expect(
            JSONText.pretty(value) == """
                {
                    "arn": "arn:aws:ecs:us-east-1:0:cluster/default",
                    "services": [
                        {
                            "createdAt": 1.5,
                            "desiredCount": 2,
                            "events": [],
                            "serviceName": "web \\"a\\"",
                            "tags": {}
                        }
                    ]
                }
                """)
    }

    @Test func prettyTextParsesBackToTheSameValue() throws {
        let value: JSONValue = .object(["a": .array([.null, .bool(true), .number(-3), .string("ü/\n")])])
        #expect(try JSONDecoder().decode(JSONValue.self, from: Data(JSONText.pretty(value).utf8)) == value)
    }
}
