import FlotillaClient
import Foundation
import TaskDefinitions

/// JSON as the awscli prints it: four-space indents, `"key": value`, keys sorted, slashes unescaped.
enum JSONText {
    static func pretty(_ value: JSONValue) -> String {
        var text = ""
        write(value, indent: 0, into: &text)
        return text
    }

    private static func write(_ value: JSONValue, indent: Int, into text: inout String) {
        let padding = String(repeating: " ", count: (indent + 1) * 4)
        let closing = String(repeating: " ", count: indent * 4)
        switch value {
        case .array(let items) where !items.isEmpty:
            text += "[\n"
            for (index, item) in items.enumerated() {
                text += padding
                write(item, indent: indent + 1, into: &text)
                text += index == items.count - 1 ? "\n" : ",\n"
            }
            text += closing + "]"
        case .object(let members) where !members.isEmpty:
            text += "{\n"
            let keys = members.keys.sorted()
            for (index, key) in keys.enumerated() {
                text += padding + scalar(.string(key)) + ": "
                write(members[key]!, indent: indent + 1, into: &text)
                text += index == keys.count - 1 ? "\n" : ",\n"
            }
            text += closing + "}"
        default:
            text += scalar(value)
        }
    }

    /// A scalar (or empty container) in JSONValue's own compact encoding.
    private static func scalar(_ value: JSONValue) -> String {
        String(decoding: ECSWire.encode(value), as: UTF8.self)
    }
}
