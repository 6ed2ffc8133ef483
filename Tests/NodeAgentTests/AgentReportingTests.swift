import Foundation
@testable import NodeAgent
import TaskDefinitions
import Testing

/// The agent's pure pieces: what it reports for a state, the ECS timestamps, its configuration parsing, its host facts.
@Suite(.timeLimit(.minutes(10)))
struct AgentReportingTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func aReportBecomesAnECSStateChangeWithBindingsExitCodeAndHealth() throws {
        // Given a stopped task whose container had a binding and exited 137
        let binding = NetworkBinding(bindIP: "0.0.0.0", containerPort: 80, hostPort: 32801, protocol: "tcp")
        let report = TaskStateReport(
            taskID: "abc", lastStatus: .stopped, desiredStatus: .stopped, healthStatus: .unknown,
            stopCode: .essentialContainerExited, stoppedReason: "Essential container in task exited",
            containers: [
                TaskContainerState(
                    name: "web", containerID: "abc-web", lastStatus: .stopped, exitCode: 137,
                    reason: nil, healthStatus: .unhealthy, networkBindings: [binding])
            ])
        var timestamps = AgentTaskTable.Timestamps()
        timestamps.stamp(.stopped, from: .running, at: Self.now)
        // When it is turned into a state change, as sent on the wire
        let change = AgentTaskTable.change(report, taskArn: "arn:aws:ecs:r:1:task/default/abc", timestamps: timestamps)
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .secondsSince1970
        let wire = try JSONDecoder().decode(JSONValue.self, from: encoder.encode(change))
        // Then it says what ECS says, with the binding as ECS JSON and the stop timestamps
        #expect(wire["lastStatus"] == .string("STOPPED") && wire["stopCode"] == .string("EssentialContainerExited"))
        for key in ["stoppedAt", "executionStoppedAt", "stoppingAt"] {
            #expect(wire[key] == .number(Self.now.timeIntervalSince1970), "\(key)")
        }
        #expect(wire["startedAt"] == nil)
        let container = wire["containers"]?.arrayValue?.first
        #expect(container?["exitCode"] == .number(137) && container?["healthStatus"] == .string("UNHEALTHY"))
        #expect(container?["lastStatus"] == .string("STOPPED"))
        #expect(
            container?["networkBindings"]
                == .array([
                    .object([
                        "bindIP": .string("0.0.0.0"), "containerPort": .number(80), "hostPort": .number(32801),
                        "protocol": .string("tcp"),
                    ])
                ]))
    }

    @Test func timestampsAreStampedOnceWhenTheirStatusIsFirstReached() {
        var timestamps = AgentTaskTable.Timestamps()
        // Given a task going PENDING, then RUNNING, then RUNNING again later
        timestamps.stamp(.pending, from: nil, at: Self.now)
        timestamps.stamp(.running, from: .pending, at: Self.now + 1)
        timestamps.stamp(.running, from: .running, at: Self.now + 5)
        // Then the pull started at PENDING, stopped and the task started at RUNNING, and nothing moved afterwards
        #expect(timestamps.pullStartedAt == Self.now)
        #expect(timestamps.pullStoppedAt == Self.now + 1 && timestamps.startedAt == Self.now + 1)
        #expect(timestamps.stoppingAt == nil && timestamps.stoppedAt == nil)
    }

    @Test(arguments: [("rack=r1", "rack", "r1"), ("a=b=c", "a", "b=c"), ("empty=", "empty", "")])
    func attributesParseAsKeyEqualsValue(text: String, name: String, value: String) throws {
        #expect(try AgentAttributePair(parsing: text) == AgentAttributePair(name: name, value: value))
    }

    @Test(arguments: ["novalue", "=x", ""])
    func malformedAttributesAreRefusedNamingTheFlag(text: String) {
        #expect(throws: AgentConfigurationError.self) { try AgentAttributePair(parsing: text) }
        #expect((try? AgentAttributePair(parsing: text)) == nil)
    }

    @Test func theAddressTowardLoopbackIsLoopback() {
        // The route to the control plane decides the instance's default address
        #expect(AgentHost.localAddress(toward: "127.0.0.1") == "127.0.0.1")
        #expect(AgentHost.localAddress(toward: "localhost") == "127.0.0.1")
        #expect(AgentHost.cpuUnits == 1024 * ProcessInfo.processInfo.activeProcessorCount)
        #expect(AgentHost.memoryMiB > 0)
    }

    @Test func theCannotPullReasonNamesTheImageAndHowToImportIt() {
        #expect(
            "\(ImagePullError(reference: "flotilla/nope:1"))"
                == "pull image manifest has been retried 1 time(s): failed to resolve ref flotilla/nope:1: not found on this host (import it with ecs-agent runtime import)"
        )
    }
}
