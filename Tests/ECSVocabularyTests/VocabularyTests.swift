import ECSVocabulary
import Foundation
import Testing

@Suite struct VocabularyTests {
    @Test func taskStatusesFollowECSLifecycle() {
        // Given ECS's task lifecycle
        let lifecycle = ["PROVISIONING", "PENDING", "ACTIVATING", "RUNNING", "DEACTIVATING", "STOPPING",
                         "DEPROVISIONING", "STOPPED", "DELETED"]
        // Then allCases is that order, `<` follows it, and agents report every status but DELETED
        #expect(TaskStatus.allCases.map(\.rawValue) == lifecycle)
        #expect(zip(TaskStatus.allCases, TaskStatus.allCases.dropFirst()).allSatisfy { $0 < $1 })
        #expect(TaskStatus.throughStopped == Array(TaskStatus.allCases.dropLast()))
        #expect(TaskContainerStatus.pending < .running && TaskContainerStatus.running < .stopped)
    }

    @Test func wireValueKeepsUnknownWordsAndEncodesAsTheWord() throws {
        // Given a word this version knows and one it does not
        let known = try JSONDecoder().decode([WireValue<TaskStatus>].self, from: Data(#"["RUNNING","HIBERNATING"]"#.utf8))
        // Then both decode, only the first is a known word, and both encode back as they came
        #expect(known[0] == TaskStatus.running && known[0].word == .running)
        #expect(known[1].word == nil && known[1].rawValue == "HIBERNATING")
        #expect(String(decoding: try JSONEncoder().encode(known), as: UTF8.self) == #"["RUNNING","HIBERNATING"]"#)
        let missing: WireValue<TaskStatus>? = nil
        #expect(missing != TaskStatus.running)
    }

    /// Every status word is spelled once, here: a literal `"RUNNING"` or SQL `'RUNNING'` anywhere else in Sources/
    /// is a second definition. A line that uses one of the words for something else (a table header, another ECS
    /// vocabulary) says so with `// not an ECS status: <reason>`.
    @Test func noRawStatusLiteralsOutsideTheVocabulary() throws {
        // Given every word of the vocabulary
        let words = Set(Self.allWords)
        let sources = URL(filePath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appending(path: "Sources")
        let literal = try Regex(#"["']([A-Za-z_]+)["']"#)
        var found: [String] = []
        // When every Swift file of Sources/ but the vocabulary's own is read line by line
        let files = FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil)!
        for case let file as URL in files where file.pathExtension == "swift" {
            let relative = String(file.path.dropFirst(sources.path.count + 1))
            if relative.hasPrefix("ECSVocabulary/") { continue }
            let lines = try String(contentsOf: file, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
            for (number, line) in lines.enumerated() {
                if line.drop(while: \.isWhitespace).hasPrefix("//") { continue }  // documentation, not code
                if let marker = line.range(of: "// not an ECS status: ") {
                    #expect(line[marker.upperBound...].count >= 10, "\(relative):\(number + 1): the marker needs a reason")
                    continue
                }
                for match in line.matches(of: literal) where words.contains(String(match.output[1].substring ?? "")) {
                    found.append("Sources/\(relative):\(number + 1): \(match.output[0].substring ?? "")")
                }
            }
        }
        // Then none is found
        #expect(found.isEmpty, "raw ECS status literals outside Sources/ECSVocabulary:\n\(found.sorted().joined(separator: "\n"))")
    }

    static var allWords: [String] {
        TaskStatus.allCases.map(\.rawValue) + TaskContainerStatus.allCases.map(\.rawValue)
            + HealthStatus.allCases.map(\.rawValue) + StopCode.allCases.map(\.rawValue)
            + ClusterStatus.allCases.map(\.rawValue) + ContainerInstanceStatus.allCases.map(\.rawValue)
            + ServiceStatus.allCases.map(\.rawValue) + DeploymentStatus.allCases.map(\.rawValue)
            + RolloutState.allCases.map(\.rawValue) + TaskDefinitionStatus.allCases.map(\.rawValue)
            + LoadBalancerStatus.allCases.map(\.rawValue) + TargetHealthState.allCases.map(\.rawValue)
    }
}
