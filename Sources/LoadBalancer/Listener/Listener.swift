import Logging
import Metrics
import NIOCore
import NIOPosix
import Synchronization

/// The NIO side of a balancer: binds the listener and joins each accepted connection to a target.
///
/// Bytes move through channel pipelines joined by `GlueHandler`s (swift-nio-extras' proxy shape) rather than
/// through a child task per connection: the forwarding path then stays on one event loop with no task hops or
/// async-sequence buffers per read, which is what the HAProxy comparison asks of it. The target choice stays plain
/// Swift (`TargetSet` behind a mutex); errors of a connection end in its own handlers and never reach the listener.
enum Listener {
    /// Binds the listener. Each accepted channel is registered only after it was joined to a target (or closed),
    /// so no byte is read from a client before its target connection exists.
    static func bind(
        _ configuration: LoadBalancerConfiguration, group: any EventLoopGroup, box: BalancerBox
    ) async throws -> any Channel {
        let waterMark = ChannelOptions.Types.WriteBufferWaterMark(
            low: configuration.writeBufferHighWaterMark / 2, high: configuration.writeBufferHighWaterMark)
        return try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelOption(.autoRead, value: false)
            .childChannelOption(.writeBufferWaterMark, value: waterMark)
            .childChannelOption(.maxMessagesPerRead, value: UInt(LoadBalancerConfiguration.maxMessagesPerRead))
            .childChannelOption(
                .recvAllocator,
                value: AdaptiveRecvByteBufferAllocator(
                    minimum: 64, initial: 2048, maximum: LoadBalancerConfiguration.maxReadSize)
            )
            .childChannelInitializer { client in
                guard let balancer = box.value else { return client.eventLoop.makeFailedFuture(NoTargetAvailable()) }
                guard balancer.admit(client) else { return client.eventLoop.makeFailedFuture(ConnectionLimitReached()) }
                return balancer.join(client, excluding: [])
            }
            .bind(host: configuration.listenerHost, port: configuration.listenerPort)
            .get()
    }
}

/// No healthy target could take a connection; the client's connection is closed before any byte.
struct NoTargetAvailable: Error {}

/// The balancer already holds `maxConnections` client connections; the new one is closed before any byte.
struct ConnectionLimitReached: Error {}

extension LoadBalancer {
    /// Connects `client` to a target picked by the target set; on a connect error retries another target, so a
    /// client sees an error only when every eligible target refused.
    func join(_ client: any Channel, excluding excluded: Set<Target>) -> EventLoopFuture<Void> {
        let picked = self.state.withLock { state -> (Target, TargetCounters)? in
            guard state.isAccepting, let target = state.targets.pick(excluding: excluded),
                let counters = state.counters[target]
            else { return nil }
            return (target, counters)
        }
        guard let (target, counters) = picked else {
            self.logger.debug("No target for connection", metadata: ["lb.tried": "\(excluded.count)"])
            return client.eventLoop.makeFailedFuture(NoTargetAvailable())
        }
        let configuration = self.configuration
        let bootstrap = ClientBootstrap(group: client.eventLoop)
            .connectTimeout(TimeAmount(configuration.connectTimeout))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.allowRemoteHalfClosure, value: true)
            .channelOption(.autoRead, value: false)
            .channelOption(
                .writeBufferWaterMark,
                value: .init(
                    low: configuration.writeBufferHighWaterMark / 2, high: configuration.writeBufferHighWaterMark)
            )
            .channelOption(.maxMessagesPerRead, value: UInt(LoadBalancerConfiguration.maxMessagesPerRead))
            .channelOption(
                .recvAllocator,
                value: AdaptiveRecvByteBufferAllocator(
                    minimum: 64, initial: 2048, maximum: LoadBalancerConfiguration.maxReadSize))
        let connected: EventLoopFuture<any Channel>
        if let address = try? SocketAddress(ipAddress: target.host, port: target.port) {
            connected = bootstrap.connect(to: address)
        } else {
            connected = bootstrap.connect(host: target.host, port: target.port)
        }
        return connected.assumeIsolated().flatMapThrowing { backend in
            try self.glue(client, to: backend, target: target, counters: counters)
        }.nonisolated().flatMapError { error in
            let changes = self.state.withLock { $0.targets.connectFailed(to: target) }
            counters.connectFailed()
            self.perform(changes)
            // Passive health (HAProxy's `observe layer4`, Envoy's consecutive connect failures): a refused or
            // timed-out connect counts as one failed check, so a dead target leaves after `unhealthyThreshold`
            // connects instead of waiting for the next active checks; only active checks bring it back.
            self.record(check: false, of: target)
            self.logger.debug(
                "Target connect failed, trying another",
                metadata: ["target.id": "\(target.id)", "target.address": "\(target.address)", "error": "\(error)"])
            return self.join(client, excluding: excluded.union([target]))
        }
    }

    /// Joins the two channels with a glue pair and tracks the connection until the client side closes.
    private func glue(_ client: any Channel, to backend: any Channel, target: Target, counters: TargetCounters) throws {
        let (clientGlue, targetGlue) = GlueHandler.matchedPair(
            counters: counters, peakBufferedBytes: self.peakBufferedBytes,
            idleTimeout: TimeAmount(self.configuration.idleTimeout),
            onIdle: { [logger] in
                self.idleClosed.increment()
                logger.debug("Idle connection closed", metadata: ["target.id": "\(target.id)"])
            })
        do {
            try client.pipeline.syncOperations.addHandler(clientGlue)
            try backend.pipeline.syncOperations.addHandler(targetGlue)
        } catch {
            backend.close(promise: nil)
            throw error
        }
        let id = ObjectIdentifier(client)
        self.state.withLock { $0.connections[target, default: [:]][id] = client }
        counters.connectionOpened()
        client.closeFuture.assumeIsolated().whenComplete { _ in
            counters.connectionClosed(bytesIn: clientGlue.forwardedBytes, bytesOut: targetGlue.forwardedBytes)
            let changes = self.state.withLock { state in
                state.connections[target]?.removeValue(forKey: id)
                if state.connections[target]?.isEmpty == true { state.connections.removeValue(forKey: target) }
                return state.targets.connectionClosed(to: target)
            }
            self.perform(changes)
        }
    }
}

extension LoadBalancer {
    /// Counts `client` against `maxConnections`; false (and a refusal counted, and logged once per burst) when the
    /// balancer is full.
    func admit(_ client: any Channel) -> Bool {
        let open = self.clientConnections.wrappingAdd(1, ordering: .relaxed).newValue
        guard open <= self.configuration.maxConnections else {
            self.clientConnections.wrappingSubtract(1, ordering: .relaxed)
            self.refusedConnections.increment()
            if !self.isRefusing.exchange(true, ordering: .relaxed) {
                self.logger.warning(
                    "Connection limit reached; refusing new connections",
                    metadata: [
                        "lb.max_connections": "\(self.configuration.maxConnections)"
                    ])
            }
            return false
        }
        self.isRefusing.store(false, ordering: .relaxed)
        client.closeFuture.whenComplete { _ in self.clientConnections.wrappingSubtract(1, ordering: .relaxed) }
        return true
    }
}
