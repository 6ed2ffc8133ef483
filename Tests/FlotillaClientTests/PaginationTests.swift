import FlotillaClient
import TaskDefinitions
import Testing

@Suite(.timeLimit(.minutes(10)))
struct PaginationTests {
    /// An answer page of `items` ARNs with an optional next token.
    func page(_ items: [String], next: String?) -> JSONValue {
        var members: [String: JSONValue] = ["taskArns": .array(items.map(JSONValue.string))]
        if let next { members["nextToken"] = .string(next) }
        return .object(members)
    }

    @Test func followsNextTokenToTheLastPage() {
        // Given a listing with no --max-items
        var pagination = Pagination(resultKey: "taskArns")
        let base: [String: JSONValue] = ["cluster": .string("default")]

        // When three pages come back
        #expect(pagination.nextRequest(base) == base)
        pagination.receive(page(["a", "b"], next: "t1"))
        #expect(pagination.nextRequest(base) == ["cluster": .string("default"), "nextToken": .string("t1")])
        pagination.receive(page(["c"], next: "t2"))
        #expect(pagination.nextRequest(base)?["nextToken"] == .string("t2"))
        pagination.receive(page([], next: nil))

        // Then it stops, with every item and no NextToken
        #expect(pagination.nextRequest(base) == nil)
        #expect(pagination.result == .object(["taskArns": .array(["a", "b", "c"].map(JSONValue.string))]))
    }

    @Test func maxItemsCutsPagesAndLeavesAResumeToken() {
        // Given --max-items 3 --page-size 2
        var pagination = Pagination(resultKey: "taskArns", maxItems: 3, pageSize: 2)

        // When pages come back
        #expect(pagination.nextRequest([:])?["maxResults"] == .number(2))
        pagination.receive(page(["a", "b"], next: "t1"))
        // Then the last request asks only for what is still wanted
        #expect(pagination.nextRequest([:]) == ["nextToken": .string("t1"), "maxResults": .number(1)])
        pagination.receive(page(["c"], next: "t2"))

        // And the walk stops there, printing the server's token to resume from
        #expect(pagination.nextRequest([:]) == nil)
        #expect(pagination.result["NextToken"] == .string("t2"))
        #expect(pagination.result["taskArns"]?.arrayValue?.count == 3)
    }

    @Test func startingTokenResumes() {
        let pagination = Pagination(resultKey: "taskArns", startingToken: "t9")
        #expect(pagination.nextRequest([:]) == ["nextToken": .string("t9")])
    }

    @Test func maxItemsAboveTheLargestPageAsksForFullPages() {
        let pagination = Pagination(resultKey: "taskArns", maxItems: 250)
        #expect(pagination.nextRequest([:])?["maxResults"] == .number(100))
    }

    @Test func lastPageWithinMaxItemsHasNoNextToken() {
        var pagination = Pagination(resultKey: "taskArns", maxItems: 10)
        pagination.receive(page(["a"], next: nil))
        #expect(pagination.nextRequest([:]) == nil)
        #expect(pagination.result["NextToken"] == nil)
    }
}
