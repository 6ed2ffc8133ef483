@testable import ControlPlane
import ECSProtocol
import ECSVocabulary
import FlotillaTestKit
import Foundation
import HTTPTypes
import HummingbirdTesting
import InMemoryLogging
import Logging
import SigV4
import TaskDefinitions
import Testing

extension TestClientProtocol {
    /// Calls `AmazonSSM.<operation>`, signed for `ssm` as the awscli signs it.
    func ssm(
        _ operation: String, _ json: String, as credentials: AWSCredentials? = TestAccessKeys.administrator
    ) async throws -> ECSReply {
        try await call(TargetPrefix.ssm.target(operation), json, as: credentials)
    }

    /// Calls `secretsmanager.<operation>`, signed for `secretsmanager`.
    func secretsManager(
        _ operation: String, _ json: String, as credentials: AWSCredentials? = TestAccessKeys.administrator
    ) async throws -> ECSReply {
        try await call(TargetPrefix.secretsManager.target(operation), json, as: credentials)
    }

    @discardableResult
    func ssmOK(_ operation: String, _ json: String) async throws -> JSONValue {
        let reply = try await ssm(operation, json)
        guard reply.status == 200 else {
            throw HarnessError.unexpected(
                "\(operation) answered \(reply.status): \(reply.errorType ?? "") \(reply.message)")
        }
        return reply.body
    }

    @discardableResult
    func secretsOK(_ operation: String, _ json: String) async throws -> JSONValue {
        let reply = try await secretsManager(operation, json)
        guard reply.status == 200 else {
            throw HarnessError.unexpected(
                "\(operation) answered \(reply.status): \(reply.errorType ?? "") \(reply.message)")
        }
        return reply.body
    }
}

@Suite("Parameter store and secret store: the SSM and Secrets Manager operations", .timeLimit(.minutes(10)))
struct SecretStoreAPITests {
    // MARK: - Parameter store

    @Test("PutParameter creates, refuses a second write without Overwrite, and counts versions with it")
    func putParameterVersions() async throws {
        try await withControlPlane { client in
            // Given
            let first = try await client.ssmOK(
                "PutParameter", #"{"Name": "/app/db/user", "Value": "admin", "Type": "String"}"#)
            #expect(first["Version"]?.intValue == 1)
            #expect(first["Tier"]?.stringValue == "Standard")
            // When: again without Overwrite
            let refused = try await client.ssm("PutParameter", #"{"Name": "/app/db/user", "Value": "root"}"#)
            // Then
            #expect(refused.errorType == "ParameterAlreadyExists")
            #expect(refused.message.contains("set the overwrite option"))
            let kept = try await client.ssmOK("GetParameter", #"{"Name": "/app/db/user"}"#)
            #expect(kept["Parameter"]?["Value"]?.stringValue == "admin")
            // When: with Overwrite (the type is kept)
            let second = try await client.ssmOK(
                "PutParameter", #"{"Name": "/app/db/user", "Value": "root", "Overwrite": true}"#)
            #expect(second["Version"]?.intValue == 2)
            let got = try await client.ssmOK("GetParameter", #"{"Name": "/app/db/user"}"#)
            #expect(got["Parameter"]?["Value"]?.stringValue == "root")
            #expect(got["Parameter"]?["Type"]?.stringValue == "String")
            #expect(got["Parameter"]?["Version"]?.intValue == 2)
            #expect(got["Parameter"]?["ARN"]?.stringValue == "arn:aws:ssm:us-east-1:000000000000:parameter/app/db/user")
            // By ARN and by version selector too
            let byARN = try await client.ssmOK(
                "GetParameter", #"{"Name": "arn:aws:ssm:us-east-1:000000000000:parameter/app/db/user"}"#)
            #expect(byARN["Parameter"]?["Name"]?.stringValue == "/app/db/user")
            let oldVersion = try await client.ssm("GetParameter", #"{"Name": "/app/db/user:1"}"#)
            #expect(oldVersion.errorType == "ParameterVersionNotFound")
            // A new parameter needs a type
            let untyped = try await client.ssm("PutParameter", #"{"Name": "fresh", "Value": "x"}"#)
            #expect(untyped.errorType == "ValidationException")
            #expect(untyped.message.contains("type is required"))
        }
    }

    @Test("A SecureString answers its value only WithDecryption; otherwise an opaque form that is not the value")
    func secureString() async throws {
        try await withControlPlane { client in
            try await client.ssmOK(
                "PutParameter", #"{"Name": "/app/db/password", "Value": "hunter2-s3cret", "Type": "SecureString"}"#)
            let opaque = try await client.ssmOK("GetParameter", #"{"Name": "/app/db/password"}"#)
            let value = try #require(opaque["Parameter"]?["Value"]?.stringValue)
            #expect(value != "hunter2-s3cret")
            #expect(!value.contains("hunter2"))
            let clear = try await client.ssmOK("GetParameter", #"{"Name": "/app/db/password", "WithDecryption": true}"#)
            #expect(clear["Parameter"]?["Value"]?.stringValue == "hunter2-s3cret")
            #expect(clear["Parameter"]?["Type"]?.stringValue == "SecureString")
            let described = try await client.ssmOK("DescribeParameters", "{}")
            #expect(described["Parameters"]?[0]?["KeyId"]?.stringValue == "alias/aws/ssm")
            #expect(described["Parameters"]?[0]?["Value"] == nil)
        }
    }

    @Test("GetParameters answers the known names and lists the others in InvalidParameters")
    func getParameters() async throws {
        try await withControlPlane { client in
            try await client.ssmOK("PutParameter", #"{"Name": "a", "Value": "1", "Type": "String"}"#)
            try await client.ssmOK("PutParameter", #"{"Name": "b", "Value": "x,y", "Type": "StringList"}"#)
            let reply = try await client.ssmOK("GetParameters", #"{"Names": ["a", "b", "missing"]}"#)
            #expect(reply["Parameters"]?.arrayValue?.compactMap { $0["Name"]?.stringValue }.sorted() == ["a", "b"])
            #expect(reply["InvalidParameters"]?.arrayValue?.compactMap(\.stringValue) == ["missing"])
            let tooMany = try await client.ssm(
                "GetParameters", #"{"Names": [\#((1...11).map { "\"n\($0)\"" }.joined(separator: ","))]}"#)
            #expect(tooMany.errorType == "ValidationException")
        }
    }

    @Test("GetParametersByPath: one level or recursive, paged by MaxResults and NextToken")
    func byPath() async throws {
        try await withControlPlane { client in
            for name in ["/app/a", "/app/b", "/app/c", "/app/deep/d", "/other/e"] {
                try await client.ssmOK("PutParameter", #"{"Name": "\#(name)", "Value": "v", "Type": "String"}"#)
            }
            let oneLevel = try await client.ssmOK("GetParametersByPath", #"{"Path": "/app"}"#)
            #expect(
                oneLevel["Parameters"]?.arrayValue?.compactMap { $0["Name"]?.stringValue } == [
                    "/app/a", "/app/b", "/app/c",
                ])
            // Recursive, two at a time
            var names: [String] = []
            var token: String?
            var pages = 0
            repeat {
                let body =
                    token.map { #"{"Path": "/app", "Recursive": true, "MaxResults": 2, "NextToken": "\#($0)"}"# }
                    ?? #"{"Path": "/app", "Recursive": true, "MaxResults": 2}"#
                let page = try await client.ssmOK("GetParametersByPath", body)
                names += page["Parameters"]?.arrayValue?.compactMap { $0["Name"]?.stringValue } ?? []
                token = page["NextToken"]?.stringValue
                pages += 1
            } while token != nil && pages < 10
            #expect(names == ["/app/a", "/app/b", "/app/c", "/app/deep/d"])
            #expect(pages == 2)
            let badToken = try await client.ssm("GetParametersByPath", #"{"Path": "/app", "NextToken": "%%%"}"#)
            #expect(badToken.errorType == "InvalidNextToken")
            let badPath = try await client.ssm("GetParametersByPath", #"{"Path": "app"}"#)
            #expect(badPath.errorType == "ValidationException")
            let tooBig = try await client.ssm("GetParametersByPath", #"{"Path": "/app", "MaxResults": 11}"#)
            #expect(tooBig.errorType == "ValidationException")
        }
    }

    @Test("DeleteParameter, DeleteParameters and ParameterNotFound")
    func deletes() async throws {
        try await withControlPlane { client in
            for name in ["x", "y", "z"] {
                try await client.ssmOK("PutParameter", #"{"Name": "\#(name)", "Value": "v", "Type": "String"}"#)
            }
            try await client.ssmOK("DeleteParameter", #"{"Name": "x"}"#)
            #expect(try await client.ssm("GetParameter", #"{"Name": "x"}"#).errorType == "ParameterNotFound")
            #expect(try await client.ssm("DeleteParameter", #"{"Name": "x"}"#).errorType == "ParameterNotFound")
            let many = try await client.ssmOK("DeleteParameters", #"{"Names": ["y", "z", "x"]}"#)
            #expect(many["DeletedParameters"]?.arrayValue?.compactMap(\.stringValue) == ["y", "z"])
            #expect(many["InvalidParameters"]?.arrayValue?.compactMap(\.stringValue) == ["x"])
            let left = try await client.ssmOK("DescribeParameters", "{}")
            #expect(left["Parameters"]?.arrayValue?.isEmpty == true)
        }
    }

    @Test(
        "Bad PutParameter input gets SSM's error naming the field, and writes nothing",
        arguments: [
            (#"{"Name": "has space", "Value": "v", "Type": "String"}"#, "ValidationException", "Parameter name"),
            (#"{"Name": "a/b", "Value": "v", "Type": "String"}"#, "ValidationException", "fully qualified"),
            (
                #"{"Name": "/aws/x", "Value": "v", "Type": "String"}"#, "AccessDeniedException",
                "reserved parameter name"
            ),
            (#"{"Name": "n", "Value": "v", "Type": "Secret"}"#, "ValidationException", "'type'"),
            (#"{"Name": "n", "Value": "", "Type": "String"}"#, "ValidationException", "'value'"),
            (
                #"{"Name": "n", "Value": "\#(String(repeating: "v", count: 4097))", "Type": "String"}"#,
                "ValidationException", "Standard tier"
            ),
            (
                #"{"Name": "n", "Value": "\#(String(repeating: "v", count: 8193))", "Type": "String", "Tier": "Advanced"}"#,
                "ValidationException", "Advanced tier"
            ),
            (
                #"{"Name": "/\#((1...16).map { "l\($0)" }.joined(separator: "/"))", "Value": "v", "Type": "String"}"#,
                "HierarchyLevelLimitExceededException", "15 levels"
            ),
        ])
    func putParameterValidation(body: String, type: String, words: String) async throws {
        try await withControlPlane { client in
            let reply = try await client.ssm("PutParameter", body)
            #expect(reply.status == 400)
            #expect(reply.errorType == type)
            #expect(reply.message.contains(words))
            let left = try await client.ssmOK("DescribeParameters", "{}")
            #expect(left["Parameters"]?.arrayValue?.isEmpty == true)
        }
    }

    @Test("An 8 KB value is taken at the Advanced tier (and by Intelligent-Tiering, which picks Advanced)")
    func advancedTier() async throws {
        try await withControlPlane { client in
            let value = String(repeating: "v", count: 8192)
            let advanced = try await client.ssmOK(
                "PutParameter", #"{"Name": "big", "Value": "\#(value)", "Type": "String", "Tier": "Advanced"}"#)
            #expect(advanced["Tier"]?.stringValue == "Advanced")
            let smart = try await client.ssmOK(
                "PutParameter",
                #"{"Name": "big2", "Value": "\#(value)", "Type": "String", "Tier": "Intelligent-Tiering"}"#)
            #expect(smart["Tier"]?.stringValue == "Advanced")
            let got = try await client.ssmOK("GetParameter", #"{"Name": "big"}"#)
            #expect(got["Parameter"]?["Value"]?.stringValue == value)
        }
    }

    // MARK: - Secrets Manager

    @Test("CreateSecret, GetSecretValue, PutSecretValue (AWSCURRENT and AWSPREVIOUS), DescribeSecret, ListSecrets")
    func secretLifecycle() async throws {
        try await withControlPlane { client in
            // Given
            let created = try await client.secretsOK(
                "CreateSecret",
                #"{"Name": "prod/db", "SecretString": "{\"password\": \"p1\"}", "ClientRequestToken": "11111111-1111-1111-1111-111111111111"}"#
            )
            let arn = try #require(created["ARN"]?.stringValue)
            #expect(arn.hasPrefix("arn:aws:secretsmanager:us-east-1:000000000000:secret:prod/db-"))
            #expect(arn.count == "arn:aws:secretsmanager:us-east-1:000000000000:secret:prod/db-".count + 6)
            #expect(created["VersionId"]?.stringValue == "11111111-1111-1111-1111-111111111111")
            // When / Then: by name and by ARN
            let value = try await client.secretsOK("GetSecretValue", #"{"SecretId": "prod/db"}"#)
            #expect(value["SecretString"]?.stringValue == #"{"password": "p1"}"#)
            #expect(value["VersionStages"]?.arrayValue?.compactMap(\.stringValue) == ["AWSCURRENT"])
            let byARN = try await client.secretsOK("GetSecretValue", #"{"SecretId": "\#(arn)"}"#)
            #expect(byARN["Name"]?.stringValue == "prod/db")
            // A new value; the old one is AWSPREVIOUS
            let put = try await client.secretsOK("PutSecretValue", #"{"SecretId": "prod/db", "SecretString": "p2"}"#)
            #expect(put["VersionStages"]?.arrayValue?.compactMap(\.stringValue) == ["AWSCURRENT"])
            #expect(
                try await client.secretsOK("GetSecretValue", #"{"SecretId": "prod/db"}"#)["SecretString"]?.stringValue
                    == "p2")
            let previous = try await client.secretsOK(
                "GetSecretValue", #"{"SecretId": "prod/db", "VersionStage": "AWSPREVIOUS"}"#)
            #expect(previous["SecretString"]?.stringValue == #"{"password": "p1"}"#)
            // Same token, other value: refused
            let reused = try await client.secretsManager(
                "PutSecretValue",
                #"{"SecretId": "prod/db", "SecretString": "p3", "ClientRequestToken": "11111111-1111-1111-1111-111111111111"}"#
            )
            #expect(reused.errorType == "ResourceExistsException")
            let described = try await client.secretsOK("DescribeSecret", #"{"SecretId": "prod/db"}"#)
            #expect(described["ARN"]?.stringValue == arn)
            #expect(described["VersionIdsToStages"]?.objectValue?.count == 2)
            #expect(described["SecretString"] == nil)
            let listed = try await client.secretsOK("ListSecrets", "{}")
            #expect(listed["SecretList"]?[0]?["Name"]?.stringValue == "prod/db")
            #expect(listed["SecretList"]?[0]?["SecretVersionsToStages"]?.objectValue?.count == 2)
            // A second secret of the same name
            let again = try await client.secretsManager("CreateSecret", #"{"Name": "prod/db", "SecretString": "x"}"#)
            #expect(again.errorType == "ResourceExistsException")
            #expect(again.message == "The operation failed because the secret prod/db already exists.")
        }
    }

    @Test("DeleteSecret schedules the deletion: no value meanwhile, listed only on request, restorable; force deletes")
    func secretDeletion() async throws {
        try await withControlPlane { client in
            try await client.secretsOK("CreateSecret", #"{"Name": "tmp", "SecretString": "v"}"#)
            let scheduled = try await client.secretsOK(
                "DeleteSecret", #"{"SecretId": "tmp", "RecoveryWindowInDays": 7}"#)
            #expect(scheduled["DeletionDate"]?.intValue == Int(testNow.timeIntervalSince1970) + 7 * 86_400)
            let value = try await client.secretsManager("GetSecretValue", #"{"SecretId": "tmp"}"#)
            #expect(value.errorType == "InvalidRequestException")
            #expect(value.message.contains("marked for deletion"))
            #expect(try await client.secretsOK("ListSecrets", "{}")["SecretList"]?.arrayValue?.isEmpty == true)
            let planned = try await client.secretsOK("ListSecrets", #"{"IncludePlannedDeletion": true}"#)
            #expect(planned["SecretList"]?[0]?["DeletedDate"]?.intValue == Int(testNow.timeIntervalSince1970))
            let recreate = try await client.secretsManager("CreateSecret", #"{"Name": "tmp", "SecretString": "v"}"#)
            #expect(recreate.errorType == "InvalidRequestException")
            try await client.secretsOK("RestoreSecret", #"{"SecretId": "tmp"}"#)
            #expect(
                try await client.secretsOK("GetSecretValue", #"{"SecretId": "tmp"}"#)["SecretString"]?.stringValue
                    == "v")
            try await client.secretsOK("DeleteSecret", #"{"SecretId": "tmp", "ForceDeleteWithoutRecovery": true}"#)
            let gone = try await client.secretsManager("GetSecretValue", #"{"SecretId": "tmp"}"#)
            #expect(gone.errorType == "ResourceNotFoundException")
            #expect(gone.message == "Secrets Manager can't find the specified secret.")
            let both = try await client.secretsManager(
                "DeleteSecret", #"{"SecretId": "tmp", "ForceDeleteWithoutRecovery": true, "RecoveryWindowInDays": 7}"#)
            #expect(both.errorType == "InvalidParameterException")
        }
    }

    @Test(
        "Bad Secrets Manager input gets its error naming the problem",
        arguments: [
            ("CreateSecret", #"{"Name": "bad name", "SecretString": "v"}"#, "InvalidParameterException"),
            ("CreateSecret", #"{"Name": "n", "SecretString": ""}"#, "ValidationException"),
            ("CreateSecret", #"{"Name": "n", "SecretBinary": "AAAA"}"#, "InvalidParameterException"),
            (
                "CreateSecret", #"{"Name": "n", "SecretString": "v", "ClientRequestToken": "short"}"#,
                "ValidationException"
            ),
            ("DeleteSecret", #"{"SecretId": "n", "RecoveryWindowInDays": 6}"#, "InvalidParameterException"),
            ("GetSecretValue", #"{"SecretId": "nope"}"#, "ResourceNotFoundException"),
            ("PutSecretValue", #"{"SecretId": "nope"}"#, "InvalidRequestException"),
            ("ListSecrets", #"{"MaxResults": 101}"#, "ValidationException"),
        ])
    func secretsValidation(operation: String, body: String, type: String) async throws {
        try await withControlPlane { client in
            let reply = try await client.secretsManager(operation, body)
            #expect(reply.status == 400)
            #expect(reply.errorType == type)
        }
    }

    @Test("A 64 KB secret is taken; one byte more is refused")
    func secretSize() async throws {
        try await withControlPlane { client in
            let fits = String(repeating: "s", count: SecretsManagerRules.maxSecretBytes)
            try await client.secretsOK("CreateSecret", #"{"Name": "big", "SecretString": "\#(fits)"}"#)
            let over = try await client.secretsManager(
                "CreateSecret", #"{"Name": "big2", "SecretString": "\#(fits)s"}"#)
            #expect(over.errorType == "ValidationException")
        }
    }

    // MARK: - Scopes and rest

    @Test("A read-only key sees metadata only; an agent key nothing; writes and values need admin")
    func scopes() async throws {
        try await withControlPlane { client in
            try await client.ssmOK("PutParameter", #"{"Name": "p", "Value": "v", "Type": "SecureString"}"#)
            try await client.secretsOK("CreateSecret", #"{"Name": "s", "SecretString": "v"}"#)
            let reader = try await client.createKey("reader", scope: "read-only")
            let daemon = try await client.createKey("daemon", scope: "agent")
            for (operation, body) in [
                ("GetParameter", #"{"Name": "p", "WithDecryption": true}"#), ("GetParameter", #"{"Name": "p"}"#),
                ("GetParameters", #"{"Names": ["p"]}"#), ("GetParametersByPath", #"{"Path": "/"}"#),
                ("PutParameter", #"{"Name": "q", "Value": "v", "Type": "String"}"#),
                ("DeleteParameter", #"{"Name": "p"}"#),
            ] {
                let refused = try await client.ssm(operation, body, as: reader)
                #expect(refused.errorType == "AccessDeniedException", "\(operation)")
                #expect(refused.message.contains("ssm:\(operation)"))
            }
            #expect(try await client.ssm("DescribeParameters", "{}", as: reader).status == 200)
            #expect(try await client.ssm("DescribeParameters", "{}", as: daemon).errorType == "AccessDeniedException")
            for (operation, body) in [
                ("GetSecretValue", #"{"SecretId": "s"}"#), ("CreateSecret", #"{"Name": "t", "SecretString": "v"}"#),
                ("PutSecretValue", #"{"SecretId": "s", "SecretString": "w"}"#), ("DeleteSecret", #"{"SecretId": "s"}"#),
            ] {
                let refused = try await client.secretsManager(operation, body, as: reader)
                #expect(refused.errorType == "AccessDeniedException", "\(operation)")
            }
            #expect(try await client.secretsManager("ListSecrets", "{}", as: reader).status == 200)
            #expect(try await client.secretsManager("DescribeSecret", #"{"SecretId": "s"}"#, as: reader).status == 200)
            #expect(
                try await client.secretsManager("ListSecrets", "{}", as: daemon).errorType == "AccessDeniedException")
            // Signed for the wrong service (ecs instead of ssm): refused as AWS refuses it
            let wrongService = try await client.raw(
                headers: [
                    HTTPField.Name("X-Amz-Target")!: TargetPrefix.ssm.target("DescribeParameters"),
                    .contentType: "application/x-amz-json-1.1",
                ],
                body: "{}", service: "ecs")
            #expect(wrongService.errorType == "InvalidSignatureException")
        }
    }

    @Test("Values are sealed at rest: the database file holds no value, and nothing is logged at any level")
    func sealedAtRest() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("flotilla-secrets-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try ControlPlaneStore.open(directory: directory)
        let logs = InMemoryLogHandler()
        var logger = Logger(label: "test") { _ in logs }
        logger.logLevel = .trace
        let plain = ["plain-string-value-7781", "secure-string-value-5512", "secret-string-value-9934", "second-4471"]
        try await withControlPlane(store: store, logger: logger) { client in
            try await client.ssmOK("PutParameter", #"{"Name": "/a/s", "Value": "\#(plain[0])", "Type": "String"}"#)
            try await client.ssmOK(
                "PutParameter", #"{"Name": "/a/p", "Value": "\#(plain[1])", "Type": "SecureString"}"#)
            try await client.secretsOK("CreateSecret", #"{"Name": "db", "SecretString": "\#(plain[2])"}"#)
            try await client.secretsOK("PutSecretValue", #"{"SecretId": "db", "SecretString": "\#(plain[3])"}"#)
            try await client.ssmOK("GetParametersByPath", #"{"Path": "/a", "WithDecryption": true}"#)
            try await client.secretsOK("GetSecretValue", #"{"SecretId": "db"}"#)
        }
        try store.close()
        var bytes = Data()
        for file in try FileManager.default.contentsOfDirectory(atPath: directory.path) {
            bytes += FileManager.default.contents(atPath: directory.appendingPathComponent(file).path) ?? Data()
        }
        #expect(!bytes.isEmpty)
        for value in plain {
            #expect(bytes.range(of: Data(value.utf8)) == nil, "\(value) in the data directory")
            for entry in logs.entries {
                #expect(!"\(entry.message) \(entry.metadata)".contains(value), "\(value) logged")
            }
        }
        #expect(logs.entries.contains { $0.message == "parameter written" })
    }
}
