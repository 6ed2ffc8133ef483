import Foundation
public import Logging
import Metrics
import Synchronization

/// Gives containers and tasks their network: a namespace file, a veth on the node's bridge, an address lease and
/// nftables port mappings; and takes all of it away again on detach.
///
/// Every attachment is persisted (JSON under `stateDirectory`, written atomically) before any piece of it is made,
/// so a restarted agent sees its attachments, never leases an address twice, and can detach them. An attach that
/// fails half way is rolled back: no veth, no rule, no namespace file, no lease is left.
///
/// - Important: `detach` of an awsvpc network removes the namespace the whole task shares: call it once, after the
///   task's last container is gone. Detaching an id that is not attached does nothing.
public final class NetworkManager: Sendable {
    let configuration: NetworkConfiguration
    let subnet: IPv4Subnet
    let statePath: String
    let runner: CommandRunner
    let logger: Logger
    let state: Mutex<ManagerState>

    /// Loads the persisted attachments from `stateDirectory` and rolls back any attach a crash left half made.
    /// The bridge and the nftables table are made on the first bridge or awsvpc attach.
    public init(
        stateDirectory: String, configuration: NetworkConfiguration = .init(), logger: Logger
    ) throws(NetworkError) {
        let subnet = try Self.validate(configuration)
        self.configuration = configuration
        self.subnet = subnet
        self.statePath = "\(stateDirectory)/network-attachments.json"
        self.logger = logger
        self.runner = CommandRunner(logger: logger)
        do {
            try FileManager.default.createDirectory(atPath: stateDirectory, withIntermediateDirectories: true)
        } catch {
            throw .state(path: stateDirectory, message: "cannot create the directory: \(error)")
        }
        let persisted = try Self.load(statePath)
        self.state = Mutex(ManagerState(persisted: persisted))
        try state.withLock { (state) throws(NetworkError) in
            for record in state.persisted.records.values where !record.isComplete {
                logger.info(
                    "Rolling back an unfinished network attach",
                    metadata: ["network.id": "\(record.attachment.networkID)"])
                try removePieces(of: record)
                state.persisted.records[record.attachment.networkID] = nil
            }
            try save(state.persisted)
        }
    }

    /// Gives `networkID` a network of `mode` with `ports` mapped, or returns the existing attachment when the same
    /// request was made before. For awsvpc, a further call for the same task adds the new container's ports to the
    /// task's shared namespace.
    public func attach(
        networkID: String, mode: ContainerNetworkMode, ports: [PortRequest]
    ) throws(NetworkError) -> NetworkAttachment {
        try Self.validate(networkID: networkID, mode: mode, ports: ports)
        return try state.withLock { (state) throws(NetworkError) -> NetworkAttachment in
            if let existing = state.persisted.records[networkID] {
                return try reattach(existing, mode: mode, ports: ports, state: &state)
            }
            var record = NetworkRecord(
                attachment: NetworkAttachment(networkID: networkID, mode: mode), isComplete: false)
            switch mode {
            case .host:
                // The container binds its ports on the host itself; a port a bridge mapping DNATs away would never reach it.
                let mapped = Set(
                    state.persisted.records.values.filter { $0.attachment.mode == .bridge }
                        .flatMap(\.attachment.bindings).map { PortKey(port: $0.hostPort, protocol: $0.protocol) })
                if let clash = ports.first(where: {
                    mapped.contains(PortKey(port: $0.containerPort, protocol: $0.protocol))
                }) {
                    throw .portInUse(port: clash.containerPort, protocol: clash.protocol)
                }
                record.attachment.bindings = ports.map {
                    NetworkBinding(
                        bindIP: "0.0.0.0", containerPort: $0.containerPort, hostPort: $0.containerPort,
                        protocol: $0.protocol)
                }
            case .none:
                record.attachment.namespacePath = namespacePath(for: networkID)
            case .bridge, .awsvpc:
                try ensureBridge(&state)
                let address = try leaseAddress(state.persisted)
                record.attachment.namespacePath = namespacePath(for: networkID)
                record.attachment.ipv4Address = IPv4Subnet.format(address)
                record.attachment.gateway = IPv4Subnet.format(subnet.gateway)
                record.hostInterface = hostInterfaceName(for: networkID, taken: state.persisted)
                if mode == .bridge {
                    record.attachment.bindings = try mapHostPorts(ports, state: &state.persisted)
                } else {
                    record.attachment.bindings = ports.map {
                        NetworkBinding(
                            bindIP: IPv4Subnet.format(address), containerPort: $0.containerPort,
                            hostPort: $0.containerPort, protocol: $0.protocol)
                    }
                }
            }
            // Persist first: the lease and the ports are taken even if the agent dies now; init rolls back.
            state.persisted.records[networkID] = record
            try save(state.persisted)
            do throws(NetworkError) {
                try makePieces(of: record)
            } catch {
                logger.warning(
                    "Network attach failed; rolling back",
                    metadata: ["network.id": "\(networkID)", "error": "\(error)"])
                try? removePieces(of: record)
                state.persisted.records[networkID] = nil
                state.isBridgeReady = false  // the bridge or table may be what broke: check them again next time
                try? save(state.persisted)
                throw error
            }
            record.isComplete = true
            state.persisted.records[networkID] = record
            try save(state.persisted)
            recordGauges(state.persisted)
            logger.info(
                "Network attached",
                metadata: [
                    "network.id": "\(networkID)", "network.mode": "\(mode.rawValue)",
                    "network.address": "\(record.attachment.ipv4Address ?? "")",
                    "network.bindings": "\(record.attachment.bindings.count)",
                ])
            return record.attachment
        }
    }

    /// Removes the veth, the nftables rules, the namespace file and the address lease of `networkID`.
    /// A piece that is gone already is skipped; a piece that cannot be removed throws and keeps the record for a retry.
    public func detach(networkID: String) throws(NetworkError) {
        try state.withLock { (state) throws(NetworkError) in
            guard let record = state.persisted.records[networkID] else {
                logger.debug("Network detach of an unknown id", metadata: ["network.id": "\(networkID)"])
                return
            }
            try removePieces(of: record)
            state.persisted.records[networkID] = nil
            try save(state.persisted)
            recordGauges(state.persisted)
            logger.info(
                "Network detached",
                metadata: ["network.id": "\(networkID)", "network.mode": "\(record.attachment.mode.rawValue)"])
        }
    }

    /// The complete attachments, persisted: a restarted agent gets them back.
    public func attachments() -> [NetworkAttachment] {
        state.withLock { state in
            state.persisted.records.values.filter(\.isComplete).map(\.attachment).sorted { $0.networkID < $1.networkID }
        }
    }

    /// Deletes the bridge and the nftables table of this configuration. Fails while any network is attached.
    /// For tests and for uninstalling a node; the agent leaves both in place like Docker leaves docker0.
    public func removeHostNetworking() throws(NetworkError) {
        try state.withLock { (state) throws(NetworkError) in
            guard state.persisted.records.isEmpty else {
                throw .invalidRequest(
                    field: "networks", message: "\(state.persisted.records.count) network(s) still attached")
            }
            if runner.runIgnoringFailure(["ip", "link", "show", "dev", configuration.bridgeName]) {
                try runner.run(["ip", "link", "delete", "dev", configuration.bridgeName])
            }
            if runner.runIgnoringFailure(["nft", "list", "table", "ip", configuration.tablePrefix]) {
                try runner.run(["nft", "delete", "table", "ip", configuration.tablePrefix])
            }
            state.isBridgeReady = false
        }
    }

    // MARK: - Attach helpers

    private func reattach(
        _ existing: NetworkRecord, mode: ContainerNetworkMode, ports: [PortRequest],
        state: inout ManagerState
    ) throws(NetworkError) -> NetworkAttachment {
        guard existing.attachment.mode == mode else { throw .alreadyAttached(networkID: existing.attachment.networkID) }
        let known = Set(existing.attachment.bindings.map { PortKey(port: $0.containerPort, protocol: $0.protocol) })
        let added = ports.filter { !known.contains(PortKey(port: $0.containerPort, protocol: $0.protocol)) }
        if added.isEmpty { return existing.attachment }
        // Only an awsvpc task grows: each of its containers brings its own ports into the shared namespace.
        guard mode == .awsvpc, let address = existing.attachment.ipv4Address else {
            throw .alreadyAttached(networkID: existing.attachment.networkID)
        }
        var record = existing
        record.attachment.bindings += added.map {
            NetworkBinding(
                bindIP: address, containerPort: $0.containerPort, hostPort: $0.containerPort, protocol: $0.protocol)
        }
        state.persisted.records[record.attachment.networkID] = record
        try save(state.persisted)
        return record.attachment
    }

    private func namespacePath(for networkID: String) -> String {
        "\(configuration.namespaceDirectory)/\(networkID)"
    }

    /// The lowest address of the subnet that no record holds.
    private func leaseAddress(_ persisted: PersistedState) throws(NetworkError) -> UInt32 {
        let leased = Set(
            persisted.records.values.compactMap { $0.attachment.ipv4Address.flatMap(IPv4Subnet.parseAddress) })
        guard let address = subnet.leasable.first(where: { !leased.contains($0) }) else {
            throw .addressPoolExhausted(subnet: subnet.description)
        }
        return address
    }

    /// The host end of the veth: "fl" + 8 hex digits of a hash of the table prefix and id (interface names hold 15).
    private func hostInterfaceName(for networkID: String, taken persisted: PersistedState) -> String {
        let used = Set(persisted.records.values.compactMap(\.hostInterface))
        var hash: UInt32 = 2_166_136_261
        for byte in "\(configuration.tablePrefix)/\(networkID)".utf8 {
            hash = (hash ^ UInt32(byte)) &* 16_777_619
        }
        while used.contains(String(format: "fl%08x", hash)) { hash &+= 1 }
        return String(format: "fl%08x", hash)
    }

    private func recordGauges(_ persisted: PersistedState) {
        for mode in [ContainerNetworkMode.none, .host, .bridge, .awsvpc] {
            let count = persisted.records.values.filter { $0.isComplete && $0.attachment.mode == mode }.count
            Gauge(label: "flotilla_agent_network_attachments", dimensions: [("mode", mode.rawValue)]).record(count)
        }
    }
}

/// What the lock guards: the persisted records and whether this process set the bridge up already.
struct ManagerState: Sendable {
    var persisted: PersistedState
    var isBridgeReady = false
}

/// The JSON file under the state directory.
struct PersistedState: Codable, Sendable {
    var records: [String: NetworkRecord] = [:]
    /// Where the next dynamic host port search starts, so a port just freed is not handed out again at once.
    var nextDynamicPort: Int?
}

/// One attachment plus what is needed to take it apart again.
struct NetworkRecord: Codable, Sendable {
    var attachment: NetworkAttachment
    /// The host end of the veth (bridge, awsvpc).
    var hostInterface: String?
    /// False from the moment the lease is taken until every piece exists; init rolls back incomplete records.
    var isComplete: Bool
}

struct PortKey: Hashable {
    var port: Int
    var `protocol`: String
}
