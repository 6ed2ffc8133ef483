@testable import ecsctl
import FlotillaClient
import Foundation
import TaskDefinitions
import Testing

@Suite(.timeLimit(.minutes(10)))
struct ArgumentDocumentTests {
    @Test func inlineJSON() throws {
        let value = try ArgumentDocument.parse(#"{"maximumPercent": 200}"#, option: "--deployment-configuration")
        #expect(value == .object(["maximumPercent": .number(200)]))
    }

    @Test func fileURLReadsTheFile() throws {
        // Given a file reader that knows one path
        let files = ["/tmp/web.json": #"{"family": "web"}"#]
        let value = try ArgumentDocument.parse(
            "file:///tmp/web.json", option: "--cli-input-json",
            readFile: { files[$0].map { Data($0.utf8) } })
        #expect(value["family"] == .string("web"))
    }

    @Test func missingFileNamesOptionAndPath() {
        let error = #expect(throws: ArgumentDocument.Error.self) {
            try ArgumentDocument.parse("file:///nowhere.json", option: "--cli-input-json", readFile: { _ in nil })
        }
        #expect(error?.description == "--cli-input-json: cannot read the file /nowhere.json")
    }

    @Test func invalidJSONInAFileIsNamed() {
        let error = #expect(throws: ArgumentDocument.Error.self) {
            try ArgumentDocument.parse("file://bad.json", option: "--cli-input-json", readFile: { _ in Data("{".utf8) })
        }
        #expect(error?.description.hasPrefix("--cli-input-json: the file bad.json is not valid JSON") == true)
    }

    @Test func shorthandInfersNumbersAndBooleans() throws {
        let value = try ArgumentDocument.parse(
            "maximumPercent=200,minimumHealthyPercent=50,enable=true",
            option: "--deployment-configuration")
        #expect(
            value
                == .object([
                    "maximumPercent": .number(200), "minimumHealthyPercent": .number(50),
                    "enable": .bool(true),
                ]))
    }

    @Test func shorthandStringsStayStrings() throws {
        let value = try ArgumentDocument.parse("key=version,value=123", option: "--tags", shorthand: .strings)
        #expect(value == .object(["key": .string("version"), "value": .string("123")]))
    }

    @Test func listSplicesArraysAndAppendsObjects() throws {
        let items = try ArgumentDocument.parseList(
            [#"[{"type":"spread","field":"instanceId"}]"#, "type=binpack,field=memory"],
            option: "--placement-strategy", shorthand: .strings)
        #expect(
            items == [
                .object(["type": .string("spread"), "field": .string("instanceId")]),
                .object(["type": .string("binpack"), "field": .string("memory")]),
            ])
    }

    @Test(arguments: ["spread", "=x", "a=1,a=2"])
    func badShorthandIsRefused(argument: String) {
        #expect(throws: ArgumentDocument.Error.self) {
            try ArgumentDocument.parse(argument, option: "--placement-strategy")
        }
    }
}
