import Foundation
import TaskDefinitions

/// A structured command-line value as the awscli takes it: `file://PATH` to a JSON file, inline JSON, or the
/// shorthand `key=value,key=value`.
enum ArgumentDocument {
    /// Why an argument could not be read, naming the option.
    struct Error: Swift.Error, Hashable, Sendable, CustomStringConvertible {
        var option: String
        var reason: String
        init(option: String, reason: String) {
            self.option = option
            self.reason = reason
        }
        var description: String { "\(option): \(reason)" }
    }

    /// How shorthand values are typed: `.inferred` turns `200` into a number and `true` into a boolean (for
    /// numeric shapes such as `deploymentConfiguration`); `.strings` keeps every value a string (tags, attributes).
    enum ShorthandValues: Sendable { case inferred, strings }

    /// Parses `argument` given to `option`.
    ///
    /// - Parameter readFile: the contents of a path, or nil when it cannot be read.
    static func parse(
        _ argument: String, option: String, shorthand: ShorthandValues = .inferred,
        readFile: (String) -> Data? = { FileManager.default.contents(atPath: $0) }
    )
        throws(Error) -> JSONValue
    {
        for scheme in ["file://", "fileb://"] where argument.hasPrefix(scheme) {
            let path = String(argument.dropFirst(scheme.count))
            guard let data = readFile(path) else {
                throw Error(option: option, reason: "cannot read the file \(path)")
            }
            return try json(data, option: option, origin: "the file \(path)")
        }
        let trimmed = argument.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.hasPrefix("{") || trimmed.hasPrefix("[") || trimmed.hasPrefix("\"") {
            return try json(Data(trimmed.utf8), option: option, origin: "the value")
        }
        return try parseShorthand(trimmed, option: option, values: shorthand)
    }

    /// Parses each argument of a list-valued option; JSON arrays are spliced in, objects and shorthand appended.
    static func parseList(
        _ arguments: [String], option: String, shorthand: ShorthandValues = .inferred,
        readFile: (String) -> Data? = { FileManager.default.contents(atPath: $0) }
    )
        throws(Error) -> [JSONValue]
    {
        var items: [JSONValue] = []
        for argument in arguments {
            let value = try parse(argument, option: option, shorthand: shorthand, readFile: readFile)
            if case .array(let list) = value { items += list } else { items.append(value) }
        }
        return items
    }

    /// `key=value,key=value` as a JSON object.
    static func parseShorthand(
        _ text: String, option: String, values: ShorthandValues
    ) throws(Error) -> JSONValue {
        var members: [String: JSONValue] = [:]
        for pair in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else {
                throw Error(
                    option: option, reason: "expected JSON, file://PATH or key=value[,key=value...], got '\(text)'")
            }
            let key = pair[..<equals].trimmingCharacters(in: .whitespaces)
            let raw = pair[pair.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            guard members[key] == nil else {
                throw Error(option: option, reason: "the key '\(key)' is given twice")
            }
            members[key] = values == .strings ? .string(raw) : inferred(raw)
        }
        return .object(members)
    }

    private static func inferred(_ raw: String) -> JSONValue {
        if raw == "true" { return .bool(true) }
        if raw == "false" { return .bool(false) }
        if let integer = Int(raw) { return .number(Double(integer)) }
        return .string(raw)
    }

    private static func json(_ data: Data, option: String, origin: String) throws(Error) -> JSONValue {
        do {
            return try JSONDecoder().decode(JSONValue.self, from: data)
        } catch {
            throw Error(option: option, reason: "\(origin) is not valid JSON (\(describe(error)))")
        }
    }

    private static func describe(_ error: any Swift.Error) -> String {
        if case DecodingError.dataCorrupted(let context) = error {
            let underlying = (context.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
            return underlying ?? context.debugDescription
        }
        return "\(error)"
    }
}
