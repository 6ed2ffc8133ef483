import Foundation
import Testing
import TaskDefinitions
@testable import NodeAgent
#if canImport(Glibc)
import Glibc
#endif

/// A task's secrets on the agent: they join the container's environment, overriding a same-named entry, and are
/// never written to the runtime's state.
@Suite("Task secrets in the container environment")
struct TaskSecretEnvironmentTests {
    @Test("A secret replaces the environment entry of the same name; others are kept, secrets last")
    func merge() {
        let merged = ContainerRuntime.environment(
            ["PATH=/bin", "TOKEN=plain", "A=1"], overriddenBy: ["TOKEN=secret", "DB=pw"])
        #expect(merged == ["PATH=/bin", "A=1", "TOKEN=secret", "DB=pw"])
        #expect(ContainerRuntime.environment(["A=1"], overriddenBy: []) == ["A=1"])
    }

    @Test("The state machine's container specs carry their own container's secrets, sorted as KEY=value")
    func specs() throws {
        let definition = try TaskDefinition.decode(
            Data(
                """
                {"family": "f", "containerDefinitions": [
                  {"name": "a", "image": "i", "memory": 64, "secrets": [{"name": "X", "valueFrom": "/x"}]},
                  {"name": "b", "image": "i", "memory": 64}]}
                """.utf8))
        // When a task's machine is made with its secrets
        let machine = TaskStateMachine(
            taskID: "t", definition: definition, secrets: ["a": ["X": "value-x", "W": "value-w"]])
        // Then each container's spec (what its create gets) carries its own
        #expect(machine.spec(of: "a")?.secretEnvironment == ["W=value-w", "X=value-x"])
        #expect(machine.spec(of: "b")?.secretEnvironment == [])
    }
}

@Suite(
    "Namespace runtime: secret environment", .enabled(if: getuid() == 0), .serialized, .timeLimit(.minutes(10)))
struct RuntimeSecretEnvironmentTests {
    @Test func theCommandAndExecSeeTheSecretsAndStateJSONHoldsNone() async throws {
        try await RuntimeFixture.with { fixture in
            // Given a container whose environment says TOKEN=plain, with a secret TOKEN
            let spec = fixture.spec(["sh", "-c", "echo TOKEN=$TOKEN; echo ready; while true; do sleep 1; done"]) {
                $0.environment = ["TOKEN=plain-value"]
            }
            let info = try await fixture.runtime.create(spec, secretEnvironment: ["TOKEN=runtime-secret-31f"])
            // When it starts
            try await fixture.runtime.start(info.id)
            // Then the command sees the secret, and so does exec
            #expect(try await RuntimeFixture.waitForLog(info.stdoutLogPath, containing: "ready"))
            let output = try String(contentsOfFile: info.stdoutLogPath, encoding: .utf8)
            #expect(output.contains("TOKEN=runtime-secret-31f\n"))
            let exec = try await fixture.runtime.exec(info.id, arguments: ["sh", "-c", "echo $TOKEN"])
            #expect(String(decoding: exec.standardOutput, as: UTF8.self) == "runtime-secret-31f\n")
            // And the persisted state has the plain environment only
            let state = try String(contentsOfFile: info.directory + "/state.json", encoding: .utf8)
            #expect(state.contains("plain-value"))
            #expect(!state.contains("runtime-secret-31f"))
            _ = try await fixture.runtime.stop(info.id, timeout: .seconds(5))
            try await fixture.runtime.delete(info.id)
        }
    }
}
