import Foundation
import TaskDefinitions

/// JSON builders and paths shared by the suites.
enum Fixture {
    /// `examples/taskdefs` of this checkout, found from this file's path.
    static let examples = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("examples/taskdefs")

    /// A task definition with family `t`, the given containers and extra task-level members (`,"cpu":"256"`).
    static func task(_ containers: String..., extra: String = "") -> String {
        #"{"family":"t"\#(extra),"containerDefinitions":[\#(containers.joined(separator: ","))]}"#
    }

    /// A valid container named `name` with 64 MiB of memory plus extra members (`,"cpu":-1`).
    static func container(_ name: String = "app", _ extra: String = "") -> String {
        #"{"name":"\#(name)","image":"flotilla/busybox:1","memory":64\#(extra)}"#
    }

    /// The error `decode` throws for `json`, or nil when it decodes.
    static func error(decoding json: String) -> TaskDefinitionError? {
        error(decoding: Data(json.utf8))
    }

    static func error(decoding data: Data) -> TaskDefinitionError? {
        do {
            _ = try TaskDefinition.decode(data)
            return nil
        } catch {
            return error
        }
    }
}
