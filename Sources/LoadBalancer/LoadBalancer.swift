public import Logging
import Metrics
public import NIOCore
import NIOPosix
public import ServiceLifecycle
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A running named balancer: a TCP listener that spreads connections over a target set the owner replaces live.
///
/// It never depends on its owner being reachable: it keeps serving the last targets it was given, checks their
/// health itself, and only changes the set when `updateTargets(_:assumeHealthy:)` is called.
///
/// ```swift
/// let balancer = try await LoadBalancer.start(configuration, logger: logger)  // listening now
/// balancer.updateTargets([Target(id: "task-1", host: "10.0.0.5", port: 32768)], assumeHealthy: true)
/// try await balancer.run()  // health checks until graceful shutdown, then drains
/// ```
///
/// - Important: `start` binds and accepts at once; `run()` must then be called (directly or through a
///   `ServiceGroup`): it runs the health checks, and when it ends (graceful shutdown: drain first; cancellation:
///   at once) it closes the listener and every connection. Targets join only once healthy, so a balancer whose
///   `run()` never runs serves only targets added with `assumeHealthy: true`.
public final class LoadBalancer: Service, Sendable {
    public let configuration: LoadBalancerConfiguration
    /// Health changes of targets, for the owner to report failing tasks. Keeps the newest 1024 if nobody reads.
    public let healthTransitions: AsyncStream<TargetHealthTransition>
    /// The port the listener is bound to (the chosen one when the configuration asked for port 0).
    public let listenerPort: Int

    let logger: Logger
    let eventLoopGroup: any EventLoopGroup
    let state: Mutex<State>
    let peakBufferedBytes = PeakGauge()
    /// Client connections open now, against `configuration.maxConnections`.
    let clientConnections = Atomic<Int>(0)
    /// Whether the last connection was refused for the cap (the warning is logged once per burst of refusals).
    let isRefusing = Atomic<Bool>(false)
    let refusedConnections: Counter
    let idleClosed: Counter
    let transitions: AsyncStream<TargetHealthTransition>.Continuation
    private let serverChannel: any Channel
    private let stopRequests: AsyncStream<Void>
    private let stopRequester: AsyncStream<Void>.Continuation

    struct State {
        var targets: TargetSet
        var counters: [Target: TargetCounters] = [:]
        var connections: [Target: [ObjectIdentifier: any Channel]] = [:]
        var isAccepting = true
    }

    // MARK: - Lifecycle

    /// Validates the configuration and binds the listener; connections are accepted as soon as this returns.
    ///
    /// `eventLoopGroup` nil means `LoadBalancer.sharedEventLoopGroup` (half the cores, at least one loop).
    ///
    /// - Throws: `LoadBalancerError.invalidConfiguration` naming every bad field,
    ///   `.listenerPortInUse` when another socket holds the port, `.listenerBindFailed` for other bind errors.
    public static func start(
        _ configuration: LoadBalancerConfiguration,
        targets: [Target] = [],
        assumeHealthy: Bool = false,
        eventLoopGroup: (any EventLoopGroup)? = nil,
        logger: Logger
    ) async throws(LoadBalancerError) -> LoadBalancer {
        try configuration.validate()
        let eventLoopGroup = eventLoopGroup ?? Self.sharedEventLoopGroup
        var logger = logger
        logger[metadataKey: "balancer.name"] = "\(configuration.name)"
        let box = BalancerBox()
        let serverChannel: any Channel
        do {
            serverChannel = try await Listener.bind(configuration, group: eventLoopGroup, box: box)
        } catch let error as IOError where error.errnoCode == EADDRINUSE {
            throw .listenerPortInUse(host: configuration.listenerHost, port: configuration.listenerPort)
        } catch let error as IOError {
            throw .listenerBindFailed(
                host: configuration.listenerHost, port: configuration.listenerPort, errno: error.errnoCode,
                message: "\(error)")
        } catch {
            throw .listenerBindFailed(
                host: configuration.listenerHost, port: configuration.listenerPort, errno: 0, message: "\(error)")
        }
        let balancer = LoadBalancer(
            configuration: configuration, serverChannel: serverChannel, eventLoopGroup: eventLoopGroup, logger: logger)
        box.set(balancer)
        balancer.updateTargets(targets, assumeHealthy: assumeHealthy)
        logger.info(
            "Load balancer listening",
            metadata: [
                "listener.port": "\(balancer.listenerPort)", "lb.algorithm": "\(configuration.algorithm.rawValue)",
            ])
        return balancer
    }

    /// Loops of `sharedEventLoopGroup`: half the cores, at least one.
    public static let defaultEventLoopCount = max(1, System.coreCount / 2)

    /// The event loops every balancer of the process runs on unless `start` is given a group; never shut down.
    ///
    /// Half the cores rather than NIO's one loop per core: a balancer shares its host with what it forwards to and
    /// from (tasks, the agent, clients), and forwarding is three quarters kernel work (TCP send and receive), so CPU
    /// per request is what limits it. Fewer loops take more ready sockets per `epoll_wait`, which costs fewer
    /// `epoll_wait` calls and wake-ups per request: on 2 cores shared with wrk and nginx, one loop served 9% more
    /// small requests per second than two (at 0.26 instead of 0.44 `epoll_wait` per request, 12% less CPU per
    /// request) with a lower p99. The price is bulk throughput, which one loop caps at one core's copying.
    public static let sharedEventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup(
        numberOfThreads: defaultEventLoopCount)

    private init(
        configuration: LoadBalancerConfiguration, serverChannel: any Channel, eventLoopGroup: any EventLoopGroup,
        logger: Logger
    ) {
        self.configuration = configuration
        self.serverChannel = serverChannel
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
        self.listenerPort = serverChannel.localAddress?.port ?? configuration.listenerPort
        self.state = Mutex(State(targets: TargetSet(algorithm: configuration.algorithm)))
        self.refusedConnections = Counter(
            label: "flotilla_lb_refused_connections_total", dimensions: [("balancer", configuration.name)])
        self.idleClosed = Counter(
            label: "flotilla_lb_idle_closed_connections_total", dimensions: [("balancer", configuration.name)])
        (self.healthTransitions, self.transitions) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1024))
        (self.stopRequests, self.stopRequester) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// Runs health checks until graceful shutdown, `stop()` or cancellation, then closes the listener.
    ///
    /// On graceful shutdown or `stop()` it stops accepting, lets open connections finish for up to the
    /// deregistration delay, then closes the rest. On cancellation it closes everything at once.
    public func run() async throws {
        await withDiscardingTaskGroup { group in
            group.addTask { await self.checkHealthUntilCancelled() }
            await withTaskGroup(of: Void.self) { endings in
                endings.addTask { try? await gracefulShutdown() }
                endings.addTask { for await _ in self.stopRequests { return } }
                await endings.next()
                endings.cancelAll()
            }
            group.cancelAll()
        }
        await self.shutDown()
    }

    /// Ends `run()` as a graceful shutdown would (stop accepting, drain, close) while the process goes on: the
    /// owner deletes this balancer. Callable before `run()` starts, and more than once.
    public func stop() {
        self.stopRequester.yield()
    }

    private func shutDown() async {
        self.state.withLock { $0.isAccepting = false }
        try? await self.serverChannel.close()
        self.logger.info("Load balancer stopped accepting", metadata: ["lb.active": "\(self.activeConnections)"])
        let step = Duration.milliseconds(20)
        let steps = Int(self.configuration.deregistrationDelay / step) + 1
        for _ in 0..<steps where self.activeConnections > 0 {
            do { try await Task.sleep(for: step) } catch { break }
        }
        let remaining = self.state.withLock { $0.connections.values.flatMap(\.values) }
        for channel in remaining { channel.close(promise: nil) }
        self.transitions.finish()
        self.logger.info("Load balancer stopped", metadata: ["lb.closed": "\(remaining.count)"])
    }

    private var activeConnections: Int { self.state.withLock { $0.targets.activeConnections } }

    // MARK: - Owner API

    /// Replaces the target set: new targets join once healthy (at once with `assumeHealthy`, which also marks the
    /// kept targets healthy), missing ones drain: no new connection, open ones until the deregistration delay.
    public func updateTargets(_ targets: [Target], assumeHealthy: Bool = false) {
        let changes = self.state.withLock { state in
            let changes = state.targets.replace(with: targets, assumeHealthy: assumeHealthy)
            for case .added(let target) in changes {
                let counters = TargetCounters(balancer: self.configuration.name, target: target)
                counters.record(health: assumeHealthy ? .healthy : .initial)
                state.counters[target] = counters
            }
            return changes
        }
        self.perform(changes)
    }

    /// Counters and health of every target, for describe-load-balancers.
    public func snapshot() -> LoadBalancerSnapshot {
        self.state.withLock { state in
            LoadBalancerSnapshot(
                name: self.configuration.name,
                listenerHost: self.configuration.listenerHost,
                listenerPort: self.listenerPort,
                algorithm: self.configuration.algorithm,
                targets: state.targets.members.map { member in
                    let counters = state.counters[member.target]
                    return TargetSnapshot(
                        target: member.target,
                        health: member.health,
                        isDraining: member.isDraining,
                        activeConnections: member.activeConnections,
                        totalConnections: member.totalConnections,
                        connectErrors: member.connectErrors,
                        bytesIn: counters?.bytesIn.load(ordering: .relaxed) ?? 0,
                        bytesOut: counters?.bytesOut.load(ordering: .relaxed) ?? 0)
                },
                peakBufferedBytes: self.peakBufferedBytes.value)
        }
    }

    // MARK: - Target set effects

    /// Performs what the target set asked for: drain timers, closes, dropped counters.
    func perform(_ changes: [TargetSet.Change]) {
        for change in changes {
            switch change {
            case .added(let target):
                self.logger.info(
                    "Target registered", metadata: ["target.id": "\(target.id)", "target.address": "\(target.address)"])
            case .drainStarted(let target, let generation):
                self.logger.info(
                    "Target draining", metadata: ["target.id": "\(target.id)", "target.address": "\(target.address)"])
                self.eventLoopGroup.next().scheduleTask(in: TimeAmount(self.configuration.deregistrationDelay)) {
                    self.drainDelayEnded(target, generation: generation)
                }
            case .removed(let target):
                let counters = self.state.withLock { $0.counters.removeValue(forKey: target) }
                counters?.destroy()
                self.logger.info(
                    "Target deregistered",
                    metadata: ["target.id": "\(target.id)", "target.address": "\(target.address)"])
            }
        }
    }

    private func drainDelayEnded(_ target: Target, generation: Int) {
        let (ended, connections, counters) = self.state.withLock { state in
            guard state.targets.drainDelayEnded(target, generation: generation) else {
                return (false, [any Channel](), nil as TargetCounters?)
            }
            let connections = state.connections.removeValue(forKey: target).map { Array($0.values) } ?? []
            return (true, connections, state.counters.removeValue(forKey: target))
        }
        guard ended else { return }
        for channel in connections { channel.close(promise: nil) }
        counters?.destroy()
        self.logger.info(
            "Target deregistered after deregistration delay",
            metadata: [
                "target.id": "\(target.id)", "target.address": "\(target.address)", "lb.closed": "\(connections.count)",
            ])
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}

/// Hands the balancer to the listener's accept path, which exists before the balancer does (the balancer is built
/// from the bound channel). Set once, right after bind; connections accepted before that are closed.
final class BalancerBox: Sendable {
    private let balancer = Mutex<LoadBalancer?>(nil)
    func set(_ balancer: LoadBalancer) { self.balancer.withLock { $0 = balancer } }
    var value: LoadBalancer? { self.balancer.withLock { $0 } }
}
