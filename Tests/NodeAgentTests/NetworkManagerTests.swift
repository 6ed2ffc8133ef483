import Foundation
import Logging
import NodeAgent
import Testing

/// Real namespaces, veths, a bridge and nftables rules on this machine; traffic only to loopback and to addresses
/// inside namespaces these tests make. Own bridge `flt1br`, subnet 10.251.1.0/24, table `flotilla_test1`.
@Suite(.enabled(if: getuid() == 0), .serialized, .timeLimit(.minutes(10)))
struct NetworkManagerTests {
    let configuration = NetworkConfiguration.test(1)
    let stateDirectory = makeNetworkStateDirectory()

    private func makeManager() throws -> NetworkManager {
        try NetworkManager(stateDirectory: stateDirectory, configuration: configuration, logger: networkTestLogger)
    }

    /// Detaches whatever is left and removes the bridge and the table, so every test starts from nothing.
    private func tearDown(_ manager: NetworkManager) throws {
        for attachment in manager.attachments() { try manager.detach(networkID: attachment.networkID) }
        try manager.removeHostNetworking()
        try? FileManager.default.removeItem(atPath: stateDirectory)
    }

    @Test func noneModeHasOnlyLoopbackUp() throws {
        // Given a manager
        let manager = try makeManager()
        defer { try? tearDown(manager) }

        // When a container gets network mode none
        let attachment = try manager.attach(networkID: "none-1", mode: .none, ports: [])

        // Then its namespace file holds a namespace with only lo, and lo is up
        let path = try #require(attachment.namespacePath)
        #expect(path == "\(configuration.namespaceDirectory)/none-1")
        let links = NetworkShell.run(["nsenter", "--net=\(path)", "ip", "-o", "link"]).stdout
            .split(separator: "\n").map { $0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces) }
        #expect(links == ["lo"])
        #expect(
            NetworkShell.run(["nsenter", "--net=\(path)", "ip", "-o", "link", "show", "dev", "lo"]).stdout.contains(
                ",UP"))
        #expect(attachment.ipv4Address == nil)

        // When it is detached, the namespace file is gone
        try manager.detach(networkID: "none-1")
        #expect(!FileManager.default.fileExists(atPath: path))
        #expect(manager.attachments().isEmpty)
    }

    @Test func hostModeBindsTheContainerPortOnTheHost() throws {
        // Given a manager
        let manager = try makeManager()
        defer { try? tearDown(manager) }

        // When a container with port 8080 gets host networking
        let attachment = try manager.attach(networkID: "host-1", mode: .host, ports: [PortRequest(containerPort: 8080)])

        // Then it joins no namespace and its binding is the container port on every host address
        #expect(attachment.namespacePath == nil)
        #expect(
            attachment.bindings == [
                NetworkBinding(bindIP: "0.0.0.0", containerPort: 8080, hostPort: 8080, protocol: "tcp")
            ])
    }

    @Test func bridgeMappingReachesTheContainerFromTheHostAndFromAnotherHost() throws {
        // Given a manager, a namespace playing another host, and host port the first ephemeral port held busy
        let manager = try makeManager()
        defer { try? tearDown(manager) }
        let other = try OtherHost(
            name: "flt1other", directory: "/run/flotilla-test1", hostAddress: "10.252.1.1", peerAddress: "10.252.1.2")
        defer { other.remove() }
        let busy = try HostPortHolder(port: configuration.ephemeralPorts.lowerBound)

        // When a bridge container asks for a dynamic host port for container port 80
        let attachment = try manager.attach(networkID: "web-1", mode: .bridge, ports: [PortRequest(containerPort: 80)])
        let server = try NamespaceHTTPServer(
            namespacePath: try #require(attachment.namespacePath), body: "hello from web-1\n")
        defer { server.stop() }

        // Then the port is a free one from the range, reported like ECS's networkBindings
        let binding = try #require(attachment.bindings.first)
        #expect(attachment.bindings.count == 1)
        #expect(configuration.ephemeralPorts.contains(binding.hostPort))
        #expect(binding.hostPort != configuration.ephemeralPorts.lowerBound)
        #expect(binding.bindIP == "0.0.0.0" && binding.containerPort == 80 && binding.protocol == "tcp")
        #expect(attachment.gateway == "10.251.1.1")
        #expect(attachment.ipv4Address == "10.251.1.2")
        _ = busy

        // And the container is reached through 127.0.0.1, the bridge address and from the other host
        #expect(NetworkShell.get("http://127.0.0.1:\(binding.hostPort)/") == server.body)
        #expect(NetworkShell.get("http://10.251.1.1:\(binding.hostPort)/") == server.body)
        #expect(
            NetworkShell.get("http://\(other.hostAddress):\(binding.hostPort)/", from: other.namespacePath)
                == server.body)

        // When it is detached
        #expect(NetworkShell.bridgePorts(configuration.bridgeName).count == 1)
        #expect(NetworkShell.ruleset().contains("flotilla:web-1"))
        try manager.detach(networkID: "web-1")

        // Then no veth, no namespace file and no rule is left, and the host port no longer answers
        #expect(NetworkShell.bridgePorts(configuration.bridgeName).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: try #require(attachment.namespacePath)))
        #expect(!NetworkShell.ruleset().contains("flotilla:web-1"))
        #expect(NetworkShell.get("http://127.0.0.1:\(binding.hostPort)/") == nil)

        // And the address lease is free again: the next container gets the same address
        let next = try manager.attach(networkID: "web-2", mode: .bridge, ports: [])
        #expect(next.ipv4Address == attachment.ipv4Address)
    }

    @Test func staticHostPortIsMappedAndAConflictNamesThePort() throws {
        // Given a container mapped on a static host port, and another port held by a host process
        let manager = try makeManager()
        defer { try? tearDown(manager) }
        let staticPort = configuration.ephemeralPorts.lowerBound + 50
        let heldPort = configuration.ephemeralPorts.lowerBound + 51
        let holder = try HostPortHolder(port: heldPort)
        let first = try manager.attach(
            networkID: "static-1", mode: .bridge, ports: [PortRequest(containerPort: 80, hostPort: staticPort)])
        let server = try NamespaceHTTPServer(namespacePath: try #require(first.namespacePath), body: "static\n")
        defer { server.stop() }
        #expect(first.bindings.map(\.hostPort) == [staticPort])
        #expect(NetworkShell.get("http://127.0.0.1:\(staticPort)/") == "static\n")

        // When another container asks for the mapped port (bridge or host mode), or for the port a host process holds
        // Then each fails naming the port, and leaves nothing behind
        #expect(throws: NetworkError.portInUse(port: staticPort, protocol: "tcp")) {
            try manager.attach(
                networkID: "static-2", mode: .bridge, ports: [PortRequest(containerPort: 80, hostPort: staticPort)])
        }
        #expect(throws: NetworkError.portInUse(port: heldPort, protocol: "tcp")) {
            try manager.attach(
                networkID: "static-3", mode: .bridge, ports: [PortRequest(containerPort: 80, hostPort: heldPort)])
        }
        #expect(throws: NetworkError.portInUse(port: staticPort, protocol: "tcp")) {
            try manager.attach(networkID: "static-host", mode: .host, ports: [PortRequest(containerPort: staticPort)])
        }
        _ = holder
        #expect(manager.attachments().map(\.networkID) == ["static-1"])
        #expect(NetworkShell.bridgePorts(configuration.bridgeName).count == 1)
        #expect(!FileManager.default.fileExists(atPath: "\(configuration.namespaceDirectory)/static-2"))
        #expect(
            "\(NetworkError.portInUse(port: staticPort, protocol: "tcp"))"
                == "host port \(staticPort)/tcp is already in use")
    }

    @Test func twoContainersGetDifferentAddressesAndTalkAcrossTheBridge() throws {
        // Given two bridge containers, the second serving HTTP
        let manager = try makeManager()
        defer { try? tearDown(manager) }
        let a = try manager.attach(networkID: "pair-a", mode: .bridge, ports: [])
        let b = try manager.attach(networkID: "pair-b", mode: .bridge, ports: [])
        let server = try NamespaceHTTPServer(namespacePath: try #require(b.namespacePath), body: "b\n")
        defer { server.stop() }

        // Then their addresses differ, and a reaches b at b's address
        let addressB = try #require(b.ipv4Address)
        #expect(a.ipv4Address != nil && a.ipv4Address != addressB)
        let pathA = try #require(a.namespacePath)
        #expect(NetworkShell.get("http://\(addressB):80/", from: pathA) == "b\n")
        // And a reaches a third container through that one's host port on the gateway address (hairpin NAT)
        let c = try manager.attach(networkID: "pair-c", mode: .bridge, ports: [PortRequest(containerPort: 80)])
        let serverC = try NamespaceHTTPServer(namespacePath: try #require(c.namespacePath), body: "c\n")
        defer { serverC.stop() }
        let hostPort = try #require(c.bindings.first?.hostPort)
        #expect(NetworkShell.get("http://10.251.1.1:\(hostPort)/", from: pathA) == "c\n")
    }

    @Test func awsvpcTaskContainersShareOneNamespaceAndAddress() throws {
        // Given a task in awsvpc mode whose first container maps port 80
        let manager = try makeManager()
        defer { try? tearDown(manager) }
        let first = try manager.attach(networkID: "task-1", mode: .awsvpc, ports: [PortRequest(containerPort: 80)])

        // When its second container attaches with port 8080
        let second = try manager.attach(networkID: "task-1", mode: .awsvpc, ports: [PortRequest(containerPort: 8080)])

        // Then both have the task's namespace and address, and the ports are exposed on that address as they are
        let path = try #require(first.namespacePath)
        let address = try #require(first.ipv4Address)
        #expect(second.namespacePath == path && second.ipv4Address == address)
        #expect(
            second.bindings == [
                NetworkBinding(bindIP: address, containerPort: 80, hostPort: 80, protocol: "tcp"),
                NetworkBinding(bindIP: address, containerPort: 8080, hostPort: 8080, protocol: "tcp"),
            ])
        #expect(NetworkShell.bridgePorts(configuration.bridgeName).count == 1)

        // And two processes in that namespace share the address: a server in one is reached at the task address,
        // and another process there sees the same eth0 address
        let server = try NamespaceHTTPServer(namespacePath: path, port: 8080, body: "task\n")
        defer { server.stop() }
        #expect(NetworkShell.get("http://\(address):8080/") == "task\n")
        #expect(
            NetworkShell.run(["nsenter", "--net=\(path)", "ip", "-4", "-o", "address", "show", "dev", "eth0"]).stdout
                .contains(" \(address)/24 "))
        #expect(!NetworkShell.ruleset().contains("flotilla:task-1"))
    }

    @Test func aRestartedManagerSeesTheAttachmentsAndDetachesThemCleanly() throws {
        // Given an attachment made by one manager
        let before = try makeManager()
        let first = try before.attach(networkID: "keep-1", mode: .bridge, ports: [PortRequest(containerPort: 80)])

        // When a new manager opens the same state directory (an agent restart)
        let after = try makeManager()
        defer { try? tearDown(after) }

        // Then it sees the attachment, never leases its address again, and detaches it without a trace
        #expect(after.attachments() == [first])
        let second = try after.attach(networkID: "keep-2", mode: .bridge, ports: [PortRequest(containerPort: 80)])
        #expect(second.ipv4Address != first.ipv4Address)
        #expect(second.bindings.first?.hostPort != first.bindings.first?.hostPort)
        try after.detach(networkID: "keep-1")
        try after.detach(networkID: "keep-2")
        #expect(NetworkShell.bridgePorts(configuration.bridgeName).isEmpty)
        #expect(!NetworkShell.ruleset().contains("flotilla:keep-"))
        #expect(try makeManager().attachments().isEmpty)
    }

    @Test func anAttachACrashInterruptedIsRolledBackByTheNextManager() throws {
        // Given an attach whose pieces exist but whose record was never marked complete (the agent died mid-attach)
        let crashed = try makeManager()
        let attachment = try crashed.attach(
            networkID: "crash-1", mode: .bridge, ports: [PortRequest(containerPort: 80)])
        let statePath = "\(stateDirectory)/network-attachments.json"
        var json = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: statePath))) as? [String: Any])
        var records = try #require(json["records"] as? [String: Any])
        var record = try #require(records["crash-1"] as? [String: Any])
        record["isComplete"] = false
        records["crash-1"] = record
        json["records"] = records
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: statePath))

        // When the agent restarts
        let restarted = try makeManager()
        defer { try? tearDown(restarted) }

        // Then the half-made attachment is gone without a trace and its lease is free
        #expect(restarted.attachments().isEmpty)
        #expect(NetworkShell.bridgePorts(configuration.bridgeName).isEmpty)
        #expect(!NetworkShell.ruleset().contains("flotilla:crash-1"))
        #expect(!FileManager.default.fileExists(atPath: try #require(attachment.namespacePath)))
        #expect(
            try restarted.attach(networkID: "crash-2", mode: .bridge, ports: []).ipv4Address == attachment.ipv4Address)
    }

    @Test func repeatingAnAttachReturnsTheSameAttachment() throws {
        // Given a bridge attachment with a dynamic port
        let manager = try makeManager()
        defer { try? tearDown(manager) }
        let request = [PortRequest(containerPort: 80)]
        let first = try manager.attach(networkID: "again-1", mode: .bridge, ports: request)

        // When the same request is made again, Then it gets the same attachment and nothing new is made
        #expect(try manager.attach(networkID: "again-1", mode: .bridge, ports: request) == first)
        #expect(NetworkShell.bridgePorts(configuration.bridgeName).count == 1)

        // And a different mode or port set for the same id is refused
        #expect(throws: NetworkError.alreadyAttached(networkID: "again-1")) {
            try manager.attach(networkID: "again-1", mode: .none, ports: [])
        }
        #expect(throws: NetworkError.alreadyAttached(networkID: "again-1")) {
            try manager.attach(networkID: "again-1", mode: .bridge, ports: [PortRequest(containerPort: 81)])
        }
    }

    @Test func aFailedAttachIsRolledBack() throws {
        // Given a working bridge whose nftables table then disappears behind the manager's back
        let manager = try makeManager()
        defer { try? tearDown(manager) }
        _ = try manager.attach(networkID: "ok-1", mode: .bridge, ports: [])
        NetworkShell.run(["nft", "delete", "table", "ip", configuration.tablePrefix])

        // When an attach fails at its last step (adding the DNAT rules)
        #expect(throws: NetworkError.self) {
            try manager.attach(networkID: "broken-1", mode: .bridge, ports: [PortRequest(containerPort: 80)])
        }

        // Then its veth, namespace file and lease are gone, and the earlier attachment is untouched
        #expect(manager.attachments().map(\.networkID) == ["ok-1"])
        #expect(NetworkShell.bridgePorts(configuration.bridgeName).count == 1)
        #expect(!FileManager.default.fileExists(atPath: "\(configuration.namespaceDirectory)/broken-1"))
        let next = try manager.attach(networkID: "ok-2", mode: .bridge, ports: [])
        #expect(next.ipv4Address == "10.251.1.3")
    }
}

/// Request checks that fail before any system change; no root needed.
@Suite(.timeLimit(.minutes(10)))
struct NetworkRequestValidationTests {
    @Test(arguments: [
        ("bad id", ContainerNetworkMode.bridge, [PortRequest](), "networkID"),
        ("ok", .none, [PortRequest(containerPort: 80)], "portMappings"),
        ("ok", .bridge, [PortRequest(containerPort: 0)], "portMappings[0].containerPort"),
        ("ok", .bridge, [PortRequest(containerPort: 80, protocol: "sctp")], "portMappings[0].protocol"),
        ("ok", .bridge, [PortRequest(containerPort: 80, hostPort: 70000)], "portMappings[0].hostPort"),
        ("ok", .awsvpc, [PortRequest(containerPort: 80, hostPort: 81)], "portMappings[0].hostPort"),
        ("ok", .host, [PortRequest(containerPort: 80, hostPort: 81)], "portMappings[0].hostPort"),
        (
            "ok", .bridge, [PortRequest(containerPort: 80), PortRequest(containerPort: 80)],
            "portMappings[1].containerPort"
        ),
        (
            "ok", .bridge,
            [PortRequest(containerPort: 80, hostPort: 9000), PortRequest(containerPort: 81, hostPort: 9000)],
            "portMappings[1].hostPort"
        ),
    ])
    func badRequestNamesTheField(
        networkID: String, mode: ContainerNetworkMode, ports: [PortRequest], field: String
    ) throws {
        // Given a manager on an empty state directory
        let stateDirectory = makeNetworkStateDirectory()
        defer { try? FileManager.default.removeItem(atPath: stateDirectory) }
        let manager = try NetworkManager(
            stateDirectory: stateDirectory, configuration: .test(2), logger: networkTestLogger)

        // When a bad request is made, Then it fails naming the field, and nothing is attached
        let error = #expect(throws: NetworkError.self) {
            try manager.attach(networkID: networkID, mode: mode, ports: ports)
        }
        guard case .invalidRequest(let reported, _) = error else {
            Issue.record("expected invalidRequest, got \(String(describing: error))")
            return
        }
        #expect(reported == field)
        #expect(manager.attachments().isEmpty)
    }

    static let badConfigurations: [(String, NetworkConfiguration)] = {
        var tooLong = NetworkConfiguration.test(2), unaligned = tooLong, tooSmall = tooLong, badTable = tooLong,
            relative = tooLong
        tooLong.bridgeName = "a-name-longer-than-15"
        unaligned.subnet = "10.0.0.1/24"
        tooSmall.subnet = "10.0.0.0/31"
        badTable.tablePrefix = "bad name"
        relative.namespaceDirectory = "relative"
        return [
            ("bridgeName", tooLong), ("subnet", unaligned), ("subnet", tooSmall), ("tablePrefix", badTable),
            ("namespaceDirectory", relative),
        ]
    }()

    @Test(arguments: badConfigurations)
    func badConfigurationNamesTheField(field: String, configuration: NetworkConfiguration) {
        // Given a configuration with one bad field
        // When a manager is made, Then it fails naming the field
        let error = #expect(throws: NetworkError.self) {
            try NetworkManager(
                stateDirectory: makeNetworkStateDirectory(), configuration: configuration, logger: networkTestLogger)
        }
        guard case .invalidConfiguration(let reported, _) = error else {
            Issue.record("expected invalidConfiguration, got \(String(describing: error))")
            return
        }
        #expect(reported == field)
    }
}
