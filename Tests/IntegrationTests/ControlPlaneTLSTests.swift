import ECSVocabulary
import FlotillaClient
import FlotillaTestKit
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Glibc
import SigV4
import TaskDefinitions
import Testing

/// The real `ecs-control-plane`'s TLS: its own cluster CA on a fresh data dir, the CA's hash in its log and join
/// tokens, clients that do not trust the CA refused, plain HTTP only on loopback.
/// In the serialized process suite: Foundation's `Process` has hung here when two suites launched processes at once.
extension ControlPlaneProcessTests {
    @Test("A fresh data dir gets a cluster CA and server certificate (0600), logged once with its hash, kept across restarts")
    func clusterCA() async throws {
        // Given a data dir with no CA (not the test kit's: the control plane makes its own)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("flotilla-cp-ca-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let port = try freePort()
        var environment = ProcessInfo.processInfo.environment
        environment["FLOTILLA_ADMIN_ACCESS_KEY_ID"] = TestAccessKeys.administrator.accessKeyID
        environment["FLOTILLA_ADMIN_SECRET_ACCESS_KEY"] = TestAccessKeys.administrator.secretAccessKey
        let daemon = DaemonProcess(
            arguments: [
                ControlPlaneProcess.binary.path, "--listen", "127.0.0.1:\(port)", "--data-dir", directory.path,
                "--log-level", "info",
            ],
            environment: environment, logFile: directory.path + ".log")
        defer { try? FileManager.default.removeItem(atPath: directory.path + ".log") }
        let caFile = directory.appendingPathComponent("ca.pem").path

        // When it starts, and again after kill -9
        var hashes: [String] = []
        for start in 0..<2 {
            try daemon.start()
            defer { daemon.kill9() }
            let transport = try #require(
                await eventually(within: .seconds(15)) { () -> HTTPTransport? in
                    guard FileManager.default.fileExists(atPath: caFile) else { return nil }
                    return try? HTTPTransport(trust: .caBundle(path: caFile))
                })
            let healthy = await eventually(within: .seconds(15), every: .milliseconds(50)) {
                let answer = try? await transport.send(
                    URLRequest(url: URL(string: "https://127.0.0.1:\(port)/healthz")!), timeout: .seconds(2))
                return answer?.statusCode == 200
            }
            #expect(healthy, "\(daemon.logTail())")
            // Then the CA, its key, the server certificate and key are there, 0600, and the log names the CA's
            // path and hash: on the first start as created, after as served
            for name in ["ca.pem", "ca-key.pem", "server.pem", "server-key.pem"] {
                let attributes = try FileManager.default.attributesOfItem(
                    atPath: directory.appendingPathComponent(name).path)
                #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600, "\(name)")
            }
            let hash = try #require(HTTPTransport.caCertHash(ofPEMFile: caFile))
            hashes.append(hash)
            let log = daemon.log
            #expect(log.components(separatedBy: "cluster CA created").count - 1 == 1, "\(log)")
            #expect(log.contains(hash) && log.contains(caFile))
            if start == 1 { #expect(log.contains("serving TLS from the cluster CA")) }
            // And a client trusting another CA (the test kit's) refuses this server
            do {
                _ = try await TestPKI.transport.send(
                    URLRequest(url: URL(string: "https://127.0.0.1:\(port)/healthz")!), timeout: .seconds(5))
                Issue.record("a client without the cluster's CA was answered")
            } catch {
                #expect("\(error)".contains("the server's certificate is not signed by"), "\(error)")
            }
        }
        // And the restart kept the CA
        #expect(hashes.count == 2 && hashes[0] == hashes[1])
    }

    @Test("Join tokens carry the CA's hash; the certificate is for 127.0.0.1 and localhost")
    func joinTokenCarriesTheCAHash() async throws {
        // Given a control plane serving HTTPS from the test CA
        let server = try await ControlPlaneProcess()
        defer { server.terminate() }
        _ = try await server.call("CreateCluster", #"{"clusterName": "default"}"#)
        // When a join token is made
        let (status, body) = try await server.post(TargetPrefix.agent.target("CreateJoinToken"), "{}")
        #expect(status == 200)
        let answer = try JSONDecoder().decode(JSONValue.self, from: body)
        // Then it ends with the CA's hash, also answered alone
        #expect(answer["joinToken"]?.stringValue?.hasSuffix(".\(TestPKI.caCertHash)") == true, "\(answer)")
        #expect(answer["caCertHash"]?.stringValue == TestPKI.caCertHash)
        // And the server is verified by name as well as by address
        let byName = try await TestPKI.transport.send(
            URLRequest(url: URL(string: "https://localhost:\(server.port)/healthz")!), timeout: .seconds(5))
        #expect(byName.statusCode == 200)
    }

    @Test("The client transport reuses its keep-alive TLS connection: ten calls, one connection")
    func keepAlive() async throws {
        // Given a control plane and a new transport trusting its CA
        let server = try await ControlPlaneProcess()
        defer { server.terminate() }
        let transport = try HTTPTransport(trust: .caBundle(path: TestPKI.caBundle))
        let client = ECSClient(
            endpoint: URL(string: server.endpoint)!, credentials: TestAccessKeys.administrator, transport: transport)
        // When it makes ten calls one after the other
        for _ in 0..<10 { _ = try await client.call(.listClusters) }
        // Then the server holds two connections: this transport's one and the test kit's (health checks, metrics)
        let metrics = try #require(await httpGet("\(server.endpoint)/metrics"))
        let open = metrics.split(separator: "\n")
            .first { $0.hasPrefix("flotilla_http_open_connections") && $0.contains(#"server="control-plane""#) }
            .flatMap { $0.split(separator: " ").last }.flatMap { Double($0) }
        #expect(open == 2, "\(metrics)")
    }

    @Test("--insecure-plain-http is refused at start unless --listen is loopback")
    func plainHTTPOnlyOnLoopback() async throws {
        // When the control plane is asked for plain HTTP on every interface
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("flotilla-cp-plain-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let refused = try await HostCommand.runToCompletion(
            [
                ControlPlaneProcess.binary.path, "--listen", "0.0.0.0:0", "--data-dir", directory.path,
                "--insecure-plain-http",
            ], killAfter: .seconds(30))
        // Then it does not start, and says why in one line
        #expect(refused.status != 0)
        #expect(
            refused.stderr.contains("--insecure-plain-http: only for a control plane listening on loopback"),
            "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("flotilla.sqlite").path))
    }
}
