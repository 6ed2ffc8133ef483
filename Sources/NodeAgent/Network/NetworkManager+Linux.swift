import Foundation
#if canImport(Glibc)
import Glibc
#endif

// MARK: - Validation and persistence

extension NetworkManager {
    static func validate(_ configuration: NetworkConfiguration) throws(NetworkError) -> IPv4Subnet {
        guard (1...15).contains(configuration.bridgeName.utf8.count),
            configuration.bridgeName.allSatisfy(isNameCharacter)
        else {
            throw .invalidConfiguration(
                field: "bridgeName",
                message: "must be 1-15 letters, digits, '-', '_' or '.', got \"\(configuration.bridgeName)\"")
        }
        guard let subnet = IPv4Subnet(configuration.subnet) else {
            throw .invalidConfiguration(
                field: "subnet",
                message: "must be a network address in CIDR form with a prefix of 8-30, got \"\(configuration.subnet)\""
            )
        }
        guard configuration.ephemeralPorts.lowerBound >= 1, configuration.ephemeralPorts.upperBound <= 65535 else {
            throw .invalidConfiguration(field: "ephemeralPorts", message: "must lie within 1-65535")
        }
        guard !configuration.tablePrefix.isEmpty, configuration.tablePrefix.count <= 64,
            configuration.tablePrefix.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") })
        else {
            throw .invalidConfiguration(
                field: "tablePrefix",
                message: "must be 1-64 letters, digits or '_', got \"\(configuration.tablePrefix)\"")
        }
        guard configuration.namespaceDirectory.hasPrefix("/") else {
            throw .invalidConfiguration(field: "namespaceDirectory", message: "must be an absolute path")
        }
        return subnet
    }

    static func validate(networkID: String, mode: ContainerNetworkMode, ports: [PortRequest]) throws(NetworkError) {
        guard (1...128).contains(networkID.utf8.count), networkID.allSatisfy(isNameCharacter), networkID.first != "."
        else {
            throw .invalidRequest(
                field: "networkID",
                message: "must be 1-128 letters, digits, '-', '_' or '.' not starting with '.', got \"\(networkID)\"")
        }
        if mode == .none, !ports.isEmpty {
            throw .invalidRequest(field: "portMappings", message: "network mode none cannot map ports")
        }
        var seenContainer = Set<PortKey>(), seenHost = Set<PortKey>()
        for (index, port) in ports.enumerated() {
            let field = "portMappings[\(index)]"
            guard (1...65535).contains(port.containerPort) else {
                throw .invalidRequest(
                    field: "\(field).containerPort", message: "must be between 1 and 65535, got \(port.containerPort)")
            }
            guard port.protocol == "tcp" || port.protocol == "udp" else {
                throw .invalidRequest(
                    field: "\(field).protocol", message: "must be tcp or udp, got \"\(port.protocol)\"")
            }
            let hostPort = port.hostPort ?? 0
            guard (0...65535).contains(hostPort) else {
                throw .invalidRequest(
                    field: "\(field).hostPort", message: "must be between 0 and 65535, got \(hostPort)")
            }
            if mode != .bridge, hostPort != 0, hostPort != port.containerPort {
                throw .invalidRequest(
                    field: "\(field).hostPort",
                    message: "must equal containerPort \(port.containerPort) in \(mode.rawValue) mode, got \(hostPort)")
            }
            guard seenContainer.insert(PortKey(port: port.containerPort, protocol: port.protocol)).inserted else {
                throw .invalidRequest(
                    field: "\(field).containerPort", message: "\(port.containerPort)/\(port.protocol) is mapped twice")
            }
            if hostPort != 0, !seenHost.insert(PortKey(port: hostPort, protocol: port.protocol)).inserted {
                throw .invalidRequest(
                    field: "\(field).hostPort", message: "\(hostPort)/\(port.protocol) is mapped twice")
            }
        }
    }

    private static func isNameCharacter(_ character: Character) -> Bool {
        character.isASCII
            && (character.isLetter || character.isNumber || character == "-" || character == "_" || character == ".")
    }

    static func load(_ path: String) throws(NetworkError) -> PersistedState {
        guard FileManager.default.fileExists(atPath: path) else { return PersistedState() }
        do {
            return try JSONDecoder().decode(PersistedState.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw .state(path: path, message: "cannot read: \(error)")
        }
    }

    /// Writes the state to a temporary file and renames it over the old one.
    func save(_ persisted: PersistedState) throws(NetworkError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do {
            try encoder.encode(persisted).write(to: URL(fileURLWithPath: statePath), options: .atomic)
        } catch {
            throw .state(path: statePath, message: "cannot write: \(error)")
        }
    }
}

// MARK: - Host networking: the bridge, forwarding and the nftables table

extension NetworkManager {
    /// Makes the bridge with the gateway address, turns on forwarding and route_localnet (on the bridge only, so
    /// 127.0.0.1:hostPort can be DNATed to a container), and (re)writes the table's chains, masquerade rules and
    /// the loopback guard.
    ///
    /// The guard (CVE-2020-8558, fixed the same way by kube-proxy): route_localnet also makes the host accept packets
    /// that arrive on the bridge addressed to 127.0.0.0/8, so a container able to craft them (NET_RAW is in the
    /// default capabilities) would reach services the host binds to 127.0.0.1 only. The input chain drops them unless
    /// conntrack says they belong to a connection the host DNATed (the replies of 127.0.0.1:hostPort connections).
    func ensureBridge(_ state: inout ManagerState) throws(NetworkError) {
        guard !state.isBridgeReady else { return }
        let bridge = configuration.bridgeName
        if !runner.runIgnoringFailure(["ip", "link", "show", "dev", bridge]) {
            try runner.run(["ip", "link", "add", "name", bridge, "type", "bridge"])
        }
        try runner.run(
            ["ip", "-batch", "-"],
            input: """
                address replace \(IPv4Subnet.format(subnet.gateway))/\(subnet.prefixLength) dev \(bridge)
                link set dev \(bridge) up

                """)
        try writeSysctl("/proc/sys/net/ipv4/ip_forward", "1")
        try writeSysctl("/proc/sys/net/ipv4/conf/\(bridge)/route_localnet", "1")
        let table = "ip \(configuration.tablePrefix)"
        let cidr = subnet.description
        // One transaction; `add` of an existing table or chain is a no-op, postrouting holds only these rules.
        try runner.run(
            ["nft", "-f", "-"],
            input: """
                add table \(table)
                add chain \(table) prerouting { type nat hook prerouting priority dstnat; policy accept; }
                add chain \(table) output { type nat hook output priority -100; policy accept; }
                add chain \(table) postrouting { type nat hook postrouting priority srcnat; policy accept; }
                add chain \(table) input { type filter hook input priority filter; policy accept; }
                flush chain \(table) postrouting
                flush chain \(table) input
                add rule \(table) postrouting ip saddr \(cidr) ip daddr != \(cidr) masquerade
                add rule \(table) postrouting ip saddr 127.0.0.0/8 ip daddr \(cidr) masquerade
                add rule \(table) postrouting ip saddr \(cidr) ip daddr \(cidr) ct status dnat masquerade
                add rule \(table) input iifname "\(bridge)" ip daddr 127.0.0.0/8 ct status & dnat == 0 drop

                """)
        state.isBridgeReady = true
    }

    private func writeSysctl(_ path: String, _ value: String) throws(NetworkError) {
        do {
            try value.write(toFile: path, atomically: false, encoding: .utf8)
        } catch {
            throw .commandFailed(command: ["sysctl", path], status: -1, stderr: "\(error)")
        }
    }
}

// MARK: - Host ports

extension NetworkManager {
    /// Picks the host port of every request: a static port must be free on the host and unmapped; a dynamic one
    /// is the next port of the ephemeral range that is neither.
    func mapHostPorts(
        _ ports: [PortRequest], state persisted: inout PersistedState
    ) throws(NetworkError) -> [NetworkBinding] {
        var taken = Set<PortKey>()
        for record in persisted.records.values
        where record.attachment.mode == .bridge || record.attachment.mode == .host {
            for binding in record.attachment.bindings {
                taken.insert(PortKey(port: binding.hostPort, protocol: binding.protocol))
            }
        }
        var bindings: [NetworkBinding] = []
        for port in ports where (port.hostPort ?? 0) != 0 {
            let key = PortKey(port: port.hostPort!, protocol: port.protocol)
            guard !taken.contains(key), Self.isHostPortFree(key.port, protocol: key.protocol) else {
                throw .portInUse(port: key.port, protocol: key.protocol)
            }
            taken.insert(key)
        }
        let range = configuration.ephemeralPorts
        var candidate = persisted.nextDynamicPort.flatMap { range.contains($0) ? $0 : nil } ?? range.lowerBound
        for port in ports {
            var hostPort = port.hostPort ?? 0
            if hostPort == 0 {
                var tried = 0
                while taken.contains(PortKey(port: candidate, protocol: port.protocol))
                    || !Self.isHostPortFree(candidate, protocol: port.protocol)
                {
                    tried += 1
                    guard tried < range.count else { throw .noFreePort(range: range) }
                    candidate = candidate == range.upperBound ? range.lowerBound : candidate + 1
                }
                hostPort = candidate
                taken.insert(PortKey(port: hostPort, protocol: port.protocol))
                candidate = candidate == range.upperBound ? range.lowerBound : candidate + 1
            }
            bindings.append(
                NetworkBinding(
                    bindIP: "0.0.0.0", containerPort: port.containerPort, hostPort: hostPort, protocol: port.protocol))
        }
        persisted.nextDynamicPort = candidate
        return bindings
    }

    /// Whether `bind(2)` of 0.0.0.0:`port` succeeds now, i.e. no host socket holds the port.
    static func isHostPortFree(_ port: Int, protocol: String) -> Bool {
        let kind = `protocol` == "udp" ? Int32(SOCK_DGRAM.rawValue) : Int32(SOCK_STREAM.rawValue)
        let fd = socket(AF_INET, kind | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr = in_addr(s_addr: 0)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        return result == 0
    }
}

// MARK: - Making and removing an attachment's pieces

extension NetworkManager {
    private var ruleTable: String { "ip \(configuration.tablePrefix)" }

    private func ruleComment(_ networkID: String) -> String { "\"flotilla:\(networkID)\"" }

    /// Creates the namespace file, the veth with eth0 addressed and routed, and the DNAT rules, in that order.
    func makePieces(of record: NetworkRecord) throws(NetworkError) {
        let attachment = record.attachment
        guard let path = attachment.namespacePath else { return }
        try createNamespace(at: path)
        guard let hostInterface = record.hostInterface, let address = attachment.ipv4Address,
            let gateway = attachment.gateway
        else {
            try runner.run(["nsenter", "--net=\(path)", "ip", "link", "set", "dev", "lo", "up"])
            return
        }
        try runner.run([
            "ip", "link", "add", "name", hostInterface, "type", "veth", "peer", "name", "eth0", "netns", path,
        ])
        try runner.run(["ip", "link", "set", "dev", hostInterface, "master", configuration.bridgeName, "up"])
        try runner.run(
            ["nsenter", "--net=\(path)", "ip", "-batch", "-"],
            input: """
                link set dev lo up
                address add \(address)/\(subnet.prefixLength) dev eth0
                link set dev eth0 up
                route add default via \(gateway)

                """)
        guard attachment.mode == .bridge, !attachment.bindings.isEmpty else { return }
        var script = ""
        for binding in attachment.bindings {
            let match = "fib daddr type local \(binding.protocol) dport \(binding.hostPort)"
            let target = "dnat to \(address):\(binding.containerPort) comment \(ruleComment(attachment.networkID))"
            script += "add rule \(ruleTable) prerouting \(match) \(target)\n"
            script += "add rule \(ruleTable) output \(match) \(target)\n"
        }
        try runner.run(["nft", "-f", "-"], input: script)
    }

    /// Removes every piece that exists; pieces that are gone already are skipped.
    func removePieces(of record: NetworkRecord) throws(NetworkError) {
        let attachment = record.attachment
        if attachment.mode == .bridge {
            try deleteRules(of: attachment.networkID)
        }
        if let hostInterface = record.hostInterface,
            runner.runIgnoringFailure(["ip", "link", "show", "dev", hostInterface])
        {
            try runner.run(["ip", "link", "delete", "dev", hostInterface])
        }
        if let path = attachment.namespacePath {
            try removeNamespace(at: path)
        }
    }

    /// Deletes the rules whose comment names `networkID`, found by handle, in one transaction.
    private func deleteRules(of networkID: String) throws(NetworkError) {
        let suffix = "comment \(ruleComment(networkID)) # handle "
        var script = ""
        for chain in ["prerouting", "output"] {
            // No table or chain means no rules to delete.
            guard let listing = try? runner.run(["nft", "-a", "list", "chain", "ip", configuration.tablePrefix, chain])
            else { continue }
            for line in listing.split(separator: "\n") {
                guard let range = line.range(of: suffix),
                    let handle = Int(line[range.upperBound...].trimmingCharacters(in: .whitespaces))
                else { continue }
                script += "delete rule \(ruleTable) \(chain) handle \(handle)\n"
            }
        }
        if !script.isEmpty {
            try runner.run(["nft", "-f", "-"], input: script)
        }
    }

    /// `ip netns add` semantics at `path`: an empty file with a new network namespace bind-mounted on it.
    private func createNamespace(at path: String) throws(NetworkError) {
        do {
            try FileManager.default.createDirectory(
                atPath: configuration.namespaceDirectory, withIntermediateDirectories: true)
        } catch {
            throw .state(path: configuration.namespaceDirectory, message: "cannot create the directory: \(error)")
        }
        try removeNamespace(at: path)
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw .state(path: path, message: "cannot create the namespace file")
        }
        try runner.run(["unshare", "--net=\(path)", "true"])
    }

    /// Unmounts (lazily: a running container keeps its namespace until it exits) and deletes the namespace file.
    private func removeNamespace(at path: String) throws(NetworkError) {
        guard FileManager.default.fileExists(atPath: path) else { return }
        if umount2(path, Int32(MNT_DETACH)) != 0, errno != EINVAL, errno != ENOENT {
            throw .commandFailed(command: ["umount2", path], status: errno, stderr: String(cString: strerror(errno)))
        }
        if unlink(path) != 0, errno != ENOENT {
            throw .commandFailed(command: ["unlink", path], status: errno, stderr: String(cString: strerror(errno)))
        }
    }
}
