import AgentProtocol
import Foundation
public import Logging
import Metrics
public import ServiceLifecycle

/// The agent daemon: joins the cluster with the join token, re-adopts what a previous run left, then keeps a blocking
/// `PollDesiredTasks` loop, a `TaskSupervisor` per task, batched state reports and periodic usage metrics.
///
/// - Important: graceful shutdown stops polling and supervising, flushes the reports and leaves every container
///   running; the next start re-adopts them. A refused join token ends `run()` with `AgentError.joinTokenRefused`.
public struct AgentDaemon: Service {
    private let configuration: AgentConfiguration
    let connection: ControlPlaneConnection
    let table: AgentTaskTable
    let runtime: ContainerRuntime
    private let reporter: StateReporter
    private let logger: Logger

    /// Prepares the daemon over `runtime` and `images` (both on `configuration.dataDirectory`); nothing is contacted
    /// before `run()`.
    public init(
        configuration: AgentConfiguration, runtime: ContainerRuntime, images: ImageStore,
        logger: Logger
    ) async throws {
        self.configuration = configuration
        self.runtime = runtime
        var logger = logger
        logger[metadataKey: "cluster"] = "\(configuration.cluster)"
        self.logger = logger
        let files: AgentStateFiles
        do {
            files = try AgentStateFiles(directory: configuration.agentDirectory)
        } catch {
            throw AgentError.state("agent state \(configuration.agentDirectory): \(error)")
        }
        connection = try ControlPlaneConnection(configuration: configuration, files: files, logger: logger)
        let table = AgentTaskTable(
            cluster: configuration.cluster, cgroupParent: configuration.cgroupParent,
            runtime: runtime, images: images, files: files, healthStartInterval: configuration.healthStartInterval,
            logger: logger)
        self.table = table
        reporter = StateReporter(connection: connection, logger: logger) { changes in
            await table.acknowledged(changes)
        }
        await table.attach(reporter)
    }

    /// The endpoint secret (`agentToken`) this agent registers: the key its endpoint checks container access tokens
    /// with.
    public var agentToken: String {
        get async { await connection.agentToken }
    }

    public func run() async throws {
        guard try await registerUntilAnswered() else { return }
        await table.adoptRecovered()
        await withDiscardingTaskGroup { outer in
            outer.addTask { await reporter.run() }
            outer.addTask { await metricsLoop() }
            await withDiscardingTaskGroup { supervisors in
                supervisors.addTask {
                    await pollLoop()
                    table.finishLaunches()
                }
                for await launch in table.launches {
                    supervisors.addTask { await table.supervise(launch) }
                }
                // Shutting down: supervisors end, their containers keep running.
                supervisors.cancelAll()
            }
            await reporter.close()
        }
        let backlog = await reporter.backlog
        logger.info("agent stopped", metadata: ["agent.backlog": "\(backlog)"])
    }

    // MARK: - Loops

    /// Registers, retrying while the control plane cannot be reached; false if shut down first.
    private func registerUntilAnswered() async throws -> Bool {
        var failures = 0
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                try await connection.register()
                return true
            } catch let error as AgentError {
                logger.error("agent cannot join the cluster", metadata: ["error": "\(error)"])
                throw error
            } catch {
                failures += 1
                logger.warning("control plane unreachable, retrying registration", metadata: ["error": "\(error)"])
                let delay = StateReporter.backoff(after: failures)
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: delay) }
            }
        }
        return false
    }

    /// Blocking polls until graceful shutdown; each answer goes to the task table.
    private func pollLoop() async {
        let connection = connection
        let table = table
        let logger = logger
        _ = try? await cancelWhenGracefulShutdown { () async throws -> Void in
            var index: Int64 = 0
            var failures = 0
            while !Task.isCancelled {
                let started = ContinuousClock.now
                do {
                    let answer = try await connection.poll(index: index)
                    let received = ContinuousClock.now
                    Timer(label: "flotilla_agent_poll_round_trip_seconds").record(
                        duration: ContinuousClock.now - started)
                    failures = 0
                    index = answer.index
                    await table.apply(answer, receivedAt: received)
                } catch {
                    if Task.isCancelled { return }
                    failures += 1
                    Counter(label: "flotilla_agent_poll_failures_total").increment()
                    logger.warning("desired tasks poll failed", metadata: ["error": "\(error)"])
                    try await Task.sleep(for: StateReporter.backoff(after: failures))
                }
            }
        }
    }

    /// Sends cgroup usage every `metricsInterval` until graceful shutdown.
    private func metricsLoop() async {
        let table = table
        let reporter = reporter
        let interval = configuration.metricsInterval
        _ = try? await cancelWhenGracefulShutdown { () async throws -> Void in
            while true {
                try await Task.sleep(for: interval)
                await reporter.submit(metrics: await table.usage())
            }
        }
    }
}
