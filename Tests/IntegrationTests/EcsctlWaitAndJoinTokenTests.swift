import FlotillaClient
import FlotillaTestKit
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import TaskDefinitions
import Testing

/// `ecsctl create-join-token`, `list-join-tokens`, `delete-join-token`, `get-join-token`, `rotate-join-token`,
/// `wait services-stable` and `--wait` against the real control plane.
@Suite(.serialized, .timeLimit(.minutes(10)))
struct EcsctlWaitAndJoinTokenTests {
    let webTaskDefinition = ControlPlaneProcess.repositoryRoot.appendingPathComponent("examples/taskdefs/web.json")

    /// `FlotillaAgentV1.Register` as an agent sends it; answers the HTTP status and the error type.
    func register(
        _ controlPlane: ControlPlaneProcess, cluster: String, joinToken: String
    ) async throws -> (Int, String?) {
        var request = URLRequest(url: URL(string: controlPlane.endpoint)!)
        request.httpMethod = "POST"
        request.setValue("FlotillaAgentV1.Register", forHTTPHeaderField: "X-Amz-Target")
        request.setValue("application/x-amz-json-1.1", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(
            """
            {"cluster": "\(cluster)", "joinToken": "\(joinToken)", "hostname": "host-a", "resources": {"cpu": 1024, "memory": 1024}}
            """.utf8)
        let response = try await TestPKI.transport.send(request, timeout: .seconds(30))
        let body = try? JSONDecoder().decode(JSONValue.self, from: response.body)
        return (response.statusCode, body?["__type"]?.stringValue)
    }

    /// `<6 lowercase alnum>.<32 lowercase alnum>.sha256:<the test CA's hash>`: what create-join-token and
    /// get-join-token print.
    func isJoinToken(_ text: String) -> Bool {
        guard text.hasSuffix("." + TestPKI.caCertHash) else { return false }
        let text = String(text.dropLast(TestPKI.caCertHash.count + 1))
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        let alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
        return parts.count == 2 && parts[0].count == 6 && parts[1].count == 32
            && text.allSatisfy { $0 == "." || alphabet.contains($0) }
    }

    @Test func getJoinTokenPrintsANewTokenAloneAndRotationRetiresTheOldOnes() async throws {
        // Given a running control plane with a cluster
        let controlPlane = try await ControlPlaneProcess()
        defer { controlPlane.terminate() }
        let endpoint = controlPlane.endpoint
        #expect(try await ecsctl(["create-cluster", "--cluster-name", "demo"], endpoint: endpoint).status == 0)

        // When the join token is printed
        let got = try await ecsctl(["get-join-token", "--cluster", "demo"], endpoint: endpoint)
        #expect(got.status == 0, "\(got.stderr)")
        // Then stdout is the token alone, and an agent registers with it
        let token = got.stdout.trimmingCharacters(in: .newlines)
        #expect(got.stdout == token + "\n")
        #expect(isJoinToken(token), "\(token)")
        #expect(try await register(controlPlane, cluster: "demo", joinToken: token).0 == 200)
        // And each call makes another token, which works too
        let again = try await ecsctl(["get-join-token", "--cluster", "demo"], endpoint: endpoint)
        let second = again.stdout.trimmingCharacters(in: .newlines)
        #expect(isJoinToken(second) && second != token)

        // When the tokens are rotated
        let rotated = try await ecsctl(["rotate-join-token", "--cluster", "demo"], endpoint: endpoint)
        #expect(rotated.status == 0, "\(rotated.stderr)")
        let newToken = rotated.stdout.trimmingCharacters(in: .newlines)
        // Then a different token is printed, the old ones no longer register, the new one does
        #expect(isJoinToken(newToken) && newToken != token && newToken != second)
        for old in [token, second] {
            let refused = try await register(controlPlane, cluster: "demo", joinToken: old)
            #expect(refused.0 == 403 && refused.1 == "AccessDeniedException")
        }
        #expect(try await register(controlPlane, cluster: "demo", joinToken: newToken).0 == 200)

        // And a cluster that does not exist is one line and the API's exit status
        let missing = try await ecsctl(["get-join-token", "--cluster", "nope"], endpoint: endpoint)
        #expect(missing.status == 254)
        #expect(missing.stderrLines.count == 1 && missing.stderr.contains("ClusterNotFoundException"))
    }

    @Test func createListAndDeleteJoinTokensAndAUsedUpTokenIsRefused() async throws {
        // Given a running control plane with a cluster
        let controlPlane = try await ControlPlaneProcess()
        defer { controlPlane.terminate() }
        let endpoint = controlPlane.endpoint
        #expect(try await ecsctl(["create-cluster", "--cluster-name", "demo"], endpoint: endpoint).status == 0)

        // When a one-use token is created
        let created = try await ecsctl(
            ["create-join-token", "--cluster", "demo", "--ttl", "1h30m", "--uses", "1", "--description", "rack 4"],
            endpoint: endpoint)
        // Then it is printed alone, and the list shows its id, one use and its description, not its secret
        #expect(created.status == 0, "\(created.stderr)")
        let token = created.stdout.trimmingCharacters(in: .newlines)
        #expect(created.stdout == token + "\n" && isJoinToken(token), "\(created.stdout)")
        let id = String(token.prefix(6)), secret = String(token.dropFirst(7))
        let listed = try await ecsctl(["list-join-tokens", "--cluster", "demo"], endpoint: endpoint)
        #expect(listed.status == 0, "\(listed.stderr)")
        #expect(listed.stdout.hasPrefix("TOKEN ID"))
        let row = try #require(listed.stdout.split(separator: "\n").first { $0.hasPrefix(id) })
        #expect(row.contains("  1  ") && row.hasSuffix("rack 4"), "\(row)")
        #expect(!listed.stdout.contains(secret))
        let json = try await ecsctl(["list-join-tokens", "--cluster", "demo", "--output", "json"], endpoint: endpoint)
        #expect(json.stdout.contains(id) && !json.stdout.contains(secret))

        // When one agent joins with it and a second tries
        #expect(try await register(controlPlane, cluster: "demo", joinToken: token).0 == 200)
        let spent = try await register(controlPlane, cluster: "demo", joinToken: token)
        // Then the running control plane refuses the second, and the spent token leaves the list
        #expect(spent.0 == 403 && spent.1 == "AccessDeniedException")
        let after = try await ecsctl(["list-join-tokens", "--cluster", "demo"], endpoint: endpoint)
        #expect(!after.stdout.contains(id))

        // When an unlimited token is deleted by the whole token (only its id is sent)
        let other = try await ecsctl(["create-join-token", "--cluster", "demo"], endpoint: endpoint)
        let otherToken = other.stdout.trimmingCharacters(in: .newlines)
        let deleted = try await ecsctl(
            ["delete-join-token", "--cluster", "demo", "--token-id", otherToken], endpoint: endpoint)
        // Then it is gone, refused, and deleting it again is one line naming the id
        #expect(deleted.status == 0, "\(deleted.stderr)")
        #expect(deleted.stdout == "\(otherToken.prefix(6)) deleted\n")
        let refused = try await register(controlPlane, cluster: "demo", joinToken: otherToken)
        #expect(refused.0 == 403 && refused.1 == "AccessDeniedException")
        let again = try await ecsctl(
            ["delete-join-token", "--cluster", "demo", "--token-id", String(otherToken.prefix(6))], endpoint: endpoint)
        #expect(again.status == 254)
        #expect(again.stderrLines.count == 1 && again.stderr.contains("ResourceNotFoundException"))

        // And bad limits are usage errors before any call
        for arguments in [
            ["--ttl", "8d"], ["--ttl", "169h"], ["--ttl", "0s"], ["--uses", "0"], ["--uses", "1001"],
        ] {
            let bad = try await ecsctl(["create-join-token", "--cluster", "demo"] + arguments, endpoint: endpoint)
            #expect(bad.status == 252, "\(arguments): \(bad.stderr)")
        }
    }

    @Test func waiterReturnsForAStableServiceAndTimesOutForOneThatCannotBePlaced() async throws {
        // Given a cluster without instances, a service of 0 tasks and one of 1
        let controlPlane = try await ControlPlaneProcess()
        defer { controlPlane.terminate() }
        let endpoint = controlPlane.endpoint
        #expect(try await ecsctl(["create-cluster", "--cluster-name", "demo"], endpoint: endpoint).status == 0)
        #expect(
            try await ecsctl(
                ["register-task-definition", "--cli-input-json", "file://\(webTaskDefinition.path)"],
                endpoint: endpoint
            ).status == 0)

        // When a service of 0 tasks is created with --wait
        let idle = try await ecsctl(
            [
                "create-service", "--cluster", "demo", "--service-name", "idle", "--task-definition", "web",
                "--desired-count", "0", "--wait",
            ], endpoint: endpoint)
        // Then it is steady at once: the table on stdout, the progress on stderr, exit 0
        #expect(idle.status == 0, "\(idle.stderr)")
        #expect(idle.stdout.contains("idle  ACTIVE"))
        #expect(idle.stderr.contains("idle: 0 desired, 0 running, 0 pending, 1 deployment\n"))
        #expect(idle.stderr.hasSuffix("idle: steady state\n"))
        let waited = try await ecsctl(
            ["wait", "services-stable", "--cluster", "demo", "--services", "idle"], endpoint: endpoint)
        #expect(waited.status == 0, "\(waited.stderr)")
        #expect(waited.stdout.isEmpty && waited.stderr.isEmpty)
        // And the endpoint may come before the two-word verb, as the awscli allows
        let leading = try await ecsctl([
            "--endpoint-url", endpoint, "wait", "services-stable", "--cluster", "demo", "--services", "idle",
        ])
        #expect(leading.status == 0, "\(leading.stderr)")

        // When a service of 1 task has nowhere to run and is waited for briefly
        #expect(
            try await ecsctl(
                [
                    "create-service", "--cluster", "demo", "--service-name", "busy", "--task-definition", "web",
                    "--desired-count", "1",
                ], endpoint: endpoint
            ).status == 0)
        let stuck = try await ecsctl(
            [
                "wait", "services-stable", "--cluster", "demo", "--services", "idle", "busy",
                "--timeout", "2", "--delay", "1",
            ], endpoint: endpoint)
        // Then the waiter gives up as the awscli's does: one line, exit 255
        #expect(stuck.status == 255)
        #expect(stuck.stderrLines.count == 1)
        #expect(stuck.stderr.hasPrefix("ecsctl: Waiter ServicesStable failed: Max attempts exceeded"))
        #expect(stuck.stderr.contains("busy") && !stuck.stderr.contains("idle"))

        // When the stable service is scaled up with --wait
        let scaled = try await ecsctl(
            [
                "update-service", "--cluster", "demo", "--service", "idle", "--desired-count", "1",
                "--wait", "--wait-timeout", "2",
            ], endpoint: endpoint)
        // Then the progress shows the new counts before the waiter gives up
        #expect(scaled.status == 255)
        #expect(scaled.stdout.contains("idle  ACTIVE  1"))
        #expect(scaled.stderr.contains("idle: 1 desired, 0 running, 0 pending, 1 deployment\n"))
        #expect(
            scaled.stderrLines.last?.hasPrefix("ecsctl: Waiter ServicesStable failed: Max attempts exceeded") == true)

        // When a service that does not exist is waited for
        let missing = try await ecsctl(
            ["wait", "services-stable", "--cluster", "demo", "--services", "nope"], endpoint: endpoint)
        // Then it fails at once, naming it
        #expect(missing.status == 255)
        #expect(
            missing.stderr
                == "ecsctl: Waiter ServicesStable failed: Waiter encountered a terminal failure state: service nope is MISSING\n"
        )
    }

    @Test func execAndLogsNeedARunningTaskAndSayWhyNot() async throws {
        // Given a cluster where a task cannot exist
        let controlPlane = try await ControlPlaneProcess()
        defer { controlPlane.terminate() }
        let endpoint = controlPlane.endpoint
        #expect(try await ecsctl(["create-cluster", "--cluster-name", "demo"], endpoint: endpoint).status == 0)
        // When exec and logs name an unknown task
        let exec = try await ecsctl(
            ["exec", "--cluster", "demo", "--task", "0123abcd", "--", "ls", "/"], endpoint: endpoint)
        let logs = try await ecsctl(["logs", "--cluster", "demo", "--task", "0123abcd"], endpoint: endpoint)
        // Then each is one line naming the task, exit 254
        for output in [exec, logs] {
            #expect(output.status == 254)
            #expect(output.stderrLines.count == 1)
            #expect(output.stderr.contains("InvalidParameterException: task:"))
        }
        // And exec without a command is a usage error
        let bare = try await ecsctl(["exec", "--cluster", "demo", "--task", "0123abcd"], endpoint: endpoint)
        #expect(bare.status == 252)
        #expect(bare.stderr.contains("a command is required after --"))
    }
}
