/// The AWS CLI's INI files (`~/.aws/credentials`, `~/.aws/config`) as sections of lowercase keys.
///
/// Reads what the AWS CLI writes and what Python's `configparser` (which the CLI uses) accepts: `[section]` lines,
/// `key = value` or `key: value`, whole-line comments starting with `#` or `;`, blank lines, indented continuation
/// lines (the nested `s3 =` blocks; kept as the value's further lines). Keys are lowercased, values trimmed; a `#`
/// after a value is part of the value, as in `configparser`. A key outside any section or a section repeated is an
/// error naming the file and the line.
public struct AWSConfigFile: Sendable, Hashable {
    /// Section name → key → value, e.g. `["profile dev": ["region": "eu-west-1"]]`.
    public var sections: [String: [String: String]]

    /// Parses `text`; `path` names the file in errors.
    public init(parsing text: String, path: String) throws(AWSProfileError) {
        var sections: [String: [String: String]] = [:]
        var current: String?
        var lastKey: String?
        for (offset, rawLine) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated()
        {
            let lineNumber = offset + 1
            let line = rawLine
            let trimmed = line.trimmingWhitespace()
            if trimmed.isEmpty {
                lastKey = nil
                continue
            }
            if trimmed.hasPrefix("#") || trimmed.hasPrefix(";") { continue }
            if let first = line.first, first == " " || first == "\t", let section = current, let key = lastKey {
                sections[section, default: [:]][key, default: ""] += "\n" + trimmed
                continue
            }
            if trimmed.hasPrefix("[") {
                guard trimmed.hasSuffix("]"), trimmed.count >= 2 else {
                    throw .malformedFile(path: path, line: lineNumber, problem: "a section header must end with ']'")
                }
                let name = String(trimmed.dropFirst().dropLast()).trimmingWhitespace()
                guard sections[name] == nil else {
                    throw .malformedFile(path: path, line: lineNumber, problem: "section '\(name)' already exists")
                }
                sections[name] = [:]
                current = name
                lastKey = nil
                continue
            }
            guard let section = current else {
                throw .malformedFile(path: path, line: lineNumber, problem: "the file contains no section headers")
            }
            guard let separator = trimmed.firstIndex(where: { $0 == "=" || $0 == ":" }) else {
                throw .malformedFile(path: path, line: lineNumber, problem: "expected 'key = value'")
            }
            let key = String(trimmed[..<separator]).trimmingWhitespace().lowercased()
            guard !key.isEmpty else {
                throw .malformedFile(path: path, line: lineNumber, problem: "a key is missing before '='")
            }
            sections[section, default: [:]][key] = String(trimmed[trimmed.index(after: separator)...])
                .trimmingWhitespace()
            lastKey = key
        }
        self.sections = sections
    }
}

extension StringProtocol {
    /// Without spaces and tabs at either end.
    func trimmingWhitespace() -> String {
        let isBlank: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" }
        guard let start = firstIndex(where: { !isBlank($0) }), let end = lastIndex(where: { !isBlank($0) }) else {
            return ""
        }
        return String(self[start...end])
    }
}
