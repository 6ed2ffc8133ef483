import Foundation
import TaskDefinitions
import Testing

/// JSON that does not have ECS's shape, and the one issue it must become.
struct ShapeCase: Sendable, CustomTestStringConvertible {
    let name: String
    let json: String
    let path: String
    let message: String

    init(_ name: String, _ json: String, _ path: String, _ message: String) {
        self.name = name
        self.json = json
        self.path = path
        self.message = message
    }

    var testDescription: String { name }
}

@Suite(.timeLimit(.minutes(10)))
struct DecodingErrorTests {
    static let cases: [ShapeCase] = [
        ShapeCase(
            "string for a number", Fixture.task(#"{"name":"a","image":"i","memory":"64"}"#),
            "containerDefinitions[0].memory", "expected a number, got a string"),
        ShapeCase(
            "number for a string", #"{"family":5,"containerDefinitions":[]}"#,
            "family", "expected a string, got a number"),
        ShapeCase(
            "object for an array", #"{"family":"t","containerDefinitions":{"name":"a"}}"#,
            "containerDefinitions", "expected an array, got an object"),
        ShapeCase(
            "string for a boolean", Fixture.task(Fixture.container("a", #","essential":"yes""#)),
            "containerDefinitions[0].essential", "expected a boolean, got a string"),
        ShapeCase(
            "number in a string map", Fixture.task(Fixture.container("a", #","dockerLabels":{"team":1}"#)),
            "containerDefinitions[0].dockerLabels.team", "expected a string, got a number"),
        ShapeCase(
            "null in a string list", Fixture.task(Fixture.container("a", #","command":["sleep",null]"#)),
            "containerDefinitions[0].command[1]", "expected a string, got null"),
        ShapeCase(
            "missing required key",
            Fixture.task(Fixture.container("a", #","ulimits":[{"name":"nofile","softLimit":1}]"#)),
            "containerDefinitions[0].ulimits[0].hardLimit", "is required but missing"),
        ShapeCase(
            "health check without command", Fixture.task(Fixture.container("a", #","healthCheck":{"interval":5}"#)),
            "containerDefinitions[0].healthCheck.command", "is required but missing"),
        ShapeCase(
            "fraction for an integer", Fixture.task(#"{"name":"a","image":"i","memory":1.5}"#),
            "containerDefinitions[0].memory", "expected a whole number within 64 bits, got 1.5"),
        ShapeCase(
            "overflowing integer", Fixture.task(#"{"name":"a","image":"i","memory":1e30}"#),
            "containerDefinitions[0].memory", "expected a whole number within 64 bits, got 1e+30"),
        ShapeCase(
            "unknown network mode", Fixture.task(Fixture.container(), extra: #","networkMode":"overlay""#),
            "networkMode", "must be one of bridge, host, awsvpc, none, got 'overlay'"),
        ShapeCase(
            "unknown dependency condition",
            Fixture.task(Fixture.container("a", #","dependsOn":[{"containerName":"b","condition":"READY"}]"#)),
            "containerDefinitions[0].dependsOn[0].condition",
            "must be one of START, COMPLETE, SUCCESS, HEALTHY, got 'READY'"),
        ShapeCase("top level array", "[]", "", "expected a task definition object, got an array"),
        ShapeCase("top level string", #""web""#, "", "expected a task definition object, got a string"),
        ShapeCase("top level null", "null", "", "expected a task definition object, got null"),
    ]

    @Test("a DecodingError becomes one issue with the JSON path and a plain message", arguments: cases)
    func shape(_ shape: ShapeCase) throws {
        // Given JSON of the wrong shape; When decoded
        let error = try #require(Fixture.error(decoding: shape.json))
        // Then it is malformed, at the field, in plain words
        #expect(
            error == .malformed(ValidationIssue(path: ValidationRuleTests.path(shape.path), message: shape.message)),
            "\(error)")
    }

    @Test(
        "text that is not JSON is malformed at the root",
        arguments: [#"{"family": "#, "", "{'family':'x'}", "{\"a\":1}}"])
    func syntax(_ text: String) throws {
        let error = try #require(Fixture.error(decoding: text))
        guard case .malformed(let issue) = error else {
            Issue.record("expected malformed, got \(error)")
            return
        }
        #expect(issue.path.components.isEmpty)
        #expect(issue.message.hasPrefix("malformed JSON: "))
        #expect(error.description == issue.message)
    }

    @Test("the description of an issue is path, colon, message")
    func issueDescription() {
        let issue = ValidationIssue(
            path: FieldPath().key("containerDefinitions").index(1).key("portMappings").index(0)
                .key("hostPort"), message: "must be between 0 and 65535, got 70000")
        #expect(
            issue.description
                == "containerDefinitions[1].portMappings[0].hostPort: must be between 0 and 65535, got 70000")
        #expect(
            TaskDefinitionError.invalid([issue, ValidationIssue(path: .root, message: "x")]).description
                == "containerDefinitions[1].portMappings[0].hostPort: must be between 0 and 65535, got 70000; x")
    }
}

@Suite(.timeLimit(.minutes(10)))
struct ErrorDescriptionTests {
    @Test("a long list of issues is described by its first 20 and a count; issues keeps them all")
    func longList() throws {
        // Given ten containers, each with three broken port mappings
        let badPorts = #","portMappings":[{"containerPort":0},{"containerPort":0},{"containerPort":0}]"#
        let json = Fixture.task((0..<10).map { Fixture.container("c\($0)", badPorts) }.joined(separator: ","))
        // When decoded
        let error = try #require(Fixture.error(decoding: json))
        // Then all 30 issues are listed, and the one-line description names 20 and counts the rest
        #expect(error.issues.count == 30)
        #expect(error.description.components(separatedBy: "; ").count == 21)
        #expect(error.description.hasSuffix("; and 10 more issues"))
    }

    @Test("stored revisions decode without validation, so a later rule never hides them")
    func unvalidated() throws {
        let json = Data(Fixture.task(Fixture.container("a", #","stopTimeout":600"#)).utf8)
        #expect(Fixture.error(decoding: json) != nil)
        let definition = try TaskDefinition.decodeUnvalidated(json)
        #expect(definition.containerDefinitions.first?.stopTimeout == 600)
        #expect(throws: TaskDefinitionError.self) { try TaskDefinition.decodeUnvalidated(Data("[]".utf8)) }
    }
}

@Suite(.timeLimit(.minutes(10)))
struct HostileInputTests {
    @Test("deep nesting in an unknown field is refused or kept, never a crash", arguments: [100, 600, 5000])
    func deepNesting(_ depth: Int) {
        let nested = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        let json = Fixture.task(Fixture.container(), extra: #","x":\#(nested)"#)
        if let error = Fixture.error(decoding: json) {
            #expect(error.issues.first?.message.hasPrefix("malformed JSON: ") == true, "\(error)")
        } else {
            #expect(depth <= 512)
        }
    }

    @Test("a huge container list is refused with one issue, not one per container")
    func hugeList() throws {
        let json = Fixture.task(
            Array(repeating: Fixture.container("same", #","cpu":-5"#), count: 1000).joined(separator: ","))
        let error = try #require(Fixture.error(decoding: json))
        #expect(
            error
                == .invalid([
                    ValidationIssue(
                        path: FieldPath().key("containerDefinitions"),
                        message: "Too many containers. A task definition holds at most 10, got 1000.")
                ]))
    }
}
