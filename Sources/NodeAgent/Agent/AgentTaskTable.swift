import AgentProtocol
import ECSVocabulary
import Foundation
import Logging
import Metrics
import TaskDefinitions

/// The tasks this agent runs: one `TaskSupervisor` per task, started from the control plane's desired state or
/// re-adopted from the runtime after a restart; every observed change goes to the `StateReporter`, and each task is
/// kept on disk (`TaskRecord`) until its STOPPED state is acknowledged.
actor AgentTaskTable {
    /// A supervisor for the daemon to run (in its task group: library code starts no unstructured tasks).
    struct Launch: Sendable {
        var taskID: String
        var supervisor: TaskSupervisor<ContinuousClock>
    }

    private struct Entry {
        var record: TaskRecord
        var supervisor: TaskSupervisor<ContinuousClock>?
        var lastReport: TaskStateReport?
        var timestamps = Timestamps()
        var stopRequested = false
        /// When the poll answer that brought the task arrived (nil for adopted tasks).
        var dispatchedAt: ContinuousClock.Instant?
    }

    /// The ECS timestamps of a task, each stamped when the agent first sees the task reach its status.
    struct Timestamps: Hashable, Sendable {
        var pullStartedAt: Date?
        var pullStoppedAt: Date?
        var startedAt: Date?
        var stoppingAt: Date?
        var stoppedAt: Date?
    }

    let cluster: String
    /// The cgroup the runtime creates containers' cgroups under (usage metrics read them there).
    private let cgroupParent: String
    private let runtime: ContainerRuntime
    private let driver: RuntimeContainerDriver
    private let files: AgentStateFiles
    private let healthStartInterval: Duration
    private let logger: Logger
    private var reporter: StateReporter?
    private var entries: [String: Entry] = [:]
    nonisolated let launches: AsyncStream<Launch>
    private let launchContinuation: AsyncStream<Launch>.Continuation

    init(
        cluster: String, cgroupParent: String, runtime: ContainerRuntime, images: ImageStore, files: AgentStateFiles,
        healthStartInterval: Duration, logger: Logger
    ) {
        self.healthStartInterval = healthStartInterval
        self.cluster = cluster
        self.cgroupParent = cgroupParent
        self.runtime = runtime
        driver = RuntimeContainerDriver(runtime: runtime, images: images)
        self.files = files
        var logger = logger
        logger[metadataKey: "cluster"] = "\(cluster)"
        self.logger = logger
        (launches, launchContinuation) = AsyncStream.makeStream()
    }

    func attach(_ reporter: StateReporter) {
        self.reporter = reporter
    }

    /// No more launches (the daemon is shutting down).
    nonisolated func finishLaunches() {
        launchContinuation.finish()
    }

    // MARK: - Re-adoption

    /// Maps the runtime's containers back to the recorded tasks: running containers are adopted (never restarted),
    /// those that exited meanwhile are reported with their exit code, a task none of whose containers started is
    /// started afresh, final states never acknowledged are sent again, and containers no record claims are stopped
    /// and removed.
    func adoptRecovered() async {
        await runtime.recover()
        let containers = await runtime.list()
        let byName = Dictionary(containers.map { ($0.spec.name, $0) }, uniquingKeysWith: { first, _ in first })
        var claimed: Set<String> = []
        let (records, unreadable) = files.loadRecords()
        for name in unreadable {
            logger.warning("task record unreadable, dropped", metadata: ["agent.record": "\(name)"])
        }
        for record in records {
            let id = record.taskID
            claimed.formUnion(record.containerIDs.values)
            var taskLogger = logger
            taskLogger[metadataKey: "task"] = "\(id)"
            if let service = record.group.flatMap(Self.service(of:)) {
                taskLogger[metadataKey: "service"] = "\(service)"
            }
            if let final = record.final {
                for name in record.containerIDs.values where byName[name] != nil { await remove(name) }
                entries[id] = Entry(record: record)
                await reporter?.submit(final)
                continue
            }
            let mine = record.containerIDs.values.compactMap { byName[$0] }
            let networkMode = record.definition.resolvedNetworkMode
            if !mine.contains(where: { $0.startedAt != nil }) {
                // Nothing ever started: start the task afresh.
                for info in mine { await remove(info.spec.name) }
                if record.definition.containerDefinitions.contains(where: { !($0.secrets ?? []).isEmpty }) {
                    // Its secrets' values were never written here: the next poll hands the task over again with them.
                    files.removeRecord(taskID: id)
                    taskLogger.info("task left to the next poll after agent restart: its secrets are not kept on disk")
                    continue
                }
                launch(record, adopting: nil, dispatchedAt: nil)
                taskLogger.info("task restarted after agent restart")
                continue
            }
            var found: [String: AdoptedContainer] = [:]
            for container in record.definition.containerDefinitions {
                guard let runtimeName = record.containerIDs[container.name], let info = byName[runtimeName] else {
                    found[container.name] = .missing
                    continue
                }
                let spec = TaskContainerSpec(taskID: id, definition: container, networkMode: networkMode)
                let bindings = RuntimeContainerDriver.bindings(of: info, spec: spec)
                switch info.status {
                case .running:
                    found[container.name] = .running(
                        bindings: bindings, health: record.containerHealth?[container.name] ?? .unknown)
                case .stopped:
                    found[container.name] = .exited(
                        info.exit.map(TaskContainerExit.init) ?? TaskContainerExit(exitCode: 255), bindings: bindings)
                case .created:
                    await remove(runtimeName)
                    found[container.name] = .missing
                }
            }
            launch(record, adopting: found, dispatchedAt: nil)
            taskLogger.info(
                "task re-adopted",
                metadata: [
                    "task.containers.running":
                        "\(found.values.filter { if case .running = $0 { true } else { false } }.count)"
                ])
        }
        for info in containers where !claimed.contains(info.spec.name) {
            await remove(info.id)
            logger.warning(
                "orphan container removed",
                metadata: [
                    "container.id": "\(info.id)", "container.name": "\(info.spec.name)",
                ])
        }
    }

    private func remove(_ runtimeName: String) async {
        do {
            try await runtime.delete(runtimeName, force: true)
        } catch {
            logger.warning(
                "container removal failed", metadata: ["container.name": "\(runtimeName)", "error": "\(error)"])
        }
    }

    // MARK: - Desired state

    /// Brings the table in line with a poll answer: new RUNNING tasks start, tasks desired STOPPED stop gracefully,
    /// tasks the control plane no longer lists for this instance stop.
    func apply(_ answer: PollDesiredTasksResponse, receivedAt: ContinuousClock.Instant) async {
        var listed: Set<String> = []
        let stopEverything = answer.containerInstanceStatus == ContainerInstanceStatus.inactive
        for desired in answer.tasks {
            let id = AgentTaskID.of(desired.taskArn)
            listed.insert(id)
            if entries[id] != nil {
                if desired.desiredStatus == TaskStatus.stopped || stopEverything {
                    requestStop(
                        id, code: Self.stopCode(desired), reason: desired.stoppedReason ?? Self.defaultStopReason)
                }
                continue
            }
            guard desired.desiredStatus == TaskStatus.running, !stopEverything else {
                if desired.lastStatus != TaskStatus.stopped { await reportNeverRan(desired) }
                continue
            }
            // A task reported STOPPED is over, whatever its desiredStatus still says.
            guard desired.lastStatus != TaskStatus.stopped else { continue }
            guard let definition = desired.taskDefinition else {
                logger.error(
                    "desired task has no task definition",
                    metadata: [
                        "task": "\(id)", "task.definition": "\(desired.taskDefinitionArn)",
                    ])
                continue
            }
            let record = TaskRecord(
                taskArn: desired.taskArn, taskDefinitionArn: desired.taskDefinitionArn, definition: definition,
                containerIDs: Dictionary(
                    definition.containerDefinitions.map {
                        (
                            $0.name,
                            TaskContainerSpec(taskID: id, definition: $0, networkMode: definition.resolvedNetworkMode)
                                .containerID
                        )
                    }, uniquingKeysWith: { first, _ in first }),
                group: desired.group, final: nil)
            do {
                try files.save(record)
            } catch {
                logger.error("task record could not be written", metadata: ["task": "\(id)", "error": "\(error)"])
                continue
            }
            // The secrets' values stay in memory (the supervisor's specs, the runtime's table), never in the record.
            launch(record, adopting: nil, dispatchedAt: receivedAt, secrets: desired.secretEnvironment ?? [:])
            logger.info(
                "task dispatched",
                metadata: [
                    "task": "\(id)", "task.definition": "\(desired.taskDefinitionArn)",
                ].merging(desired.group.flatMap(Self.service(of:)).map { ["service": "\($0)"] } ?? [:]) { $1 })
        }
        for id in entries.keys.sorted() where !listed.contains(id) || stopEverything {
            requestStop(
                id, code: .serviceSchedulerInitiated, reason: "Task is no longer assigned to this container instance")
        }
    }

    private func launch(
        _ record: TaskRecord, adopting: [String: AdoptedContainer]?,
        dispatchedAt: ContinuousClock.Instant?, secrets: [String: [String: String]] = [:]
    ) {
        var taskLogger = logger
        if let service = record.group.flatMap(Self.service(of:)) { taskLogger[metadataKey: "service"] = "\(service)" }
        let supervisor = TaskSupervisor(
            taskID: record.taskID, definition: record.definition, driver: driver,
            clock: ContinuousClock(), startDate: Date(), adopting: adopting, secrets: secrets,
            healthStartInterval: healthStartInterval, logger: taskLogger)
        entries[record.taskID] = Entry(record: record, supervisor: supervisor, dispatchedAt: dispatchedAt)
        launchContinuation.yield(Launch(taskID: record.taskID, supervisor: supervisor))
        recordTaskCounts()
    }

    private func requestStop(_ id: String, code: StopCode, reason: String) {
        guard var entry = entries[id], !entry.stopRequested, let supervisor = entry.supervisor else { return }
        entry.stopRequested = true
        entries[id] = entry
        supervisor.desire(.stopped(code, reason: reason))
        logger.info("task stop requested", metadata: ["task": "\(id)", "task.stopCode": "\(code.rawValue)"])
    }

    /// A task the control plane wants stopped that never ran here (or whose record is gone): it is STOPPED.
    private func reportNeverRan(_ desired: DesiredTask) async {
        let now = Date()
        await reporter?.submit(
            TaskStateChange(
                taskArn: desired.taskArn, lastStatus: WireValue(.stopped),
                stopCode: desired.stopCode ?? WireValue(.userInitiated),
                stoppedReason: desired.stoppedReason ?? Self.defaultStopReason, executionStoppedAt: now, stoppedAt: now,
                containers: desired.containers.map {
                    ContainerStateChange(name: $0.name, lastStatus: WireValue(.stopped))
                }))
    }

    static let defaultStopReason = "Task stopped by user"

    static func stopCode(_ desired: DesiredTask) -> StopCode {
        if let code = desired.stopCode?.word { return code }
        return desired.group?.hasPrefix("service:") == true ? .serviceSchedulerInitiated : .userInitiated
    }

    /// The service name of an ECS task group (`service:NAME`), nil for other groups (`family:web`).
    static func service(of group: String) -> String? {
        group.hasPrefix("service:") ? String(group.dropFirst("service:".count)) : nil
    }

    // MARK: - Supervision

    /// Runs `launch`'s supervisor to the end (or until cancelled: the containers are left running) and reports
    /// every state change it observes.
    nonisolated func supervise(_ launch: Launch) async {
        await withDiscardingTaskGroup { group in
            group.addTask {
                for await report in launch.supervisor.reports {
                    await self.observe(report, taskID: launch.taskID)
                }
            }
            await launch.supervisor.run()
        }
    }

    private func observe(_ report: TaskStateReport, taskID: String) async {
        guard var entry = entries[taskID] else { return }
        let previous = entry.lastReport?.lastStatus
        let now = Date()
        entry.timestamps.stamp(report.lastStatus, from: previous, at: now)
        if report.lastStatus == .running, previous != .running, let dispatched = entry.dispatchedAt {
            Timer(label: "flotilla_agent_dispatch_latency_seconds").record(duration: ContinuousClock.now - dispatched)
        }
        entry.lastReport = report
        let change = Self.change(report, taskArn: entry.record.taskArn, timestamps: entry.timestamps)
        let health = Dictionary(
            report.containers.filter { $0.healthStatus != .unknown }.map { ($0.name, $0.healthStatus) },
            uniquingKeysWith: { first, _ in first })
        if report.lastStatus == .stopped || health != (entry.record.containerHealth ?? [:]) {
            if report.lastStatus == .stopped {
                entry.record.final = change
                entry.supervisor = nil
            }
            entry.record.containerHealth = health
            do {
                try files.save(entry.record)
            } catch {
                logger.error("task record could not be written", metadata: ["task": "\(taskID)", "error": "\(error)"])
            }
        }
        entries[taskID] = entry
        recordTaskCounts()
        await reporter?.submit(change)
    }

    /// Forgets tasks whose STOPPED state the control plane has acknowledged.
    func acknowledged(_ changes: [TaskStateChange]) {
        for change in changes where change.lastStatus == TaskStatus.stopped {
            let id = AgentTaskID.of(change.taskArn)
            guard entries[id]?.record.final != nil else { continue }
            entries[id] = nil
            files.removeRecord(taskID: id)
        }
        recordTaskCounts()
    }

    private func recordTaskCounts() {
        var counts: [TaskStatus: Int] = [:]
        for entry in entries.values { counts[entry.lastReport?.lastStatus ?? .provisioning, default: 0] += 1 }
        for status in TaskStatus.throughStopped {
            Gauge(label: "flotilla_agent_tasks", dimensions: [("status", status.rawValue)]).record(counts[status] ?? 0)
        }
    }

    // MARK: - Reports

    static func change(_ report: TaskStateReport, taskArn: String, timestamps: Timestamps) -> TaskStateChange {
        TaskStateChange(
            taskArn: taskArn, lastStatus: WireValue(report.lastStatus), healthStatus: WireValue(report.healthStatus),
            stopCode: report.stopCode.map(WireValue.init), stoppedReason: report.stoppedReason,
            pullStartedAt: timestamps.pullStartedAt, pullStoppedAt: timestamps.pullStoppedAt,
            startedAt: timestamps.startedAt, stoppingAt: timestamps.stoppingAt,
            executionStoppedAt: timestamps.stoppedAt, stoppedAt: timestamps.stoppedAt,
            containers: report.containers.map { container in
                ContainerStateChange(
                    name: container.name, lastStatus: WireValue(container.lastStatus),
                    exitCode: container.exitCode.map(Int.init), reason: container.reason,
                    healthStatus: WireValue(container.healthStatus),
                    networkBindings: container.networkBindings.map { binding in
                        .object([
                            "bindIP": .string(binding.bindIP), "containerPort": .number(Double(binding.containerPort)),
                            "hostPort": .number(Double(binding.hostPort)), "protocol": .string(binding.protocol),
                        ])
                    })
            })
    }

    // MARK: - Queries

    /// The runtime name of `containerName` in the task whose ARN ends in `taskID`.
    func runtimeName(taskID: String, containerName: String) -> String? {
        entries[taskID]?.record.containerIDs[containerName]
    }

    /// Usage of every task's containers and of the instance, from their cgroups, as the `metrics` document.
    func usage() async -> JSONValue {
        var tasks: [JSONValue] = []
        var totalCPU: UInt64 = 0
        var totalMemory: UInt64 = 0
        var running = 0
        for id in entries.keys.sorted() {
            guard let entry = entries[id], entry.supervisor != nil else { continue }
            if entry.lastReport?.lastStatus == .running { running += 1 }
            var cpu: UInt64 = 0
            var memory: UInt64 = 0
            for name in entry.record.containerIDs.values {
                guard let info = try? await runtime.state(name), info.status == .running,
                    let stats = try? Cgroup.open(name: info.id, parent: cgroupParent)?.stats()
                else { continue }
                cpu += stats.cpuUsageNanoseconds
                memory += stats.memoryUsageBytes ?? 0
            }
            totalCPU += cpu
            totalMemory += memory
            tasks.append(
                .object([
                    "taskArn": .string(entry.record.taskArn), "cpuUsageNanoseconds": .number(Double(cpu)),
                    "memoryUsageBytes": .number(Double(memory)),
                ]))
        }
        let meminfo = AgentHost.meminfo()
        return .object([
            "timestamp": .number(Date().timeIntervalSince1970.rounded()),
            "instance": .object([
                "cpuUsageNanoseconds": .number(Double(totalCPU)), "memoryUsageBytes": .number(Double(totalMemory)),
                "memoryTotalBytes": .number(Double((meminfo["MemTotal"] ?? 0) * 1024)),
                "memoryAvailableBytes": .number(Double((meminfo["MemAvailable"] ?? 0) * 1024)),
                "runningTasksCount": .number(Double(running)),
            ]),
            "tasks": .array(tasks),
        ])
    }
}

extension AgentTaskTable.Timestamps {
    /// Stamps the statuses passed on the way from `previous` (nil: PROVISIONING) to `status`.
    mutating func stamp(_ status: TaskStatus, from previous: TaskStatus?, at now: Date) {
        let from = previous ?? .provisioning
        func passed(_ target: TaskStatus) -> Bool { from < target && status >= target }
        if passed(.pending), pullStartedAt == nil { pullStartedAt = now }
        if passed(.activating), pullStoppedAt == nil { pullStoppedAt = now }
        if passed(.running), status < .deactivating, startedAt == nil { startedAt = now }
        if passed(.deactivating), stoppingAt == nil { stoppingAt = now }
        if status == .stopped, stoppedAt == nil { stoppedAt = now }
    }
}
