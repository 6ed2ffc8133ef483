@testable import ControlPlane
import ECSProtocol
import FlotillaTestKit
import Foundation
import GRDB
import HTTPTypes
import HummingbirdTesting
import Logging
import SigV4
import TaskDefinitions
import Testing

/// SigV4 on every operation, access keys and their scopes, as AWS answers each refusal.
@Suite("Authentication: SigV4, access keys and scopes", .timeLimit(.minutes(10)))
struct AuthenticationTests {
    let stranger = AWSCredentials(accessKeyID: "AKFLNOBODYKNOWSTHIS1", secretAccessKey: "not-a-key-of-this-plane")

    @Test("Unsigned calls are refused with MissingAuthenticationTokenException, on every prefix, before routing")
    func unsigned() async throws {
        try await withControlPlane { client in
            for target in [
                "AmazonEC2ContainerServiceV20141113.CreateCluster", "AmazonEC2ContainerServiceV20141113.ListClusters",
                "FlotillaV1.CreateAccessKey", "FlotillaAgentV1.GetJoinToken", "FlotillaAgentV1.PollDesiredTasks",
                "AmazonEC2ContainerServiceV20141113.NoSuchOperation",
            ] {
                let reply = try await client.call(target, "{}", as: nil)
                #expect(reply.status == 400, "\(target)")
                #expect(reply.errorType == "MissingAuthenticationTokenException", "\(target)")
                #expect(reply.message == "Missing Authentication Token")
            }
            // And nothing was written
            #expect(try await client.ok("ListClusters")["clusterArns"]?.arrayValue?.isEmpty == true)
        }
    }

    @Test("An unknown key, a wrong secret, an altered body and a garbage signature are each refused as AWS does")
    func badSignatures() async throws {
        try await withControlPlane { client in
            let unknown = try await client.ecs("CreateCluster", #"{"clusterName": "x"}"#, as: stranger)
            #expect(unknown.errorType == "UnrecognizedClientException")
            #expect(unknown.message == "The security token included in the request is invalid.")

            let wrongSecret = AWSCredentials(
                accessKeyID: TestAccessKeys.administrator.accessKeyID, secretAccessKey: "guessed-secret")
            let mismatch = try await client.ecs("CreateCluster", #"{"clusterName": "x"}"#, as: wrongSecret)
            #expect(mismatch.errorType == "InvalidSignatureException")
            #expect(mismatch.message.hasPrefix("The request signature we calculated does not match"))

            // A body changed after signing (the signature covers its hash)
            let target = "AmazonEC2ContainerServiceV20141113.CreateCluster"
            var headers: HTTPFields = [:]
            for (name, value) in TestAccessKeys.signedHeaders(
                host: "localhost", target: target, body: #"{"clusterName": "x"}"#, at: testNow)
            {
                headers[HTTPField.Name(name)!] = value
            }
            let altered = try await client.raw(headers: headers, body: #"{"clusterName": "y"}"#, as: nil)
            #expect(altered.errorType == "InvalidSignatureException")

            let garbage = try await client.ecs(
                "CreateCluster", #"{"clusterName": "x"}"#,
                headers: [.authorization: "AWS4-HMAC-SHA256 garbage"], as: nil)
            #expect(garbage.status == 400)
            #expect(garbage.errorType == "IncompleteSignatureException")

            let otherRegion = try await client.ecs("CreateCluster", #"{"clusterName": "x"}"#, region: "eu-west-3")
            #expect(otherRegion.errorType == "InvalidSignatureException")

            #expect(try await client.ok("ListClusters")["clusterArns"]?.arrayValue?.isEmpty == true)
        }
    }

    @Test("More than five minutes of clock skew either way says the signature expired or is not yet current")
    func skew() async throws {
        try await withControlPlane { client in
            for (offset, words) in [(-360.0, "Signature expired"), (360.0, "Signature not yet current")] {
                let target = "AmazonEC2ContainerServiceV20141113.ListClusters"
                var headers: HTTPFields = [:]
                for (name, value) in TestAccessKeys.signedHeaders(
                    host: "localhost", target: target, body: "{}", at: testNow.addingTimeInterval(offset))
                {
                    headers[HTTPField.Name(name)!] = value
                }
                let reply = try await client.raw(headers: headers, body: "{}", as: nil)
                #expect(reply.errorType == "InvalidSignatureException")
                #expect(reply.message.hasPrefix(words), "\(reply.message)")
            }
            // And four minutes is within the window
            let target = "AmazonEC2ContainerServiceV20141113.ListClusters"
            var headers: HTTPFields = [:]
            for (name, value) in TestAccessKeys.signedHeaders(
                host: "localhost", target: target, body: "{}", at: testNow.addingTimeInterval(-240))
            {
                headers[HTTPField.Name(name)!] = value
            }
            #expect(try await client.raw(headers: headers, body: "{}", as: nil).status == 200)
        }
    }

    @Test("A read-only key describes and lists; creating, exec, logs, join tokens and keys need admin")
    func readOnlyScope() async throws {
        try await withControlPlane { client in
            try await client.createCluster()
            let readOnly = try await client.createKey("viewer", scope: "read-only")
            #expect(try await client.ecs("ListClusters", as: readOnly).status == 200)
            #expect(try await client.ecs("DescribeClusters", as: readOnly).status == 200)
            for (target, body) in [
                ("AmazonEC2ContainerServiceV20141113.CreateCluster", #"{"clusterName": "x"}"#),
                ("AmazonEC2ContainerServiceV20141113.ExecuteCommand", #"{"task": "t", "command": "sh", "interactive": true}"#),
                ("FlotillaAgentV1.GetJoinToken", "{}"),
                ("FlotillaAgentV1.CreateJoinToken", "{}"),
                ("FlotillaAgentV1.ListJoinTokens", "{}"),
                ("FlotillaAgentV1.DeleteJoinToken", #"{"tokenId": "abc123"}"#),
                ("FlotillaAgentV1.RotateJoinToken", "{}"),
                ("FlotillaV1.ListAccessKeys", "{}"),
                ("FlotillaV1.CreateAccessKey", #"{"name": "mine", "scope": "admin"}"#),
                ("FlotillaV1.GetContainerLogStream", #"{"task": "t", "containerName": "web"}"#),
            ] {
                let reply = try await client.call(target, body, as: readOnly)
                #expect(reply.errorType == "AccessDeniedException", "\(target)")
                #expect(reply.message.contains("user/viewer is not authorized to perform"), "\(reply.message)")
            }
            #expect(try await client.ok("ListClusters")["clusterArns"]?.arrayValue?.count == 1)
        }
    }

    @Test("An agent key reads balancers and reports health, and does nothing an operator does")
    func agentScope() async throws {
        try await withControlPlane { client in
            let agent = try await client.createKey("balancer", scope: "agent")
            #expect(try await client.call("FlotillaV1.DescribeLoadBalancers", "{}", as: agent).status == 200)
            let create = try await client.ecs("CreateCluster", #"{"clusterName": "x"}"#, as: agent)
            #expect(create.errorType == "AccessDeniedException")
            #expect(try await client.ecs("ListClusters", as: agent).errorType == "AccessDeniedException")
            // Nor makes, lists or deletes join tokens: an agent joins with one, it never hands one out
            for operation in ["CreateJoinToken", "ListJoinTokens", "GetJoinToken", "RotateJoinToken"] {
                let reply = try await client.agent(operation, "{}", as: agent)
                #expect(reply.errorType == "AccessDeniedException", "\(operation)")
            }
            let delete = try await client.agent("DeleteJoinToken", #"{"tokenId": "abc123"}"#, as: agent)
            #expect(delete.errorType == "AccessDeniedException")
        }
    }

    @Test("A new key signs at once; a deleted one is unknown at once; the secret is shown only at creation")
    func keyLifecycle() async throws {
        try await withControlPlane { client in
            let key = try await client.createKey("ci", scope: "admin")
            #expect(try await client.ecs("CreateCluster", #"{"clusterName": "ci"}"#, as: key).status == 200)

            let listed = try await client.call("FlotillaV1.ListAccessKeys", "{}")
            let keys = try #require(listed.body["accessKeys"]?.arrayValue)
            let names = Set(keys.compactMap { $0["name"]?.stringValue })
            #expect(names.contains("ci"))
            #expect(keys.allSatisfy { $0["secretAccessKey"] == nil })

            let twice = try await client.call("FlotillaV1.CreateAccessKey", #"{"name": "ci", "scope": "admin"}"#)
            #expect(twice.errorType == "InvalidParameterException")
            let badScope = try await client.call("FlotillaV1.CreateAccessKey", #"{"name": "x", "scope": "root"}"#)
            #expect(badScope.status == 400)

            let deleted = try await client.call(
                "FlotillaV1.DeleteAccessKey", #"{"accessKeyId": "\#(key.accessKeyID)"}"#)
            #expect(deleted.status == 200)
            #expect(try await client.ecs("ListClusters", as: key).errorType == "UnrecognizedClientException")
            let again = try await client.call(
                "FlotillaV1.DeleteAccessKey", #"{"accessKeyId": "\#(key.accessKeyID)"}"#)
            #expect(again.errorType == "ResourceNotFoundException")
        }
    }

    @Test("The last admin key cannot be deleted")
    func lastAdministrator() async throws {
        try await withControlPlane { client in
            let reply = try await client.call(
                "FlotillaV1.DeleteAccessKey", #"{"accessKeyId": "\#(TestAccessKeys.administrator.accessKeyID)"}"#)
            #expect(reply.errorType == "ClientException")
            #expect(try await client.ecs("ListClusters").status == 200)
        }
    }

    @Test("An instance credential acts for its own instance only; no other key polls as an agent")
    func instanceCredentials() async throws {
        try await withControlPlane { client in
            try await client.createCluster()
            let a = try await client.registerAgent(hostname: "a")
            let b = try await client.registerAgent(hostname: "b")
            // Its own instance: yes
            #expect(
                try await client.agent("PollDesiredTasks", pollBody(a.arn, index: 0, wait: 0), as: a.credential)
                    .status == 200)
            // Another instance, the administrator, a read-only key: no
            let foreign = try await client.agent(
                "PollDesiredTasks", pollBody(b.arn, index: 0, wait: 0), as: a.credential)
            #expect(foreign.errorType == "AccessDeniedException")
            let administrator = try await client.agent("PollDesiredTasks", pollBody(a.arn, index: 0, wait: 0))
            #expect(administrator.errorType == "AccessDeniedException")
            let submit = try await client.agent(
                "SubmitStateChanges", #"{"containerInstanceArn": "\#(b.arn)", "tasks": []}"#, as: a.credential)
            #expect(submit.errorType == "AccessDeniedException")
            // And an instance credential is no operator
            #expect(try await client.ecs("ListClusters", as: a.credential).errorType == "AccessDeniedException")
        }
    }

    @Test("A join token cannot take over a registered instance; its own credential re-registers it and rotates")
    func noTakeover() async throws {
        try await withControlPlane { client in
            try await client.createCluster()
            let victim = try await client.registerAgent(hostname: "victim")
            // The attacker knows the join token and the victim's ARN
            let token = try #require(try await client.agentOK("GetJoinToken", "{}")["joinToken"]?.stringValue)
            let takeover = try await client.agent(
                "Register", registerBody(token: token, previous: victim.arn, hostname: "attacker"), as: nil)
            #expect(takeover.status == 403)
            #expect(takeover.errorType == "AccessDeniedException")
            // The victim still polls with its credential
            #expect(
                try await client.agent(
                    "PollDesiredTasks", pollBody(victim.arn, index: 0, wait: 0), as: victim.credential
                ).status == 200)
            // Its own re-registration keeps the instance and replaces the credential
            let again = try await client.registerAgent(previous: (victim.arn, victim.credential), hostname: "victim")
            #expect(again.arn == victim.arn)
            #expect(again.credential.accessKeyID != victim.credential.accessKeyID)
            let stale = try await client.agent(
                "PollDesiredTasks", pollBody(victim.arn, index: 0, wait: 0), as: victim.credential)
            #expect(stale.errorType == "UnrecognizedClientException")
            #expect(
                try await client.agent(
                    "PollDesiredTasks", pollBody(victim.arn, index: 0, wait: 0), as: again.credential
                ).status == 200)
        }
    }

    @Test("An instance credential expires; RotateCredential hands out the next; the old one ends after the grace")
    func rotation() async throws {
        let clock = ManualClock()
        let configuration = ControlPlaneConfiguration(instanceCredentialLifetime: .seconds(3600))
        try await withControlPlane(configuration: configuration, clock: clock) { client in
            try await client.createCluster()
            let a = try await client.registerAgent(hostname: "a")
            let b = try await client.registerAgent(hostname: "b")
            func poll(_ arn: String, as key: AWSCredentials) async throws -> ECSReply {
                try await client.agent("PollDesiredTasks", pollBody(arn, index: 0, wait: 0), as: key, at: clock.date)
            }
            // Another instance's credential cannot rotate this one's
            let foreign = try await client.agent(
                "RotateCredential", #"{"containerInstanceArn": "\#(a.arn)"}"#, as: b.credential, at: clock.date)
            #expect(foreign.errorType == "AccessDeniedException")
            // Its own can, half way through its life
            clock.advance(seconds: 1800)
            let rotated = try await client.agent(
                "RotateCredential", #"{"containerInstanceArn": "\#(a.arn)"}"#, as: a.credential, at: clock.date)
            #expect(rotated.status == 200)
            let next = AWSCredentials(
                accessKeyID: rotated.body["accessKeyId"]?.stringValue ?? "",
                secretAccessKey: rotated.body["credential"]?.stringValue ?? "")
            #expect(next.accessKeyID != a.credential.accessKeyID)
            #expect(rotated.body["expiration"]?.intValue == Int(clock.date.timeIntervalSince1970) + 3600)
            // Both work during the grace; then the old one is expired
            #expect(try await poll(a.arn, as: a.credential).status == 200)
            #expect(try await poll(a.arn, as: next).status == 200)
            clock.advance(seconds: 301)
            let old = try await poll(a.arn, as: a.credential)
            #expect(old.errorType == "ExpiredTokenException")
            #expect(try await poll(a.arn, as: next).status == 200)
            // b was never rotated: its credential ends with its lifetime
            clock.advance(seconds: 1500)
            #expect(try await poll(b.arn, as: b.credential).errorType == "ExpiredTokenException")
            #expect(try await poll(a.arn, as: next).status == 200)
        }
    }

    @Test("Secrets are sealed in the store: no secret in the database, and another master key opens none")
    func sealedAtRest() async throws {
        let store = try ControlPlaneStore.inMemory()
        try await withControlPlane(store: store) { client in
            let key = try await client.createKey("sealed", scope: "admin")
            let rows = try await store.read { db in try db.accessKeys() }
            #expect(rows.count == 2)
            for row in rows {
                #expect(row.sealedSecret.range(of: Data(key.secretAccessKey.utf8)) == nil)
                #expect(
                    row.sealedSecret.range(of: Data(TestAccessKeys.administrator.secretAccessKey.utf8)) == nil)
            }
        }
        await #expect(throws: AccessKeyRing.MasterKeyMismatch.self) {
            _ = try await AccessKeyRing.load(store: store, box: .ephemeral())
        }
    }

    @Test("The master key file is made 0600 and one readable by others is refused")
    func masterKeyFile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("flotilla-key-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("master.key").path
        _ = try SecretBox.open(keyFile: path)
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber
        #expect(mode?.intValue == 0o600)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        #expect(throws: SecretBox.KeyFileError.self) { _ = try SecretBox.open(keyFile: path) }
    }

    @Test("The first start makes an admin key and writes it 0600 as an AWS credentials file; the next start keeps it")
    func firstAdministrator() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("flotilla-admin-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try ControlPlaneStore.inMemory()
        let box = SecretBox.ephemeral()
        let logger = Logger(label: "flotilla.test")
        let ring = try await AccessKeyRing.load(store: store, box: box)
        try await AdministratorKey.ensure(ring: ring, store: store, given: nil, dataDirectory: directory, logger: logger)
        let file = directory.appendingPathComponent(AdministratorKey.fileName).path
        let text = try String(contentsOfFile: file, encoding: .utf8)
        let mode = try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? NSNumber
        #expect(mode?.intValue == 0o600)
        let resolved = try AWSProfileResolver.resolve(
            profile: nil, environment: ["AWS_SHARED_CREDENTIALS_FILE": file, "AWS_CONFIG_FILE": "/dev/null"],
            readFile: { FileManager.default.contents(atPath: $0) })
        let credentials = try #require(resolved.credentials)
        #expect(ring.key(credentials.accessKeyID)?.secret == credentials.secretAccessKey)
        #expect(ring.key(credentials.accessKeyID)?.scope == .admin)
        #expect(text.hasPrefix("[default]"))
        // A second start (a new ring on the same store) makes no second key
        let reopened = try await AccessKeyRing.load(store: store, box: box)
        try await AdministratorKey.ensure(
            ring: reopened, store: store, given: nil, dataDirectory: directory, logger: logger)
        #expect(reopened.all.count == 1)
    }
}

extension TestClientProtocol {
    /// Creates an access key with the administrator key; answers its credentials.
    func createKey(_ name: String, scope: String) async throws -> AWSCredentials {
        let reply = try await call("FlotillaV1.CreateAccessKey", #"{"name": "\#(name)", "scope": "\#(scope)"}"#)
        guard reply.status == 200, let id = reply.body["accessKey"]?["accessKeyId"]?.stringValue,
            let secret = reply.body["accessKey"]?["secretAccessKey"]?.stringValue
        else {
            throw HarnessError.unexpected("CreateAccessKey answered \(reply.status): \(reply.message)")
        }
        return AWSCredentials(accessKeyID: id, secretAccessKey: secret)
    }
}
