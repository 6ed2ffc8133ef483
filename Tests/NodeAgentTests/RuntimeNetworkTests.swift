import FlotillaTestKit
import Foundation
import Logging
import Synchronization
import Testing
@testable import NodeAgent
#if canImport(Glibc)
import Glibc
#endif

@Suite(
    "Namespace runtime with the NetworkManager", .enabled(if: getuid() == 0), .serialized,
    .timeLimit(.minutes(10)))
struct RuntimeNetworkTests {
    /// A bridge, subnet and nftables table of this suite's own, so other suites' networks are never touched.
    static func configuration() -> NetworkConfiguration {
        var configuration = NetworkConfiguration()
        configuration.bridgeName = "flrt0"
        configuration.subnet = "172.31.200.0/24"
        configuration.tablePrefix = "flrt"
        configuration.namespaceDirectory = "/run/flotilla-rt/netns"
        return configuration
    }

    /// A runtime fixture whose containers get their networks from a `NetworkManager` with `configuration()`.
    static func networkedRuntime() throws -> (RuntimeFixture, NetworkManager, ContainerRuntime) {
        let fixture = try RuntimeFixture()
        let networks = try NetworkManager(
            stateDirectory: fixture.root + "/network", configuration: configuration(),
            logger: Logger(label: "test.network"))
        let runtime = try ContainerRuntime(
            dataDirectory: fixture.root + "/data-net", networks: networks,
            logger: Logger(label: "test.runtime"))
        return (fixture, networks, runtime)
    }

    @Test func aMappedPortReachesBusyboxHttpdAndDeleteLeavesNoVethOrRule() async throws {
        let (fixture, networks, runtime) = try Self.networkedRuntime()
        defer { try? networks.removeHostNetworking() }
        // Given busybox httpd in a bridge-networked container with container port 8080 on a dynamic host port
        let info = try await runtime.create(
            fixture.spec([
                "sh", "-c",
                """
                mkdir -p /tmp/www && echo hello-from-httpd > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www
                """,
            ]) {
                $0.networkMode = .bridge
                $0.portMappings = [PortRequest(containerPort: 8080, hostPort: 0)]
            })
        try await runtime.start(info.id)
        let attachment = try #require(info.network)
        let binding = try #require(attachment.bindings.first)
        #expect(binding.containerPort == 8080 && binding.hostPort >= 32768)
        // When the host connects to the host port on loopback
        let response = await eventually(within: .seconds(10), every: .milliseconds(100)) {
            await httpGet("http://127.0.0.1:\(binding.hostPort)/index.html")
        }
        // Then busybox httpd in the container answers (200)
        #expect(response?.contains("hello-from-httpd") == true)
        // And the container sees its own address on eth0
        let addresses = try await runtime.exec(info.id, arguments: ["ip", "-o", "-4", "addr", "show", "dev", "eth0"])
        #expect(String(decoding: addresses.standardOutput, as: UTF8.self).contains(attachment.ipv4Address ?? "?"))

        // When the container is deleted
        try await runtime.delete(info.id, force: true)
        // Then no veth is left on the bridge, no DNAT rule for the port, no namespace file
        #expect(Self.output(["ip", "-o", "link", "show", "master", "flrt0"]).isEmpty)
        #expect(!Self.output(["nft", "list", "table", "ip", "flrt"]).contains("dport \(binding.hostPort)"))
        #expect(!FileManager.default.fileExists(atPath: attachment.namespacePath ?? "/nonexistent"))
        #expect(networks.attachments().isEmpty)
        await fixture.cleanUp()
    }

    @Test func noneModeHasOnlyLoopback() async throws {
        let (fixture, networks, runtime) = try Self.networkedRuntime()
        defer { try? networks.removeHostNetworking() }
        let info = try await runtime.create(
            fixture.spec(["sh", "-c", "ls /sys/class/net | tr '\\n' ' '"]) {
                $0.networkMode = ContainerNetworkMode.none
            })
        try await runtime.start(info.id)
        _ = try await runtime.wait(info.id)
        #expect(try String(contentsOfFile: info.stdoutLogPath, encoding: .utf8) == "lo ")
        try await runtime.delete(info.id)
        #expect(networks.attachments().isEmpty)
        await fixture.cleanUp()
    }

    @Test func aBridgeContainerCannotReachAServiceOnTheHostsLoopback() async throws {
        let (fixture, networks, runtime) = try Self.networkedRuntime()
        defer { try? networks.removeHostNetworking() }
        // Given a service bound to 127.0.0.1 only on the host (it accepts and hangs up)
        let server = try #require(LoopbackServer())
        defer { server.stop() }
        // And a bridge container whose network namespace sends 127.0.0.1 to the bridge, as a container with NET_RAW
        // can by writing the frames itself (set up from outside here, with the tools busybox has): the kernel
        // accepts them on the host because the bridge has route_localnet for 127.0.0.1:hostPort DNAT
        let info = try await runtime.create(fixture.spec(["sleep", "600"]) { $0.networkMode = .bridge })
        try await runtime.start(info.id)
        let attachment = try #require(info.network)
        let namespace = try #require(attachment.namespacePath)
        let gateway = try #require(attachment.gateway)
        for command in [
            ["sysctl", "-qw", "net.ipv4.conf.all.route_localnet=1"],
            ["sysctl", "-qw", "net.ipv4.conf.eth0.route_localnet=1"],
            // the local table (where 127.0.0.1 is the namespace's own lo) moves behind a rule sending it out eth0
            ["ip", "rule", "add", "pref", "100", "lookup", "local"],
            ["ip", "rule", "del", "pref", "0"],
            ["ip", "rule", "add", "pref", "10", "to", "127.0.0.1", "lookup", "100"],
            ["ip", "route", "add", "127.0.0.1/32", "via", gateway, "dev", "eth0", "table", "100"],
        ] {
            #expect(Self.status(["nsenter", "--net=\(namespace)"] + command) == 0, "\(command)")
        }
        let connect = ["sh", "-c", "nc -w 2 127.0.0.1 \(server.port) </dev/null && echo connected || echo refused"]

        // When the container connects to 127.0.0.1:port
        let blocked = try await runtime.exec(info.id, arguments: connect)
        // Then the host drops it (Flotilla's input rule): nothing connects, the listener accepted nothing
        #expect(String(decoding: blocked.standardOutput, as: UTF8.self) == "refused\n")
        #expect(server.accepted.load(ordering: .relaxed) == 0)

        // And without that rule the same packets do reach the host's loopback service: the rule is what stops them
        #expect(Self.status(["nft", "flush", "chain", "ip", "flrt", "input"]) == 0)
        let open = try await runtime.exec(info.id, arguments: connect)
        #expect(String(decoding: open.standardOutput, as: UTF8.self) == "connected\n")
        #expect(server.accepted.load(ordering: .relaxed) == 1)

        try await runtime.delete(info.id, force: true)
        await fixture.cleanUp()
    }

    static func status(_ arguments: [String]) -> Int32 {
        (try? HostCommand.run(arguments, environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin"]))?.status ?? -1
    }

    static func output(_ arguments: [String]) -> String {
        (try? HostCommand.run(arguments, environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin"]))?.stdout ?? ""
    }
}

/// A TCP server on 127.0.0.1 (port chosen by the kernel) that accepts each connection and hangs up at once, on a
/// thread of its own; counts what it accepted.
final class LoopbackServer: Sendable {
    let fd: Int32
    let port: Int
    let accepted = Atomic<Int>(0)

    init?() {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && listen(fd, 8) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else {
            close(fd)
            return nil
        }
        self.fd = fd
        self.port = Int(UInt16(bigEndian: address.sin_port))
        Thread.detachNewThread { [self] in
            while true {
                let connection = accept(fd, nil, nil)
                if connection < 0 {
                    if errno == EINTR { continue }
                    return  // shut down
                }
                accepted.add(1, ordering: .relaxed)
                close(connection)
            }
        }
    }

    /// Wakes the accepting thread (shutdown makes accept fail) and closes the socket.
    func stop() {
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
    }
}
