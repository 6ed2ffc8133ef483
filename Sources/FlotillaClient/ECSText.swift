public import Foundation
public import TaskDefinitions

/// How values of ECS answers read as text: ecsctl's table cells and `--wait`'s progress lines (`ServiceProgress`).
public enum ECSText {
    /// The readable short form of an ECS ARN: `task-definition/web:3` → `web:3`, `service/default/web` → `web`,
    /// `task/default/0a1b` → `0a1b`. Anything that is not an ARN is returned as is.
    public static func shortName(_ arn: String) -> String {
        guard arn.hasPrefix("arn:"), let slash = arn.lastIndex(of: "/") else { return arn }
        return String(arn[arn.index(after: slash)...])
    }

    /// A cell: strings as they are, integers without a fraction, booleans as true/false, missing as `-`.
    public static func text(_ value: JSONValue?) -> String {
        switch value {
        case nil, .null?: return "-"
        case .string(let text)?: return text.isEmpty ? "-" : text
        case .bool(let flag)?: return flag ? "true" : "false"
        case .number(let number)?:
            if number.rounded() == number, abs(number) < 1e15 { return String(Int64(number)) }
            return String(number)
        case .array(let items)?: return items.map { text($0) }.joined(separator: ",")
        case .object?: return String(decoding: ECSWire.encode(value!), as: UTF8.self)
        }
    }

    /// An ECS timestamp (epoch seconds, as the JSON protocol sends it) as `2026-11-29 06:10:42Z`.
    public static func timestamp(_ value: JSONValue?) -> String {
        guard case .number(let seconds)? = value else { return text(value) }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [
            .withFullDate, .withDashSeparatorInDate, .withTime, .withColonSeparatorInTime, .withSpaceBetweenDateAndTime,
        ]
        return formatter.string(from: Date(timeIntervalSince1970: seconds)) + "Z"
    }
}
