import FlotillaTestKit
import Foundation
import Testing

/// The store is the only place that speaks SQL: rules in API/, AgentAPI/, Reconciler/ and LoadBalancing/ call the
/// functions of Store/ (each on GRDB's `Database`, the transaction the caller opened), so a second store
/// implementation replaces Store/ alone.
@Suite(.timeLimit(.minutes(10))) struct StoreBoundaryTests {
    @Test func noSQLAndNoStatementsOutsideTheStore() throws {
        // Given SQL text and GRDB's statement calls
        let sql = try Regex(
            #"\b(SELECT|INSERT INTO|DELETE FROM|PRAGMA|CREATE (TABLE|INDEX|TRIGGER)|ALTER TABLE)\b|\bUPDATE \w+ SET\b"#)
        let statements = try Regex(#"\.fetch(All|One|Set|Cursor|Count)\(|\bexecute\((sql|literal):"#)
        // When every line of code of the control plane outside Store/ is searched for them
        let found = try SourceTree.codeLines(under: "Sources/ControlPlane", skipping: ["Store"])
            .filter { $0.text.contains(sql) || $0.text.contains(statements) }
            .map { "\($0.location): \($0.text.trimmingCharacters(in: .whitespaces))" }
        // Then there is none
        #expect(found.isEmpty, "SQL outside Sources/ControlPlane/Store:\n\(found.sorted().joined(separator: "\n"))")
    }
}
