import FlotillaTestKit
import Foundation
import Glibc
import Testing

/// The real `ecs-control-plane`: slow and idle clients cut at their deadlines, the connection cap, a corrupt store.
/// In the serialized process suite: Foundation's `Process` has hung here when two suites launched processes at once.
extension ControlPlaneProcessTests {
    @Test("Slowloris, slow-body and idle connections are closed at their 3 s deadlines while requests are served")
    func slowClients() async throws {
        // Given a control plane with 3 s deadlines (plain HTTP: the attackers write raw HTTP/1.1). (3 s, not 1: the
        // served requests' connections must outlive a loaded machine's stalls between connect and request; at 1 s,
        // under `stress --cpu 2`, one was cut before it had sent its head.)
        let server = try await ControlPlaneProcess(arguments: [
            "--header-timeout", "3s", "--body-timeout", "3s", "--idle-timeout", "3s", "--insecure-plain-http",
        ])
        defer { server.terminate() }
        // When the three attackers play at once
        async let slowloris = SlowClients.slowlorisIsCut(port: server.port)
        async let slowBody = SlowClients.slowBodyIsCut(port: server.port)
        async let idle = SlowClients.idleIsClosed(port: server.port)
        // Then normal requests are served meanwhile
        #expect(try await server.call("CreateCluster", #"{"clusterName": "served"}"#).status == 200)
        // and each attacker's connection is closed
        #expect(try await slowloris)
        #expect(try await slowBody)
        #expect(try await idle)
        #expect(try await server.call("ListClusters").status == 200)
    }

    @Test("A connection beyond --max-connections is answered 503 and closed; open ones are still served")
    func connectionCap() async throws {
        let server = try await ControlPlaneProcess(arguments: [
            "--max-connections", "3", "--header-timeout", "60s", "--idle-timeout", "60s", "--insecure-plain-http",
        ])
        defer { server.terminate() }
        // When 3 connections are open and a 4th comes
        let (refusal, admitted, served) = try await SlowClients.beyondCap(port: server.port, maxConnections: 3)
        #expect((1...3).contains(admitted))
        // Then the 4th reads a clear refusal, and an open one is served
        #expect(refusal.hasPrefix("HTTP/1.1 503"))
        #expect(refusal.contains("ServiceUnavailableException"))
        #expect(refusal.contains("maximum of 3 connections"))
        #expect(served)
    }

    @Test("Under TLS, a client that never finishes its handshake is closed at the 3 s header deadline")
    func stalledHandshake() async throws {
        // Given a TLS control plane with a 3 s header deadline (a served client's handshake must fit in it on a loaded
        // machine too)
        let server = try await ControlPlaneProcess(arguments: ["--header-timeout", "3s"])
        defer { server.terminate() }
        // When a client connects and sends nothing (nor a ClientHello)
        async let stalled = SlowClients.silentIsClosed(port: server.port)
        // Then it is closed, and TLS clients are served meanwhile
        #expect(try await server.call("CreateCluster", #"{"clusterName": "served"}"#).status == 200)
        #expect(try await stalled)
    }

    @Test("A database corrupted in the middle: one line on stderr naming the file, exit status 1")
    func corruptDatabase() async throws {
        // Given a store with data, stopped cleanly (its WAL checkpointed into the file)
        let first = try await ControlPlaneProcess()
        for index in 0..<40 {
            let body =
                #"{"family": "fam\#(index)", "containerDefinitions": [{"name": "c", "image": "busybox", "memory": 32, "environment": [{"name": "PAD", "value": "\#(String(repeating: "p", count: 2000))"}]}]}"#
            #expect(try await first.call("RegisterTaskDefinition", body).status == 200)
        }
        first.send(SIGTERM)
        defer { first.terminate() }
        // (Corrupting a file the first process still has open would test nothing.)
        try #require(await first.waitForExit(within: .seconds(30)) == 0)
        // When every page but the first (the header and schema) is overwritten with garbage
        let path = first.dataDirectory.appendingPathComponent("flotilla.sqlite").path
        let handle = try #require(FileHandle(forUpdatingAtPath: path))
        let size = try handle.seekToEnd()
        #expect(size > 8192)
        try handle.seek(toOffset: 4096)
        var garbage = SplitMix64(seed: 7)
        try handle.write(contentsOf: Data((4096..<Int(size)).map { _ in UInt8(truncatingIfNeeded: garbage.next()) }))
        try handle.close()
        // Then the control plane refuses to start, in one line
        // (A control plane that starts anyway must not hang the test: killed after 30 s.)
        let run = try await HostCommand.runToCompletion(
            [
                ControlPlaneProcess.binary.path, "--listen", "127.0.0.1:\(try freePort())", "--data-dir",
                first.dataDirectory.path,
            ],
            killAfter: .seconds(30))
        #expect(run.status == 1)
        let text = run.stderr
        let lines = text.split(separator: "\n")
        #expect(lines.count == 1)
        #expect(text.contains("flotilla.sqlite"))
        #expect(text.contains("corrupt"))
    }
}
