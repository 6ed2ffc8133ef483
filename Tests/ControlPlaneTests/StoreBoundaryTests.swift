import Foundation
import Testing

/// The store is the only place that speaks SQL: rules in API/, AgentAPI/, Reconciler/ and LoadBalancing/ call the
/// functions of Store/ (each on GRDB's `Database`, the transaction the caller opened), so a second store
/// implementation replaces Store/ alone.
@Suite struct StoreBoundaryTests {
    @Test func noSQLAndNoStatementsOutsideTheStore() throws {
        // Given every Swift file of the control plane outside Store/
        let root = URL(filePath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appending(path: "Sources/ControlPlane")
        let sql = try Regex(#"\b(SELECT|INSERT INTO|DELETE FROM|PRAGMA|CREATE (TABLE|INDEX|TRIGGER)|ALTER TABLE)\b|\bUPDATE \w+ SET\b"#)
        let grdbStatements = try Regex(#"\.fetch(All|One|Set|Cursor|Count)\(|\bexecute\((sql|literal):"#)
        var found: [String] = []
        let files = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil)!
        for case let file as URL in files where file.pathExtension == "swift" {
            let relative = String(file.path.dropFirst(root.path.count + 1))
            if relative.hasPrefix("Store/") { continue }
            let lines = try String(contentsOf: file, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
            // When each line of code (not comments) is searched for SQL text and GRDB statement calls
            for (number, line) in lines.enumerated() where !line.drop(while: \.isWhitespace).hasPrefix("//") {
                if line.contains(sql) || line.contains(grdbStatements) {
                    found.append("Sources/ControlPlane/\(relative):\(number + 1): \(line.trimmingCharacters(in: .whitespaces))")
                }
            }
        }
        // Then there is none
        #expect(found.isEmpty, "SQL outside Sources/ControlPlane/Store:\n\(found.sorted().joined(separator: "\n"))")
    }
}
