import FlotillaDigest
@testable import ControlPlane
import Foundation
import TaskDefinitions
import Testing

@Suite("Join tokens and the image store's SHA-256", .timeLimit(.minutes(2)))
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

    @Test("Secrets are 32 CSPRNG bytes in hex and never repeat")
    func secrets() {
        let tokens = (0..<100).map { _ in Secrets.generate() }
        #expect(Set(tokens).count == 100)
        #expect(tokens.allSatisfy { $0.count == 64 && $0.allSatisfy(\.isHexDigit) })
        #expect(Secrets.equal(tokens[0], tokens[0]))
        #expect(!Secrets.equal(tokens[0], tokens[1]))
        #expect(!Secrets.equal(tokens[0], String(tokens[0].dropLast())))
    }

    @Test("A cluster gets a join token when created; Get prints it, Rotate replaces it")
    func getAndRotate() async throws {
        try await withControlPlane { client in
            // Given
            try await client.createCluster("prod")
            // When
            let first = try await client.agentOK("GetJoinToken", #"{"cluster": "prod"}"#)
            let again = try await client.agentOK("GetJoinToken", #"{"cluster": "prod"}"#)
            let rotated = try await client.agentOK("RotateJoinToken", #"{"cluster": "prod"}"#)
            let after = try await client.agentOK("GetJoinToken", #"{"cluster": "prod"}"#)
            // Then
            let token = try #require(first["joinToken"]?.stringValue)
            #expect(token.count == 64)
            #expect(first["cluster"]?.stringValue == "prod")
            #expect(first["clusterArn"]?.stringValue == "arn:aws:ecs:us-east-1:000000000000:cluster/prod")
            #expect(again["joinToken"]?.stringValue == token)
            let newToken = try #require(rotated["joinToken"]?.stringValue)
            #expect(newToken != token)
            #expect(after["joinToken"]?.stringValue == newToken)
            let missing = try await client.agent("GetJoinToken", #"{"cluster": "nope"}"#)
            #expect(missing.errorType == "ClusterNotFoundException")
            let unknown = try await client.agent("StealJoinToken", "{}")
            #expect(unknown.errorType == "UnknownOperationException")
        }
    }
}
