import FlotillaTestKit
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The ground the e2e suite stands on, without an agent daemon: network-namespace hosts on a test bridge, the runtime
/// serving a bridge container's published port on a host's address, the control plane reachable from inside a host,
/// and cutting a host off.
@Suite("E2E ground: network-namespace hosts", .enabled(if: getuid() == 0), .serialized, .timeLimit(.minutes(10)))
struct E2EGroundTests {
    @Test func bridgeContainerInAHostAnswersOnTheHostsAddress() async throws {
        let lab = try NetnsLab()
        defer { lab.tearDown() }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fl-e2e-ground-\(lab.run)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // Given host 1 of a lab with busybox imported in an agent data directory
        let host = try lab.addHost(1)
        let agent = try AgentProcess(
            host: host, endpoint: "http://\(lab.gatewayAddress):1", cluster: "ground",
            joinToken: "unused", dataDirectory: directory + "/agent")
        defer { agent.destroy() }
        try HostCommand.check([
            HostCommand.debugBinaries + "/ecs-agent", "runtime", "make-busybox-image", directory + "/busybox.tar",
        ])
        try agent.importImage(directory + "/busybox.tar")

        // When the runtime CLI runs busybox httpd in bridge mode inside the host, port 80 published on a dynamic port
        let run = try agent.runtime(
            "run",
            [
                "--detach", "--network", "bridge", "-p", "0:80", "flotilla/busybox:1",
                "sh", "-c", "echo ground > /var/www/index.html; exec httpd -f -p 80 -h /var/www",
            ])
        #expect(run.succeeded, "\(run.stderr)")
        let binding = try #require(run.stderr.split(separator: "\n").first { $0.hasSuffix("-> 80/tcp") })
        let hostPort = try #require(Int(binding.split(separator: " ")[0].split(separator: ":").last ?? ""))

        // Then the root namespace reaches it at <host address>:<hostPort> (bounded: 15 s)
        let body = await eventually(within: .seconds(15)) { await httpGet("http://\(host.address):\(hostPort)/") }
        #expect(body == "ground\n")
        // And the runtime created its container where the harness looks for it, running
        #expect(agent.runningContainers().count == 1)
    }

    @Test func controlPlaneOnTheBridgeAnswersFromInsideAHost() async throws {
        let lab = try NetnsLab()
        defer { lab.tearDown() }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fl-e2e-ground-cp-\(lab.run)")
            .path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // Given the control plane listening on the lab's bridge address, and host 1
        let controlPlane = try await ControlPlaneProcess(
            address: lab.gatewayAddress, dataDirectory: URL(fileURLWithPath: directory))
        defer { controlPlane.terminate() }
        let host = try lab.addHost(1)
        let healthz = [
            "curl", "-fsS", "--max-time", "2", "--cacert", TestPKI.caBundle, "\(controlPlane.endpoint)/healthz",
        ]

        // When curl inside the host asks /healthz
        let inside = try host.run(healthz)
        // Then it answers
        #expect(inside.succeeded, "\(inside.stderr)")

        // When the host is cut off
        try host.cutOff()
        // Then the control plane is unreachable from it
        #expect(try !host.run(healthz).succeeded)

        // When it is reconnected, it answers again (bounded: 10 s)
        try host.reconnect()
        let back = await eventually(within: .seconds(10)) { (try? host.run(healthz))?.succeeded == true ? true : nil }
        #expect(back == true)
    }

    @Test func teardownLeavesNoNamespaceBridgeOrLock() async throws {
        // Given a lab with two hosts
        let lab = try NetnsLab()
        _ = try lab.addHost(1)
        _ = try lab.addHost(2)
        // When it is torn down
        lab.tearDown()
        // Then none of its namespaces, its bridge or its lock remain
        let namespaces = try HostCommand.check(["ip", "netns", "list"])
        #expect(!namespaces.contains("\(lab.name)-"))
        #expect(!(try HostCommand.run(["ip", "link", "show", "dev", lab.name])).succeeded)
        #expect(!FileManager.default.fileExists(atPath: "/run/flotilla-e2e/\(lab.run).lock"))
    }
}
