import Foundation
import Scheduler
import Testing

@Suite(.timeLimit(.minutes(10)))
struct ConstraintExpressionTests {
    static let small = Fixture.instance(
        "i-1", type: "t2.small", extra: ["stack": "prod", "gpu": String?.none, "cores": "8"])

    @Test(
        "each expression form evaluates as ECS documents",
        arguments: [
            ("attribute:ecs.instance-type == t2.small", true),
            ("attribute:ecs.instance-type != t2.small", false),
            ("attribute:ecs.instance-type in [t2.micro, t2.small]", true),
            ("attribute:ecs.instance-type in (t2.micro,t2.medium)", false),
            ("attribute:ecs.instance-type not_in [t2.micro]", true),
            ("attribute:ecs.instance-type !in [t2.small]", false),
            ("attribute:ecs.instance-type not in [t2.small]", false),
            ("attribute:ecs.instance-type =~ t2.*", true),
            ("attribute:ecs.instance-type =~ t2.(micro|medium)", false),
            ("attribute:ecs.instance-type !~ m5.*", true),
            ("attribute:ecs.instance-type =~ \"t2\\.s.*\"", true),
            ("attribute:gpu exists", true),
            ("attribute:gpu !exists", false),
            ("attribute:missing exists", false),
            ("attribute:missing !exists", true),
            ("attribute:cores > 4", true),
            ("attribute:cores <= 4", false),
            ("attribute:stack == prod and attribute:ecs.availability-zone == us-east-1a", true),
            ("attribute:stack == dev or attribute:ecs.os-type == linux", true),
            ("not attribute:stack == prod", false),
            ("!(attribute:stack == prod)", false),
            ("(attribute:stack == dev or attribute:stack == prod) && attribute:ecs.instance-type == t2.small", true),
            ("attribute:stack == dev or attribute:stack == prod and attribute:cores == 1", false),
            ("ec2InstanceId == i-1", true),
            ("instanceId in [i-2, i-3]", false),
            ("agentConnected == true", true),
            ("agentVersion >= 1.9.0", true),
            ("agentVersion < 1.100", true),
            ("registeredAt < 2024-01-01", true),
            ("registeredAt == 2023-11-14", true),
            ("registeredAt > 2023-11-14T22:13:21Z", false),
            ("runningTasksCount == 0", true),
            ("task:group == service:web", false),
            ("task:group != service:web", true),
        ])
    func evaluates(expression: String, expected: Bool) throws {
        // Given an instance with built-in and custom attributes and no tasks
        // When the expression is parsed and evaluated
        let parsed = try ConstraintExpression(parsing: expression)
        // Then the result is ECS's
        #expect(parsed.matches(Self.small, groups: [String]()) == expected)
    }

    @Test(
        "task:group looks at the groups of the tasks on the instance",
        arguments: [
            ("task:group == service:web", true),
            ("task:group in [service:db, service:web]", true),
            ("task:group =~ service:d.*", false),
            ("not task:group == service:web", false),
        ])
    func taskGroup(expression: String, expected: Bool) throws {
        let parsed = try ConstraintExpression(parsing: expression)
        #expect(parsed.dependsOnPlacedTasks)
        #expect(parsed.matches(Self.small, groups: ["service:web", "family:batch"]) == expected)
    }

    @Test(
        "a malformed expression is refused with the position and what was expected",
        arguments: [
            ("", "the expression is empty"),
            ("attribute:ecs.instance-type ==", "expected a value after '=='"),
            ("attribute:ecs.instance-type = t2.small", "'=' is not an operator"),
            ("attribute:ecs.instance-type in t2.small", "expected a list"),
            ("attribute:ecs.instance-type in [t2.small", "expected ',' or ']'"),
            ("attribute:ecs.instance-type in []", "expected a value in the list"),
            ("(attribute:a == b", "expected ')'"),
            ("attribute:a == b)", "unexpected ')'"),
            ("attribute:a == b and", "expected a subject"),
            ("color == red", "unknown subject 'color'"),
            ("attribute: == x", "attribute: needs a name"),
            ("attribute:a =~ (unclosed", "not a valid regular expression"),
            ("registeredAt =~ 2020.*", "operator '=~' is not valid for registeredAt"),
            ("registeredAt > yesterday", "is not a date"),
            ("agentConnected == maybe", "compares with true or false"),
            ("ec2InstanceId exists", "operator 'exists' is not valid for ec2InstanceId"),
            ("attribute:a == 'open", "unterminated quoted value"),
            ("attribute:a & attribute:b", "'&' is not an operator"),
            ("attribute:a == b c", "unexpected 'c'"),
        ])
    func parseErrors(expression: String, problem: String) {
        // When a malformed expression is parsed, Then the error names the problem
        #expect {
            _ = try ConstraintExpression(parsing: expression)
        } throws: { error in
            guard let error = error as? ConstraintExpressionError else { return false }
            return error.problem.contains(problem) && error.expression == expression
                && error.description.hasPrefix("Invalid placement constraint expression")
        }
    }

    @Test func offsetPointsAtTheProblem() {
        #expect(
            throws: ConstraintExpressionError(
                expression: "attribute:a == b and (x", offset: 22,
                problem:
                    "unknown subject 'x' (expected attribute:<name>, ec2InstanceId, agentConnected, agentVersion, registeredAt, runningTasksCount or task:group)"
            )
        ) {
            _ = try ConstraintExpression(parsing: "attribute:a == b and (x")
        }
    }

    @Test("constraints and strategies are validated as the API receives them")
    func validatePlacement() throws {
        // Given ECS-shaped constraints and strategies
        let (constraints, strategy) = try Scheduler.validatePlacement(
            constraints: [
                (type: "distinctInstance", expression: nil),
                (type: "memberOf", expression: "attribute:ecs.os-type == linux"),
            ],
            strategy: [
                (type: "spread", field: "attribute:ecs.availability-zone"), (type: "binpack", field: "memory"),
                (type: "random", field: nil),
            ])
        // Then they parse into the scheduler's types
        #expect(constraints.map(\.kind) == [.distinctInstance, .memberOf])
        #expect(strategy == [.spread(.attribute("ecs.availability-zone")), .binpack(.memory), .random])
        // And bad ones are refused with a message naming the problem
        #expect(throws: PlacementConfigurationError.invalidStrategy("binpack field must be cpu or memory, got 'disk'"))
        {
            _ = try PlacementStrategy(type: "binpack", field: "disk")
        }
        #expect(throws: PlacementConfigurationError.invalidConstraint("memberOf requires an expression")) {
            _ = try PlacementConstraint(type: "memberOf", expression: " ")
        }
        #expect(
            throws: PlacementConfigurationError.invalidConstraint(
                "type must be distinctInstance or memberOf, got 'sameHost'")
        ) {
            _ = try PlacementConstraint(type: "sameHost", expression: nil)
        }
        #expect(throws: PlacementConfigurationError.self) {
            _ = try Scheduler.validatePlacement(
                constraints: [(type: "memberOf", expression: "attribute:a ==")], strategy: [])
        }
        #expect(throws: PlacementConfigurationError.tooMany("At most 5 placement strategies are allowed, got 6")) {
            _ = try Scheduler.validatePlacement(
                constraints: [], strategy: Array(repeating: (type: "random", field: nil), count: 6))
        }
    }
}
