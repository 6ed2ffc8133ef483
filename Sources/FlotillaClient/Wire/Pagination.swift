public import TaskDefinitions

/// Follows `nextToken` through a `List*` operation the way the awscli does: every page by default, or at most
/// `maxItems` items, resuming from `startingToken`.
///
/// A pure state machine: `nextRequest(_:)` says what to send, `receive(_:)` takes the answer. Page sizes are cut
/// to what is still wanted, so when `maxItems` stops early the server's `nextToken` is exactly where to resume.
public struct Pagination: Hashable, Sendable {
    /// The member of each answer holding the page's items (`clusterArns`, `taskArns`, ...).
    public let resultKey: String
    /// At most this many items in all; nil for every item.
    public let maxItems: Int?
    /// The `maxResults` of each request; nil lets the server choose (ECS: 100).
    public let pageSize: Int?
    /// The items collected so far.
    public private(set) var items: [JSONValue] = []
    /// The token to send next, or to resume from when the walk stopped at `maxItems`.
    public private(set) var nextToken: String?
    private var isFinished = false

    /// ECS's largest `maxResults` for list operations.
    public static let largestPage = 100

    public init(resultKey: String, maxItems: Int? = nil, pageSize: Int? = nil, startingToken: String? = nil) {
        self.resultKey = resultKey
        self.maxItems = maxItems
        self.pageSize = pageSize
        self.nextToken = startingToken
    }

    /// The body of the next request (`base` plus `nextToken` and `maxResults`), or nil when done.
    public func nextRequest(_ base: [String: JSONValue]) -> [String: JSONValue]? {
        if isFinished { return nil }
        var body = base
        if let nextToken { body["nextToken"] = .string(nextToken) }
        var limit = pageSize
        if let maxItems {
            let wanted = maxItems - items.count
            if wanted <= 0 { return nil }
            limit = min(limit ?? Self.largestPage, wanted, Self.largestPage)
        }
        if let limit { body["maxResults"] = .number(Double(limit)) }
        return body
    }

    /// Takes one answer: appends its items and its `nextToken`.
    public mutating func receive(_ page: JSONValue) {
        items += page[resultKey]?.arrayValue ?? []
        nextToken = page["nextToken"]?.stringValue
        if nextToken == nil || (maxItems.map { items.count >= $0 } ?? false) { isFinished = true }
    }

    /// The collected answer as the awscli prints it: `{resultKey: [...]}`, plus `NextToken` when `maxItems`
    /// stopped the walk before the last page.
    public var result: JSONValue {
        var members: [String: JSONValue] = [resultKey: .array(items)]
        if let nextToken { members["NextToken"] = .string(nextToken) }
        return .object(members)
    }
}
