import Foundation
import Logging
import Testing
@testable import NodeAgent
#if canImport(Glibc)
import Glibc
#endif

@Suite("Namespace runtime with the NetworkManager", .enabled(if: getuid() == 0), .serialized,
       .timeLimit(.minutes(3)))
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

    @Test func aMappedPortReachesBusyboxHttpdAndDeleteLeavesNoVethOrRule() async throws {
        let fixture = try RuntimeFixture()
        let networks = try NetworkManager(stateDirectory: fixture.root + "/network", configuration: Self.configuration(),
                                          logger: Logger(label: "test.network"))
        let runtime = try ContainerRuntime(dataDirectory: fixture.root + "/data-net", networks: networks,
                                           logger: Logger(label: "test.runtime"))
        defer { try? networks.removeHostNetworking() }
        // Given busybox httpd in a bridge-networked container with container port 8080 on a dynamic host port
        let info = try await runtime.create(fixture.spec(["sh", "-c", """
            mkdir -p /tmp/www && echo hello-from-httpd > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www
            """]) {
                $0.networkMode = .bridge
                $0.portMappings = [PortRequest(containerPort: 8080, hostPort: 0)]
            })
        try await runtime.start(info.id)
        let attachment = try #require(info.network)
        let binding = try #require(attachment.bindings.first)
        #expect(binding.containerPort == 8080 && binding.hostPort >= 32768)
        // When the host connects to the host port on loopback
        var response = ""
        for _ in 0..<50 where !response.contains("hello-from-httpd") {
            response = Self.httpGet(port: binding.hostPort)
            if !response.contains("hello-from-httpd") { try await Task.sleep(for: .milliseconds(100)) }
        }
        // Then busybox httpd in the container answers
        #expect(response.contains("200 OK"))
        #expect(response.contains("hello-from-httpd"))
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
        let fixture = try RuntimeFixture()
        let networks = try NetworkManager(stateDirectory: fixture.root + "/network", configuration: Self.configuration(),
                                          logger: Logger(label: "test.network"))
        let runtime = try ContainerRuntime(dataDirectory: fixture.root + "/data-net", networks: networks,
                                           logger: Logger(label: "test.runtime"))
        defer { try? networks.removeHostNetworking() }
        let info = try await runtime.create(fixture.spec(["sh", "-c", "ls /sys/class/net | tr '\\n' ' '"]) {
            $0.networkMode = ContainerNetworkMode.none
        })
        try await runtime.start(info.id)
        _ = try await runtime.wait(info.id)
        #expect(try String(contentsOfFile: info.stdoutLogPath, encoding: .utf8) == "lo ")
        try await runtime.delete(info.id)
        #expect(networks.attachments().isEmpty)
        await fixture.cleanUp()
    }

    static func output(_ arguments: [String]) -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return "" }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    /// GET / from 127.0.0.1:port; "" if the connection fails.
    static func httpGet(port: Int) -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return "" }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { return "" }
        let request = "GET /index.html HTTP/1.0\r\nHost: localhost\r\n\r\n"
        _ = request.withCString { send(fd, $0, strlen($0), 0) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, 4096, 0) }
            if n <= 0 { break }
            bytes += buffer[0..<n]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
