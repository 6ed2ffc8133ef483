import Foundation

/// A parsed ECS cluster-query-language expression (`attribute:ecs.instance-type =~ t2.* and not (task:group == service:db)`).
///
/// Parsing checks subjects, operators per subject, regexes, dates and lists, so evaluation cannot fail.
public struct ConstraintExpression: Hashable, Sendable, CustomStringConvertible {
    /// The text as the user wrote it.
    public let source: String
    let root: Node

    /// ECS's limit on an expression's length, in characters ("The expression can have a maximum length of 2000
    /// characters"); ListContainerInstances' `filter` speaks the same language and gets the same limit.
    public static let maxLength = 2000
    /// How deep parentheses and `not` may nest. The parser, the tree and its evaluation recurse once per level, so
    /// this keeps a hostile expression far from the stack's end; real expressions nest two or three levels.
    public static let maxDepth = 32

    /// Parses `source`, throwing an error that names the position and what was expected.
    ///
    /// Longer than ``maxLength`` characters or nested deeper than ``maxDepth`` is refused before anything recurses.
    public init(parsing source: String) throws(ConstraintExpressionError) {
        let length = source.count
        guard length <= Self.maxLength else {
            throw ConstraintExpressionError(
                expression: source, offset: Self.maxLength,
                problem: "the expression is \(length) characters long; at most \(Self.maxLength) are allowed")
        }
        var parser = ConstraintParser(source: source)
        self.source = source
        self.root = try parser.parseExpression()
    }

    public var description: String { source }

    /// Whether the expression looks at the tasks on an instance (`task:group`, `runningTasksCount`), so its value can
    /// change as tasks are placed during one plan.
    public var dependsOnPlacedTasks: Bool { root.dependsOnPlacedTasks }

    public static func == (lhs: ConstraintExpression, rhs: ConstraintExpression) -> Bool { lhs.source == rhs.source }
    public func hash(into hasher: inout Hasher) { hasher.combine(source) }

    /// Evaluates the expression against one instance; `groups` are the task groups of the tasks on it.
    public func matches(_ instance: InstanceSnapshot, groups: some Collection<String>) -> Bool {
        root.evaluate(InstanceFacts(instance: instance, groups: groups))
    }
}

/// A malformed cluster-query-language expression: where and what.
public struct ConstraintExpressionError: Error, Hashable, Sendable, CustomStringConvertible {
    public var expression: String
    /// Character offset of the problem (0-based).
    public var offset: Int
    public var problem: String

    public init(expression: String, offset: Int, problem: String) {
        self.expression = expression
        self.offset = offset
        self.problem = problem
    }

    /// The message quotes at most this many characters of the expression, so a huge one does not echo back whole.
    static let quotedLength = 120

    public var description: String {
        let quoted =
            expression.count > Self.quotedLength ? String(expression.prefix(Self.quotedLength)) + "…" : expression
        return "Invalid placement constraint expression \"\(quoted)\": \(problem) at offset \(offset)"
    }
}

// MARK: - Syntax tree

/// The field an expression term looks at.
enum Subject: Hashable, Sendable {
    case attribute(String)
    case ec2InstanceId
    case agentConnected
    case agentVersion
    case registeredAt
    case runningTasksCount
    case taskGroup

    /// Operators ECS documents for the subject.
    func allows(_ comparison: Comparison) -> Bool {
        switch (self, comparison) {
        case (.attribute, _): true
        case (.ec2InstanceId, .equals), (.ec2InstanceId, .isIn), (.ec2InstanceId, .matches): true
        case (.agentConnected, .equals), (.agentConnected, .isIn), (.agentConnected, .matches): true
        case (.taskGroup, .equals), (.taskGroup, .isIn), (.taskGroup, .matches), (.taskGroup, .exists): true
        case (.agentVersion, .equals), (.agentVersion, .ordered): true
        case (.runningTasksCount, .equals), (.runningTasksCount, .ordered): true
        case (.registeredAt, .equals), (.registeredAt, .ordered): true
        default: false
        }
    }
}

enum Order: String, Hashable, Sendable {
    case less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="

    func holds(_ sign: Int) -> Bool {
        switch self {
        case .less: sign < 0
        case .lessOrEqual: sign <= 0
        case .greater: sign > 0
        case .greaterOrEqual: sign >= 0
        }
    }
}

/// A regex compiled once at parse time; equality is by pattern.
struct CompiledPattern: Hashable, @unchecked Sendable {
    // @unchecked: Regex values are immutable once built and matching never mutates them.
    let pattern: String
    let regex: Regex<AnyRegexOutput>
    static func == (lhs: CompiledPattern, rhs: CompiledPattern) -> Bool { lhs.pattern == rhs.pattern }
    func hash(into hasher: inout Hasher) { hasher.combine(pattern) }
    func matches(_ value: String) -> Bool { (try? regex.wholeMatch(in: value)) != nil }
}

/// The positive form of a term; negated operators (`!=`, `not_in`, `!~`, `!exists`) wrap it in `.not`.
enum Comparison: Hashable, Sendable {
    case equals(String)
    case isIn([String])
    case matches(CompiledPattern)
    case exists
    case ordered(Order, String)
}

indirect enum Node: Hashable, Sendable {
    case and(Node, Node)
    case or(Node, Node)
    case not(Node)
    case term(Subject, Comparison)

    var dependsOnPlacedTasks: Bool {
        switch self {
        case .and(let lhs, let rhs), .or(let lhs, let rhs): lhs.dependsOnPlacedTasks || rhs.dependsOnPlacedTasks
        case .not(let inner): inner.dependsOnPlacedTasks
        case .term(let subject, _): subject == .taskGroup || subject == .runningTasksCount
        }
    }

    func evaluate<Groups: Collection<String>>(_ facts: InstanceFacts<Groups>) -> Bool {
        switch self {
        case .and(let lhs, let rhs): lhs.evaluate(facts) && rhs.evaluate(facts)
        case .or(let lhs, let rhs): lhs.evaluate(facts) || rhs.evaluate(facts)
        case .not(let inner): !inner.evaluate(facts)
        case .term(let subject, let comparison): facts.evaluate(subject, comparison)
        }
    }
}

/// The facts about one instance a term can look at.
struct InstanceFacts<Groups: Collection<String>> {
    let instance: InstanceSnapshot
    let groups: Groups

    func evaluate(_ subject: Subject, _ comparison: Comparison) -> Bool {
        switch subject {
        case .taskGroup:
            switch comparison {
            case .exists: return !groups.isEmpty
            default: return groups.contains { Self.compare($0, comparison, numeric: false) }
            }
        case .attribute(let name):
            guard let present = instance.attributes[name] else { return false }
            if case .exists = comparison { return true }
            guard let value = present else { return false }
            return Self.compare(value, comparison, numeric: true)
        case .ec2InstanceId:
            return Self.compare(instance.ec2InstanceId, comparison, numeric: false)
        case .agentConnected:
            return Self.compare(instance.agentConnected ? "true" : "false", comparison, numeric: false)
        case .runningTasksCount:
            return Self.compare(String(instance.runningTasksCount), comparison, numeric: true)
        case .agentVersion:
            guard let version = instance.agentVersion else { return false }
            switch comparison {
            case .equals(let expected): return compareVersions(version, expected) == 0
            case .ordered(let order, let expected): return order.holds(compareVersions(version, expected))
            default: return false
            }
        case .registeredAt:
            guard let registeredAt = instance.registeredAt?.timeIntervalSince1970 else { return false }
            switch comparison {
            case .equals(let expected):
                // A date-only argument matches the whole day, a timestamp the exact second.
                guard let (start, length) = parseQueryDate(expected) else { return false }
                return registeredAt >= start && registeredAt < start + length
            case .ordered(let order, let expected):
                guard let (start, _) = parseQueryDate(expected) else { return false }
                return order.holds(registeredAt < start ? -1 : (registeredAt > start ? 1 : 0))
            default: return false
            }
        }
    }

    static func compare(_ value: String, _ comparison: Comparison, numeric: Bool) -> Bool {
        switch comparison {
        case .equals(let expected): value == expected
        case .isIn(let list): list.contains(value)
        case .matches(let pattern): pattern.matches(value)
        case .exists: true
        case .ordered(let order, let expected):
            if numeric, let lhs = Double(value), let rhs = Double(expected) {
                order.holds(lhs < rhs ? -1 : (lhs > rhs ? 1 : 0))
            } else {
                order.holds(value < expected ? -1 : (value > expected ? 1 : 0))
            }
        }
    }
}

/// Compares dotted versions numerically component by component (`1.10.0` > `1.9.3`).
func compareVersions(_ lhs: String, _ rhs: String) -> Int {
    let left = lhs.split(separator: ".").map { Int($0.filter(\.isNumber)) ?? 0 }
    let right = rhs.split(separator: ".").map { Int($0.filter(\.isNumber)) ?? 0 }
    for index in 0..<max(left.count, right.count) {
        let a = index < left.count ? left[index] : 0
        let b = index < right.count ? right[index] : 0
        if a != b { return a < b ? -1 : 1 }
    }
    return 0
}

/// Parses the date forms ECS accepts for `registeredAt`: `2018-06-18`, `2018-06-18T22:28:28`, with `Z` or `+hh:mm`.
/// Returns epoch seconds of the start and the span the argument covers (a day, or one second).
func parseQueryDate(_ text: String) -> (start: Double, length: Double)? {
    let scalars = Array(text.utf8)
    func number(_ from: Int, _ count: Int) -> Int? {
        guard from + count <= scalars.count else { return nil }
        var value = 0
        for byte in scalars[from..<from + count] {
            guard byte >= 48, byte <= 57 else { return nil }
            value = value * 10 + Int(byte - 48)
        }
        return value
    }
    guard let year = number(0, 4), scalars.count >= 10, scalars[4] == 45, let month = number(5, 2), scalars[7] == 45,
        let day = number(8, 2), (1...12).contains(month), (1...31).contains(day)
    else { return nil }
    // Days from civil (Howard Hinnant's algorithm).
    let y = month <= 2 ? year - 1 : year
    let era = (y >= 0 ? y : y - 399) / 400
    let yoe = y - era * 400
    let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    let days = era * 146_097 + doe - 719_468
    if scalars.count == 10 { return (Double(days) * 86_400, 86_400) }
    guard scalars.count >= 19, scalars[10] == 84, let hour = number(11, 2), scalars[13] == 58,
        let minute = number(14, 2),
        scalars[16] == 58, let second = number(17, 2), hour < 24, minute < 60, second < 61
    else { return nil }
    var seconds = days * 86_400 + hour * 3_600 + minute * 60 + second
    let rest = scalars[19...]
    if rest.isEmpty || Array(rest) == [90] {
        // No zone, or Z: UTC.
    } else if rest.count == 6, rest.first == 43 || rest.first == 45, let hours = number(20, 2), scalars[22] == 58,
        let minutes = number(23, 2)
    {
        let offset = hours * 3_600 + minutes * 60
        seconds += rest.first == 43 ? -offset : offset
    } else {
        return nil
    }
    return (Double(seconds), 1)
}
