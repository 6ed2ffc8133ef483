import ArgumentParser
import FlotillaTestKit
import Foundation
import TaskDefinitions

#if canImport(Glibc)
import Glibc
#endif

/// `flotilla-bench e2e`: the whole stack on real processes. A control plane on a test bridge and one `ecs-agent` in its
/// own network namespace (the e2e harness of FlotillaTestKit), with the busybox image imported.
///
/// - dispatch latency: RunTask answered (the task's `createdAt`) → the container's process started (the runtime's
///   `startedAt` in the agent's state file), one task at a time;
/// - recovery time: a web replica's process killed → a replacement RUNNING and HEALTHY (polled every 50 ms);
/// - agent RSS (VmRSS) idle, and with 50 tasks running.
/// No reference tool is named for this area, so there is no ratio; the figures stand alone.
struct E2EBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "e2e",
        abstract: "End to end: dispatch latency, recovery time and agent memory on real processes (no reference tool).")

    @Option(help: "Trials of dispatch and of recovery.")
    var trials = 20

    @Option(help: "Tasks for the loaded agent-memory figure.")
    var tasks = 50

    func validate() throws {
        guard getuid() == 0 else { throw ValidationError("e2e needs root (network namespaces, cgroups)") }
        guard (1...200).contains(trials) else { throw ValidationError("--trials must be 1...200, got \(trials)") }
        guard (1...200).contains(tasks) else { throw ValidationError("--tasks must be 1...200, got \(tasks)") }
    }

    func run() async throws {
        // The executables next to this one (the same build configuration).
        let binaries = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent().path
        let cluster = try await E2ECluster(hosts: 1, binaryDirectory: binaries)
        do {
            let results = try await measure(cluster)
            cluster.tearDown()
            Self.report(results)
        } catch {
            print(cluster.logTails())
            cluster.tearDown()
            throw error
        }
    }

    struct Results {
        var dispatchMillis: [Double] = []
        var recoveryMillis: [Double] = []
        var idleKiB = 0
        var loadedKiB = 0
        var tasks = 0
    }

    func measure(_ cluster: E2ECluster) async throws -> Results {
        var results = Results()
        results.tasks = tasks
        let agent = cluster.agents[0]
        try await waitUntil("the agent registered", within: .seconds(60)) {
            try await cluster.containerInstances().first?["agentConnected"]?.boolValue == true
        }
        // A small task: busybox sleeping, no ports (ECS's default bridge network).
        try await cluster.ecs(
            "RegisterTaskDefinition",
            [
                "family": "bench-sleep",
                "containerDefinitions": [
                    [
                        "name": "sleep", "image": "flotilla/busybox:1", "cpu": 8, "memory": 16,
                        "essential": true, "command": ["sleep", "3600"], "stopTimeout": 1,
                    ]
                ],
            ])
        try await Task.sleep(for: .seconds(2))  // settle before sampling: the agent finished registering
        results.idleKiB = agent.residentKiB() ?? 0
        print("agent idle: \(results.idleKiB) KiB")

        // Dispatch latency, one task at a time.
        for trial in 1...trials {
            let answer = try await cluster.ecs("RunTask", ["taskDefinition": "bench-sleep", "count": 1])
            guard let task = answer["tasks"]?[0], let createdAt = task["createdAt"]?.doubleValue else {
                throw ValidationError("RunTask placed nothing: \(answer)")
            }
            var started: Double?
            try await waitUntil(
                "the container of \(task.taskArn) started", within: .seconds(60), every: .milliseconds(5)
            ) {
                started = agent.containers().first { $0.belongs(toTask: task.taskArn) }?.startedAt
                return started != nil
            }
            results.dispatchMillis.append((started! - createdAt) * 1000)
            print(String(format: "dispatch %2d: %.1f ms", trial, results.dispatchMillis.last!))
            try await cluster.ecs("StopTask", ["task": task.taskArn])
            try await waitUntil("the container of \(task.taskArn) stopped", within: .seconds(60)) {
                !agent.runningContainers().contains { $0.belongs(toTask: task.taskArn) }
            }
        }

        // Recovery time: service web of one replica, its process killed each trial.
        try await cluster.registerExample("web.json")
        try await cluster.ecs("CreateService", ["serviceName": "web", "taskDefinition": "web", "desiredCount": 1])
        for trial in 1...trials {
            var current: JSONValue?
            try await waitUntil("web is healthy", within: .seconds(120)) {
                let healthy = try await cluster.tasks(service: "web").filter {
                    $0.lastStatus == "RUNNING" && $0.healthStatus == "HEALTHY"
                }
                current = healthy.count == 1 ? healthy[0] : nil
                return current != nil
            }
            guard let victim = cluster.container(of: current!)?.container, let pid = victim.commandPID else {
                throw ValidationError("no running container for \(current!.taskArn)")
            }
            let killedAt = ContinuousClock.now
            kill(pid, SIGKILL)
            try await waitUntil(
                "a replacement of \(current!.taskArn) is healthy", within: .seconds(120), every: .milliseconds(50)
            ) {
                try await cluster.tasks(service: "web").contains {
                    $0.taskArn != current!.taskArn && $0.lastStatus == "RUNNING" && $0.healthStatus == "HEALTHY"
                }
            }
            let elapsed = ContinuousClock.now - killedAt
            results.recoveryMillis.append(
                Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15)
            print(String(format: "recovery %2d: %.0f ms", trial, results.recoveryMillis.last!))
        }
        try await cluster.ecs("UpdateService", ["service": "web", "desiredCount": 0])

        // Agent memory with `tasks` tasks running.
        var placed = 0
        while placed < tasks {
            let count = min(10, tasks - placed)
            let answer = try await cluster.ecs("RunTask", ["taskDefinition": "bench-sleep", "count": count])
            placed += answer["tasks"]?.arrayValue?.count ?? 0
            if answer["tasks"]?.arrayValue?.isEmpty ?? true {
                throw ValidationError("RunTask placed nothing: \(answer)")
            }
        }
        try await waitUntil("\(tasks) tasks run", within: .seconds(300)) {
            try await cluster.tasks().filter { $0.lastStatus == "RUNNING" && $0["group"]?.stringValue != "service:web" }
                .count >= tasks
        }
        try await Task.sleep(for: .seconds(2))  // settle: the agent reported every task
        results.loadedKiB = agent.residentKiB() ?? 0
        print("agent with \(tasks) tasks: \(results.loadedKiB) KiB")
        return results
    }

    /// Polls `condition` until true, at most `timeout`; throws naming `what` otherwise.
    func waitUntil(
        _ what: String, within timeout: Duration, every interval: Duration = .milliseconds(100),
        _ condition: () async throws -> Bool
    ) async throws {
        let met = try await eventually(within: timeout, every: interval) { try await condition() ? true : nil }
        guard met == true else { throw ValidationError("timed out waiting until \(what)") }
    }

    // MARK: - Report

    static func report(_ results: Results) {
        let rows: [(String, [Double])] = [
            ("dispatch latency ms", results.dispatchMillis), ("recovery time ms", results.recoveryMillis),
        ]
        print("")
        print(
            "E2E benchmark: 1 control plane + 1 agent in a network namespace, \(results.dispatchMillis.count) trials each"
        )
        print("(no reference tool is named for this benchmark: absolute figures, no ratio)")
        print(Cell.left("metric", 24) + Cell.left("p50", 10) + Cell.left("p99", 10) + Cell.left("min", 10) + "max")
        for (name, samples) in rows {
            print(
                Cell.left(name, 24) + Cell.left(String(format: "%.1f", Statistics.percentile(samples, 0.5)), 10)
                    + Cell.left(String(format: "%.1f", Statistics.percentile(samples, 0.99)), 10)
                    + Cell.left(String(format: "%.1f", samples.min() ?? .nan), 10)
                    + String(format: "%.1f", samples.max() ?? .nan))
        }
        print(Cell.left("agent RSS idle MiB", 24) + String(format: "%.1f", Double(results.idleKiB) / 1024))
        print(
            Cell.left("agent RSS \(results.tasks) tasks MiB", 24)
                + String(format: "%.1f", Double(results.loadedKiB) / 1024))
        let json = String(
            format: "{\"benchmark\":\"e2e\",\"reference\":null,\"trials\":%d,"
                + "\"dispatch_ms\":{\"p50\":%.2f,\"p99\":%.2f},\"recovery_ms\":{\"p50\":%.1f,\"p99\":%.1f},"
                + "\"agent_rss_kib\":{\"idle\":%d,\"tasks\":%d,\"with_tasks\":%d}}",
            results.dispatchMillis.count,
            Statistics.percentile(results.dispatchMillis, 0.5), Statistics.percentile(results.dispatchMillis, 0.99),
            Statistics.percentile(results.recoveryMillis, 0.5), Statistics.percentile(results.recoveryMillis, 0.99),
            results.idleKiB, results.tasks, results.loadedKiB)
        print(json)
    }
}

extension JSONValue {
    /// A JSON number as Double (ECS timestamps are epoch seconds with a fraction).
    fileprivate var doubleValue: Double? {
        if case .number(let value) = self { return value }
        return nil
    }
}
