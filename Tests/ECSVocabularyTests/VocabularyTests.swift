import ECSVocabulary
import FlotillaTestKit
import Foundation
import Testing

@Suite(.timeLimit(.minutes(10))) struct VocabularyTests {
    @Test func taskStatusesFollowECSLifecycle() {
        // Given ECS's task lifecycle
        let lifecycle = [
            "PROVISIONING", "PENDING", "ACTIVATING", "RUNNING", "DEACTIVATING", "STOPPING",
            "DEPROVISIONING", "STOPPED", "DELETED",
        ]
        // Then allCases is that order, `<` follows it, and agents report every status but DELETED
        #expect(TaskStatus.allCases.map(\.rawValue) == lifecycle)
        #expect(zip(TaskStatus.allCases, TaskStatus.allCases.dropFirst()).allSatisfy { $0 < $1 })
        #expect(TaskStatus.throughStopped == Array(TaskStatus.allCases.dropLast()))
        #expect(TaskContainerStatus.pending < .running && TaskContainerStatus.running < .stopped)
    }

    @Test func wireValueKeepsUnknownWordsAndEncodesAsTheWord() throws {
        // Given a word this version knows and one it does not
        let known = try JSONDecoder().decode(
            [WireValue<TaskStatus>].self, from: Data(#"["RUNNING","HIBERNATING"]"#.utf8))
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
        let literal = try Regex(#"["']([A-Za-z_]+)["']"#)
        // When every line of code of Sources/ but the vocabulary's own is searched for them as whole literals
        var found: [String] = []
        for line in try SourceTree.codeLines(under: "Sources", skipping: ["ECSVocabulary"]) {
            if let marker = line.text.range(of: "// not an ECS status: ") {
                #expect(line.text[marker.upperBound...].count >= 10, "\(line.location): the marker needs a reason")
                continue
            }
            for match in line.text.matches(of: literal) where words.contains(String(match.output[1].substring ?? "")) {
                found.append("\(line.location): \(match.output[0].substring ?? "")")
            }
        }
        // Then none is found
        #expect(
            found.isEmpty,
            "raw ECS status literals outside Sources/ECSVocabulary:\n\(found.sorted().joined(separator: "\n"))")
    }

    static var allWords: [String] {
        let vocabularies: [any ECSWord.Type] = [
            TaskStatus.self, TaskContainerStatus.self, HealthStatus.self, StopCode.self, ClusterStatus.self,
            ContainerInstanceStatus.self, ServiceStatus.self, DeploymentStatus.self, RolloutState.self,
            TaskDefinitionStatus.self, LoadBalancerStatus.self, TargetHealthState.self,
        ]
        return vocabularies.flatMap { $0.spellings }
    }
}
