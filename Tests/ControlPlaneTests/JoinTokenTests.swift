import AgentProtocol
import FlotillaDigest
@testable import ControlPlane
import ECSProtocol
import FlotillaTestKit
import Foundation
import GRDB
import TaskDefinitions
import Testing

@Suite("Join tokens and the image store's SHA-256", .timeLimit(.minutes(10)))
struct JoinTokenTests {
    @Test(
        "SHA-256 matches the FIPS 180-4 test vectors",
        arguments: [
            ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            (
                "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
                "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
            ),
            (
                "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
                "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"
            ),
        ])
    func sha256Vectors(message: String, expected: String) {
        #expect(SHA256.hex(message.utf8) == expected)
    }

    @Test("SHA-256 pads across block boundaries (55, 56, 63, 64 and 65 bytes)", arguments: [55, 56, 63, 64, 65])
    func sha256Padding(length: Int) {
        // Then: the digest of n 'a's equals the digest known for each length's padding case
        let known = [
            55: "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318",
            56: "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a",
            63: "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34",
            64: "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb",
            65: "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0",
        ]
        #expect(SHA256.hex(String(repeating: "a", count: length).utf8) == known[length])
    }

    @Test("HMAC-SHA256 matches RFC 4231's test cases (a short key, a key longer than the block)")
    func hmacVectors() {
        func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }
        #expect(
            hex(HMACSHA256.code(key: [UInt8](repeating: 0x0b, count: 20), message: Array("Hi There".utf8)))
                == "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
        #expect(
            hex(
                HMACSHA256.code(
                    key: [UInt8](repeating: 0xaa, count: 131),
                    message: Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8)))
                == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
    }

    @Test("Token material is CSPRNG text of the token alphabet and never repeats; equal compares whole strings")
    func material() {
        let secrets = (0..<100).map { _ in JoinTokenMaterial.random(JoinTokenRules.secretLength) }
        #expect(Set(secrets).count == 100)
        #expect(secrets.allSatisfy { $0.count == 32 && $0.allSatisfy(JoinTokenRules.alphabet.contains) })
        #expect(constantTimeEqual(secrets[0], secrets[0]))
        #expect(!constantTimeEqual(secrets[0], secrets[1]))
        #expect(!constantTimeEqual(secrets[0], String(secrets[0].dropLast())))
        #expect(JoinTokenMaterial.hash("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test(
        "Only <6 lowercase alnum>.<16 to 64 lowercase alnum> parses as a token",
        arguments: [
            ("abc123.0123456789abcdef", true), ("abc123." + String(repeating: "z", count: 64), true),
            ("abc123.0123456789abcde", false), ("abc123." + String(repeating: "z", count: 65), false),
            ("ABC123.0123456789abcdef", false), ("abc12.0123456789abcdef", false), ("abc1234.0123456789abcdef", false),
            ("abc123.0123456789abcdeF", false), ("abc123.0123456789abcdef.x", false), ("abc1230123456789abcdef", false),
            (String(repeating: "0", count: 64), false), ("", false), ("abc123.01234567-9abcdef", false),
            // A CA hash after it (JoinTokenText) is the agent's, not the secret's
            ("abc123.0123456789abcdef.sha256:" + String(repeating: "ab", count: 32), true),
            ("abc12.0123456789abcdef.sha256:" + String(repeating: "ab", count: 32), false),
        ])
    func parsing(token: String, parses: Bool) {
        #expect((JoinTokenRules.parse(token) != nil) == parses)
    }

    @Test("A held token splits into what Register is sent and the CA hash it carries")
    func caHashInTheToken() {
        let hash = "sha256:" + String(repeating: "0f", count: 32)
        #expect(JoinTokenText.joining("abc123.secret", caCertHash: hash) == "abc123.secret.\(hash)")
        #expect(JoinTokenText.joining("abc123.secret", caCertHash: nil) == "abc123.secret")
        #expect(JoinTokenText.split("abc123.secret.\(hash)") == ("abc123.secret", hash))
        #expect(JoinTokenText.split("abc123.secret") == ("abc123.secret", nil))
    }

    // MARK: - The API

    @Test("CreateJoinToken answers <id>.<secret> once with its limits; ListJoinTokens shows the id, never the secret")
    func createAndList() async throws {
        try await withControlPlane { client in
            // Given
            try await client.createCluster("prod")
            // When
            let made = try await client.agentOK(
                "CreateJoinToken", #"{"cluster": "prod", "ttlSeconds": 3600, "uses": 3, "description": "rack 4"}"#)
            let plain = try await client.agentOK("CreateJoinToken", #"{"cluster": "prod"}"#)
            let listed = try await client.agent("ListJoinTokens", #"{"cluster": "prod"}"#)
            // Then the token is kubeadm's shape, its id public, its limits as asked (or 24 h and unlimited)
            let token = try #require(made["joinToken"]?.stringValue)
            let (id, secret) = try #require(JoinTokenRules.parse(token))
            #expect(secret.count == 32)
            #expect(made["tokenId"]?.stringValue == id)
            #expect(made["cluster"]?.stringValue == "prod")
            #expect(made["clusterArn"]?.stringValue == "arn:aws:ecs:us-east-1:000000000000:cluster/prod")
            #expect(made["createdAt"]?.intValue == 1_700_000_000)
            #expect(made["expiresAt"]?.intValue == 1_700_000_000 + 3600)
            #expect(made["usesLeft"]?.intValue == 3)
            #expect(made["description"]?.stringValue == "rack 4")
            #expect(plain["expiresAt"]?.intValue == 1_700_000_000 + 86400)
            #expect(plain["usesLeft"] == nil)
            let plainID = try #require(plain["tokenId"]?.stringValue)
            // And the list has both by id, with their limits, and no secret anywhere in its answer
            #expect(listed.status == 200)
            let tokens = try #require(listed.body["joinTokens"]?.arrayValue)
            #expect(tokens.compactMap { $0["tokenId"]?.stringValue }.sorted() == [id, plainID].sorted())
            let first = try #require(tokens.first { $0["tokenId"]?.stringValue == id })
            #expect(first["usesLeft"]?.intValue == 3)
            #expect(first["description"]?.stringValue == "rack 4")
            #expect(first["expiresAt"]?.intValue == 1_700_000_000 + 3600)
            #expect(tokens.allSatisfy { $0["joinToken"] == nil })
            let text = String(decoding: try JSONEncoder().encode(listed.body), as: UTF8.self)
            #expect(!text.contains(secret))
            #expect(!text.contains(try #require(plain["joinToken"]?.stringValue).split(separator: ".")[1]))
        }
    }

    @Test("The store keeps the secret's SHA-256, never the token, and v2's plaintext table stays empty")
    func storedHashed() async throws {
        let store = try ControlPlaneStore.inMemory()
        try await withControlPlane(store: store) { client in
            try await client.createCluster()
            let token = try #require(try await client.agentOK("CreateJoinToken", "{}")["joinToken"]?.stringValue)
            let (id, secret) = try #require(JoinTokenRules.parse(token))
            // When the table is read as it is on disk
            let rows = try await store.read { db in
                try Row.fetchAll(db, sql: "SELECT * FROM joinTokenV2").map { row in
                    Dictionary(
                        uniqueKeysWithValues: row.columnNames.map { ($0, (row[$0] as DatabaseValue).description) })
                }
            }
            let old = try await store.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM joinToken") }
            // Then the one row holds the id and the secret's hash, and no column holds the secret or the token
            #expect(rows.count == 1)
            let row = try #require(rows.first)
            #expect(row["id"] == "\"\(id)\"")
            #expect(row["secretHash"] == "\"\(SHA256.hex(secret.utf8))\"")
            for (column, value) in row {
                #expect(!value.contains(secret) && !value.contains(token), "\(column)")
            }
            #expect(old == 0)
        }
    }

    @Test("Migration v11 deletes the plaintext tokens v2 stored")
    func upgrade() throws {
        // Given a store at v9 holding a cluster's plaintext token, as the previous release left it
        let queue = try DatabaseQueue()
        try ControlPlaneStore.migrator.migrate(queue, upTo: "v9: access keys")
        let plaintext = String(repeating: "ab", count: 32)
        try queue.write { db in
            try db.execute(
                sql: "INSERT INTO cluster (name, arn, status, document) VALUES ('default', 'arn', 'ACTIVE', '{}')")
            try db.execute(
                sql: "INSERT INTO joinToken (cluster, token, createdAt) VALUES ('default', ?, 0)",
                arguments: [plaintext])
        }
        // When it is migrated to the current schema
        try ControlPlaneStore.migrator.migrate(queue)
        // Then the plaintext row is gone and the new table starts empty
        let (old, new) = try queue.read { db in
            (
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM joinToken"),
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM joinTokenV2")
            )
        }
        #expect(old == 0 && new == 0)
    }

    @Test("A token registers until its TTL and is refused from then on, without sleeping")
    func expiry() async throws {
        let clock = ManualClock(start: testNow)
        try await withControlPlane(clock: clock) { client in
            // Given a one-minute token and a default (24 h) one, made at testNow
            try await client.createCluster()
            let short = try #require(
                try await client.agentOK("CreateJoinToken", #"{"ttlSeconds": 60}"#)["joinToken"]?.stringValue)
            let daily = try #require(try await client.agentOK("GetJoinToken", "{}")["joinToken"]?.stringValue)
            // When the API's clock is a second before the minute is out, then at it
            clock.advance(seconds: 59)
            let before = try await client.agent("Register", registerBody(token: short, hostname: "early"), as: nil)
            clock.advance(seconds: 1)
            let at = try await client.agent("Register", registerBody(token: short, hostname: "late"), as: nil)
            // Then the first joins and the second is refused as any bad token is
            #expect(before.status == 200)
            #expect(at.status == 403)
            #expect(at.errorType == "AccessDeniedException")
            #expect(at.message == "joinToken: is not valid for cluster default.")
            // And the default token lasts 24 hours, not a second more
            clock.advance(seconds: 24 * 3600 - 61)
            let lastSecond = try await client.agent("Register", registerBody(token: daily, hostname: "d1"), as: nil)
            #expect(lastSecond.status == 200)
            clock.advance(seconds: 1)
            let expired = try await client.agent("Register", registerBody(token: daily, hostname: "d2"), as: nil)
            #expect(expired.errorType == "AccessDeniedException")
        }
    }

    @Test("A token of N uses registers N instances, refuses the next, and leaves the list when spent")
    func useCount() async throws {
        try await withControlPlane { client in
            try await client.createCluster()
            let made = try await client.agentOK("CreateJoinToken", #"{"uses": 3}"#)
            let token = try #require(made["joinToken"]?.stringValue)
            // When three instances join, then a fourth
            for host in 1...3 {
                let reply = try await client.agent(
                    "Register", registerBody(token: token, hostname: "h\(host)"), as: nil)
                #expect(reply.status == 200, "host \(host): \(reply.message)")
                let left = try await client.agentOK("ListJoinTokens", "{}")["joinTokens"]?[0]?["usesLeft"]?.intValue
                #expect(left == (host < 3 ? 3 - host : nil))
            }
            let fourth = try await client.agent("Register", registerBody(token: token, hostname: "h4"), as: nil)
            // Then the fourth is refused and nothing of it was written
            #expect(fourth.status == 403)
            #expect(fourth.errorType == "AccessDeniedException")
            #expect(fourth.message.hasPrefix("joinToken:"))
            let instances = try await client.ok("ListContainerInstances")
            #expect(instances["containerInstanceArns"]?.arrayValue?.count == 3)
            #expect(try await client.agentOK("ListJoinTokens", "{}")["joinTokens"]?.arrayValue?.isEmpty == true)
        }
    }

    @Test("Registrations racing for a one-use token: exactly one wins")
    func race() async throws {
        try await withControlPlane { client in
            try await client.createCluster()
            let token = try #require(
                try await client.agentOK("CreateJoinToken", #"{"uses": 1}"#)["joinToken"]?.stringValue)
            // When eight agents present it at once
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for host in 0..<8 {
                    group.addTask {
                        try await client.agent("Register", registerBody(token: token, hostname: "h\(host)"), as: nil)
                            .status
                    }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            // Then one joined and seven were refused
            #expect(statuses.sorted() == [200] + Array(repeating: 403, count: 7))
            let instances = try await client.ok("ListContainerInstances")
            #expect(instances["containerInstanceArns"]?.arrayValue?.count == 1)
        }
    }

    @Test("A deleted token is refused; deleting names the token id, and another cluster's token is not found")
    func delete() async throws {
        try await withControlPlane { client in
            try await client.createCluster()
            try await client.createCluster("other")
            let made = try await client.agentOK("CreateJoinToken", "{}")
            let token = try #require(made["joinToken"]?.stringValue)
            let id = try #require(made["tokenId"]?.stringValue)
            let kept = try #require(try await client.agentOK("CreateJoinToken", "{}")["joinToken"]?.stringValue)
            // When it is deleted from another cluster, then from its own
            let elsewhere = try await client.agent("DeleteJoinToken", #"{"cluster": "other", "tokenId": "\#(id)"}"#)
            let deleted = try await client.agent("DeleteJoinToken", #"{"tokenId": "\#(id)"}"#)
            let again = try await client.agent("DeleteJoinToken", #"{"tokenId": "\#(id)"}"#)
            // Then only its own cluster deletes it, and from then on it registers nothing; the other token still does
            #expect(elsewhere.errorType == "ResourceNotFoundException")
            #expect(elsewhere.message.hasPrefix("tokenId:"))
            #expect(deleted.status == 200)
            #expect(deleted.body["tokenId"]?.stringValue == id)
            #expect(deleted.body["joinToken"] == nil)
            #expect(again.errorType == "ResourceNotFoundException")
            let refused = try await client.agent("Register", registerBody(token: token), as: nil)
            #expect(refused.errorType == "AccessDeniedException")
            #expect(try await client.agent("Register", registerBody(token: kept), as: nil).status == 200)
            // And a malformed id is the caller's error, naming the field
            let malformed = try await client.agent("DeleteJoinToken", #"{"tokenId": "ABC"}"#)
            #expect(malformed.errorType == "InvalidParameterException")
            #expect(malformed.message.hasPrefix("tokenId:"))
        }
    }

    @Test("Unknown, malformed, wrong-secret, other-cluster and old-format tokens get one answer that says nothing more")
    func refusals() async throws {
        try await withControlPlane { client in
            try await client.createCluster()
            try await client.createCluster("other")
            let real = try #require(try await client.agentOK("CreateJoinToken", "{}")["joinToken"]?.stringValue)
            let (id, _) = try #require(JoinTokenRules.parse(real))
            let theirs = try #require(
                try await client.agentOK("CreateJoinToken", #"{"cluster": "other"}"#)["joinToken"]?.stringValue)
            for token in [
                "abc123." + String(repeating: "a", count: 32), id + "." + String(repeating: "a", count: 32),
                theirs, String(repeating: "0", count: 64), "x", "", real + "0",
            ] {
                let reply = try await client.agent("Register", registerBody(token: token), as: nil)
                #expect(reply.status == 403, "\(token)")
                #expect(reply.errorType == "AccessDeniedException")
                #expect(reply.message == "joinToken: is not valid for cluster default.")
            }
            // And the real one still works: refusals spend nothing
            #expect(try await client.agent("Register", registerBody(token: real), as: nil).status == 200)
        }
    }

    @Test(
        "CreateJoinToken's limits name the field",
        arguments: [
            (#"{"ttlSeconds": 0}"#, "ttlSeconds"), (#"{"ttlSeconds": 604801}"#, "ttlSeconds"),
            (#"{"uses": 0}"#, "uses"), (#"{"uses": 1001}"#, "uses"),
            (#"{"description": "\#(String(repeating: "d", count: 257))"}"#, "description"),
            (#"{"description": "a\nb"}"#, "description"),
        ])
    func limits(body: String, field: String) async throws {
        try await withControlPlane { client in
            try await client.createCluster()
            let reply = try await client.agent("CreateJoinToken", body)
            #expect(reply.errorType == "InvalidParameterException")
            #expect(reply.message.hasPrefix(field + ":"), "\(reply.message)")
        }
    }

    @Test("GetJoinToken makes a new token per call; RotateJoinToken deletes the cluster's tokens and makes one")
    func getAndRotate() async throws {
        try await withControlPlane { client in
            // Given
            try await client.createCluster("prod")
            // When
            let first = try await client.agentOK("GetJoinToken", #"{"cluster": "prod"}"#)
            let second = try await client.agentOK("GetJoinToken", #"{"cluster": "prod"}"#)
            let listed = try await client.agentOK("ListJoinTokens", #"{"cluster": "prod"}"#)
            let rotated = try await client.agentOK("RotateJoinToken", #"{"cluster": "prod"}"#)
            let after = try await client.agentOK("ListJoinTokens", #"{"cluster": "prod"}"#)
            // Then each Get is a new live token with the defaults, and Rotate leaves only its own
            let token = try #require(first["joinToken"]?.stringValue)
            #expect(JoinTokenRules.parse(token) != nil)
            #expect(first["cluster"]?.stringValue == "prod")
            #expect(first["clusterArn"]?.stringValue == "arn:aws:ecs:us-east-1:000000000000:cluster/prod")
            #expect(second["joinToken"]?.stringValue != token)
            #expect(listed["joinTokens"]?.arrayValue?.count == 2)
            let newToken = try #require(rotated["joinToken"]?.stringValue)
            #expect(
                after["joinTokens"]?.arrayValue?.compactMap { $0["tokenId"]?.stringValue } == [
                    rotated["tokenId"]?.stringValue ?? ""
                ])
            let old = try await client.agent("Register", registerBody(cluster: "prod", token: token), as: nil)
            #expect(old.errorType == "AccessDeniedException")
            #expect(
                try await client.agent("Register", registerBody(cluster: "prod", token: newToken), as: nil).status
                    == 200)
            let missing = try await client.agent("GetJoinToken", #"{"cluster": "nope"}"#)
            #expect(missing.errorType == "ClusterNotFoundException")
            let unknown = try await client.agent("StealJoinToken", "{}")
            #expect(unknown.errorType == "UnknownOperationException")
        }
    }

    @Test("A deleted cluster's tokens go with it: the cluster created again under the name refuses them")
    func deletedCluster() async throws {
        try await withControlPlane { client in
            try await client.createCluster("temp")
            let token = try #require(
                try await client.agentOK("CreateJoinToken", #"{"cluster": "temp"}"#)["joinToken"]?.stringValue)
            try await client.ok("DeleteCluster", #"{"cluster": "temp"}"#)
            try await client.createCluster("temp")
            let reply = try await client.agent("Register", registerBody(cluster: "temp", token: token), as: nil)
            #expect(reply.errorType == "AccessDeniedException")
        }
    }
}
