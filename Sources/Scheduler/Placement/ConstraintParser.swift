/// Tokenizer and recursive-descent parser for ECS's cluster query language.
///
/// ```text
/// expression := conjunction (("or" | "||") conjunction)*
/// conjunction := unary (("and" | "&&") unary)*
/// unary      := ("not" | "!") unary | "(" expression ")" | term
/// term       := subject operator argument | subject ("exists" | "!exists" | "not_exists")
/// operator   := "==" | "!=" | ">" | ">=" | "<" | "<=" | "=~" | "!~" | "in" | "not_in" | "!in" | "not in"
/// argument   := value | "[" value ("," value)* "]" | "(" value ("," value)* ")"
/// subject    := attribute:<name> | ec2InstanceId | instanceId | agentConnected | agentVersion
///             | registeredAt | runningTasksCount | task:group
/// ```
/// Values are bare words or quoted ("..." or '...'). After `=~`/`!~` the pattern runs to the next blank (brackets
/// balanced), so `attribute:ecs.instance-type =~ t2.(micro|small)` needs no quotes.
struct ConstraintParser {
    private enum Token: Equatable {
        case word(String)
        case quoted(String)
        case symbol(String)  // == != =~ !~ > >= < <= ( ) [ ] , ! && ||
        case end
    }

    private let source: String
    private let characters: [Character]
    private var position = 0
    private var current: Token = .end
    private var currentOffset = 0
    /// How many `(` and `not` the parser is inside: each is one level of recursion, so it is bounded.
    private var depth = 0

    init(source: String) {
        self.source = source
        self.characters = Array(source)
    }

    mutating func parseExpression() throws(ConstraintExpressionError) -> Node {
        try advance()
        guard current != .end else { throw error("the expression is empty", at: 0) }
        let node = try parseDisjunction()
        guard current == .end else { throw error("unexpected \(describe(current))") }
        return node
    }

    // MARK: - Grammar

    private mutating func parseDisjunction() throws(ConstraintExpressionError) -> Node {
        var node = try parseConjunction()
        while isKeyword("or") || current == .symbol("||") {
            try advance()
            node = .or(node, try parseConjunction())
        }
        return node
    }

    private mutating func parseConjunction() throws(ConstraintExpressionError) -> Node {
        var node = try parseUnary()
        while isKeyword("and") || current == .symbol("&&") {
            try advance()
            node = .and(node, try parseUnary())
        }
        return node
    }

    private mutating func parseUnary() throws(ConstraintExpressionError) -> Node {
        let isNot = isKeyword("not") || current == .symbol("!")
        guard isNot || current == .symbol("(") else { return try parseTerm() }
        guard depth < ConstraintExpression.maxDepth else {
            throw error(
                "the expression nests parentheses and 'not' deeper than \(ConstraintExpression.maxDepth) levels")
        }
        depth += 1
        defer { depth -= 1 }
        if isNot {
            try advance()
            return .not(try parseUnary())
        }
        do {
            let open = currentOffset
            try advance()
            let node = try parseDisjunction()
            guard current == .symbol(")") else {
                throw error("expected ')' to close the '(' at offset \(open), found \(describe(current))")
            }
            try advance()
            return node
        }
    }

    private mutating func parseTerm() throws(ConstraintExpressionError) -> Node {
        guard case .word(let name) = current else {
            throw error("expected a subject such as attribute:<name>, found \(describe(current))")
        }
        let subjectOffset = currentOffset
        let subject = try subject(named: name)
        try advance()
        let operatorOffset = currentOffset
        let (comparison, negated, spelled): (Comparison, Bool, String)
        switch current {
        case .symbol(let symbol) where ["==", "!=", ">", ">=", "<", "<="].contains(symbol):
            try advance()
            let value = try parseValue(after: symbol)
            switch symbol {
            case "==": (comparison, negated) = (.equals(value), false)
            case "!=": (comparison, negated) = (.equals(value), true)
            default: (comparison, negated) = (.ordered(Order(rawValue: symbol)!, value), false)
            }
            spelled = symbol
            if subject == .registeredAt, parseQueryDate(value) == nil {
                throw error(
                    "'\(value)' is not a date (use 2018-06-18, 2018-06-18T22:28:28Z or 2018-06-18T22:28:28+00:00)",
                    at: operatorOffset)
            }
        case .symbol(let symbol) where symbol == "=~" || symbol == "!~":
            try advance(rawValue: true)
            let pattern = try parseValue(after: symbol)
            let regex: Regex<AnyRegexOutput>
            do { regex = try Regex(pattern) } catch {
                throw self.error("'\(pattern)' is not a valid regular expression", at: operatorOffset)
            }
            (comparison, negated, spelled) = (
                .matches(CompiledPattern(pattern: pattern, regex: regex)), symbol == "!~", symbol
            )
        case .word("exists"):
            try advance()
            (comparison, negated, spelled) = (.exists, false, "exists")
        case .word("!exists"), .word("not_exists"):
            try advance()
            (comparison, negated, spelled) = (.exists, true, "!exists")
        case .word("in"), .word("not_in"), .word("!in"):
            let negative = current != .word("in")
            try advance()
            (comparison, negated, spelled) = (.isIn(try parseList()), negative, negative ? "not_in" : "in")
        case .word("not"):
            try advance()
            guard isKeyword("in") else {
                throw error("expected 'in' or 'exists' after 'not', found \(describe(current))")
            }
            try advance()
            (comparison, negated, spelled) = (.isIn(try parseList()), true, "not_in")
        default:
            throw error(
                "expected an operator (==, !=, >, >=, <, <=, =~, !~, in, not_in, exists, !exists) after '\(name)', found \(describe(current))"
            )
        }
        guard subject.allows(comparison) else {
            throw error("operator '\(spelled)' is not valid for \(name)", at: subjectOffset)
        }
        if subject == .agentConnected, case .equals(let value) = comparison, value != "true", value != "false" {
            throw error("agentConnected compares with true or false, got '\(value)'", at: operatorOffset)
        }
        let term = Node.term(subject, comparison)
        return negated ? .not(term) : term
    }

    private func subject(named name: String) throws(ConstraintExpressionError) -> Subject {
        switch name {
        case "ec2InstanceId", "instanceId": return .ec2InstanceId
        case "agentConnected": return .agentConnected
        case "agentVersion": return .agentVersion
        case "registeredAt": return .registeredAt
        case "runningTasksCount": return .runningTasksCount
        case "task:group": return .taskGroup
        default:
            if name.hasPrefix("attribute:") {
                let attribute = String(name.dropFirst("attribute:".count))
                guard !attribute.isEmpty else {
                    throw error("attribute: needs a name, as in attribute:ecs.instance-type")
                }
                return .attribute(attribute)
            }
            throw error(
                "unknown subject '\(name)' (expected attribute:<name>, ec2InstanceId, agentConnected, agentVersion, registeredAt, runningTasksCount or task:group)"
            )
        }
    }

    private mutating func parseValue(after symbol: String) throws(ConstraintExpressionError) -> String {
        switch current {
        case .word(let value), .quoted(let value):
            try advance()
            return value
        default:
            throw error("expected a value after '\(symbol)', found \(describe(current))")
        }
    }

    private mutating func parseList() throws(ConstraintExpressionError) -> [String] {
        let close: String
        switch current {
        case .symbol("["): close = "]"
        case .symbol("("): close = ")"
        default: throw error("expected a list such as [a, b] after 'in', found \(describe(current))")
        }
        try advance()
        var values: [String] = []
        while true {
            switch current {
            case .word(let value), .quoted(let value): values.append(value)
            default: throw error("expected a value in the list, found \(describe(current))")
            }
            try advance()
            if current == .symbol(",") {
                try advance()
                continue
            }
            guard current == .symbol(close) else {
                throw error("expected ',' or '\(close)' in the list, found \(describe(current))")
            }
            try advance()
            return values
        }
    }

    private func isKeyword(_ keyword: String) -> Bool {
        if case .word(let word) = current { return word.lowercased() == keyword }
        return false
    }

    // MARK: - Tokens

    private static let delimiters: Set<Character> = [
        "(", ")", "[", "]", ",", "\"", "'", "=", "!", "<", ">", "~", "&", "|",
    ]

    /// Reads the next token into `current`. With `rawValue`, reads one regex pattern instead.
    private mutating func advance(rawValue: Bool = false) throws(ConstraintExpressionError) {
        while position < characters.count, characters[position].isWhitespace { position += 1 }
        currentOffset = position
        guard position < characters.count else {
            current = .end
            return
        }
        let character = characters[position]
        if character == "\"" || character == "'" {
            var value = ""
            position += 1
            while position < characters.count, characters[position] != character {
                if characters[position] == "\\", position + 1 < characters.count { position += 1 }
                value.append(characters[position])
                position += 1
            }
            guard position < characters.count else { throw error("unterminated quoted value", at: currentOffset) }
            position += 1
            current = .quoted(value)
            return
        }
        if rawValue {
            var depth = 0
            var value = ""
            while position < characters.count, !characters[position].isWhitespace {
                let next = characters[position]
                if next == "(" || next == "[" { depth += 1 }
                if next == ")" || next == "]" {
                    if depth == 0 { break }
                    depth -= 1
                }
                value.append(next)
                position += 1
            }
            current = value.isEmpty ? .end : .word(value)
            return
        }
        let next: Character? = position + 1 < characters.count ? characters[position + 1] : nil
        switch character {
        case "(", ")", "[", "]", ",":
            position += 1
            current = .symbol(String(character))
        case "=":
            guard next == "=" || next == "~" else { throw error("'=' is not an operator (use == or =~)", at: position) }
            position += 2
            current = .symbol("=" + String(next!))
        case "!":
            if next == "=" || next == "~" {
                position += 2
                current = .symbol("!" + String(next!))
            } else if let word = peekWord(from: position + 1), word == "in" || word == "exists" {
                position += 1 + word.count
                current = .word("!" + word)
            } else {
                position += 1
                current = .symbol("!")
            }
        case "<", ">":
            if next == "=" {
                position += 2
                current = .symbol(String(character) + "=")
            } else {
                position += 1
                current = .symbol(String(character))
            }
        case "&", "|":
            guard next == character else {
                throw error("'\(character)' is not an operator (use \(character)\(character))", at: position)
            }
            position += 2
            current = .symbol(String([character, character]))
        case "~":
            throw error("'~' is not an operator (use =~ or !~)", at: position)
        default:
            let word = peekWord(from: position) ?? ""
            position += word.count
            current = .word(word)
        }
    }

    private func peekWord(from start: Int) -> String? {
        var end = start
        while end < characters.count, !characters[end].isWhitespace, !Self.delimiters.contains(characters[end]) {
            end += 1
        }
        return end > start ? String(characters[start..<end]) : nil
    }

    private func describe(_ token: Token) -> String {
        switch token {
        case .word(let word): "'\(word)'"
        case .quoted(let value): "\"\(value)\""
        case .symbol(let symbol): "'\(symbol)'"
        case .end: "the end of the expression"
        }
    }

    private func error(_ problem: String, at offset: Int? = nil) -> ConstraintExpressionError {
        ConstraintExpressionError(expression: source, offset: offset ?? currentOffset, problem: problem)
    }
}
