import FlotillaTestKit
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import SigV4
import TaskDefinitions
import Testing

/// Access keys through ecsctl, and ecsctl finding its key as the AWS CLI does (`--profile`, `AWS_PROFILE`).
@Suite("ecsctl access keys and profiles", .serialized, .timeLimit(.minutes(10)))
struct EcsctlAccessKeyTests {
    @Test("create-access-key --profile-out writes a 0600 profile that --profile signs with; delete-access-key ends it")
    func profileLifecycle() async throws {
        let server = try await ControlPlaneProcess()
        defer { server.terminate() }
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("flotilla-profile-\(UUID())")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: home) }
        let credentialsFile = home.appendingPathComponent(".aws/credentials").path
        // An ecsctl of a user whose ~/.aws holds nothing yet, given the administrator key once in the environment
        func ecsctlAs(
            _ arguments: [String], administrator: Bool = false, extra: [String: String] = [:]
        ) async throws -> HostCommandResult {
            var environment = [
                "PATH": "/usr/bin:/bin", "HOME": home.path, "XDG_CONFIG_HOME": home.path,
                "FLOTILLA_ENDPOINT": server.endpoint, "AWS_CA_BUNDLE": TestPKI.caBundle,
            ]
            if administrator { environment.merge(TestAccessKeys.environment()) { $1 } }
            environment.merge(extra) { $1 }
            return try await HostCommand.runToCompletion(
                [HostCommand.debugBinaries + "/ecsctl"] + arguments, environment: environment,
                killAfter: .seconds(60))
        }

        let made = try await ecsctlAs(
            ["create-access-key", "--name", "alice", "--scope", "read-only", "--profile-out", "alice"],
            administrator: true)
        #expect(made.status == 0, "\(made.stderr)")
        #expect(!made.stdout.contains("SecretAccessKey"))
        let mode = try FileManager.default.attributesOfItem(atPath: credentialsFile)[.posixPermissions] as? NSNumber
        #expect(mode?.intValue == 0o600)
        let text = try String(contentsOfFile: credentialsFile, encoding: .utf8)
        #expect(text.contains("[alice]"))

        // The profile signs: reads work, writes are refused for its scope, one line each
        #expect(try await ecsctlAs(["--profile", "alice", "list-clusters"]).status == 0)
        let write = try await ecsctlAs(["--profile", "alice", "create-cluster", "--cluster-name", "x"])
        #expect(write.status == 254)
        #expect(write.stderrLines.count == 1)
        #expect(write.stderr.contains("AccessDeniedException"))
        // Without any key, one line saying what is missing
        let unsigned = try await ecsctlAs(["list-clusters"])
        #expect(unsigned.status == 254)
        #expect(unsigned.stderr.contains("MissingAuthenticationTokenException"))
        // A profile that does not exist: the AWS CLI's words
        let missing = try await ecsctlAs(["--profile", "nobody", "list-clusters"])
        #expect(missing.status == 255)
        #expect(missing.stderr.contains("The config profile (nobody) could not be found"))

        // list-access-keys shows it without a secret; delete-access-key ends it
        let listed = try await ecsctlAs(["list-access-keys", "--output", "json"], administrator: true)
        let keys = try JSONDecoder().decode(JSONValue.self, from: Data(listed.stdout.utf8))["accessKeys"]?.arrayValue
        let alice = try #require(keys?.first { $0["name"]?.stringValue == "alice" })
        #expect(alice["secretAccessKey"] == nil)
        #expect(alice["scope"]?.stringValue == "read-only")
        let id = try #require(alice["accessKeyId"]?.stringValue)
        #expect(try await ecsctlAs(["delete-access-key", "--access-key-id", id], administrator: true).status == 0)
        let after = try await ecsctlAs(["--profile", "alice", "list-clusters"])
        #expect(after.stderr.contains("UnrecognizedClientException"))

        // A credentials "file" that is a device is refused before any key is made, and left as it is
        let device = try await ecsctlAs(
            ["create-access-key", "--name", "bob", "--profile-out", "bob"], administrator: true,
            extra: ["AWS_SHARED_CREDENTIALS_FILE": "/dev/null"])
        #expect(device.status == 252)
        #expect(device.stderr.contains("is not a regular file"))
        var status = stat()
        #expect(stat("/dev/null", &status) == 0 && status.st_mode & S_IFMT == S_IFCHR)
        let names = try await ecsctlAs(["list-access-keys", "--output", "json"], administrator: true)
        #expect(!names.stdout.contains("\"bob\""))
    }
}
