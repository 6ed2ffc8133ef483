import ECSProtocol
import Foundation
import Testing

@Suite("Secret stores' wire: SSM and Secrets Manager shapes, their checks, and task secret references")
struct SecretStoreWireTests {
    static let json = "application/x-amz-json-1.1"

    /// The error `ECSWire.request` answers (nil when it accepts the request).
    static func refusal(_ target: String, _ body: String) -> ECSError? {
        do {
            _ = try ECSWire.request(target: target, contentType: json, body: Data(body.utf8))
            return nil
        } catch {
            return ECSWire.ecsError(from: error)
        }
    }

    @Test("AmazonSSM.* and secretsmanager.* route to their shapes, PascalCase members decoded")
    func routing() throws {
        let (route, request) = try ECSWire.request(
            target: "AmazonSSM.PutParameter", contentType: Self.json,
            body: Data(#"{"Name": "/a/b", "Value": "v", "Type": "SecureString", "Overwrite": true}"#.utf8))
        #expect(route.prefix == "AmazonSSM.")
        let put = try #require(request as? PutParameterRequest)
        #expect(put.parameterType == .secureString)
        #expect(put.overwrite == true)
        #expect(put.resolvedTier == .standard)
        let (_, secret) = try ECSWire.request(
            target: "secretsmanager.GetSecretValue", contentType: Self.json,
            body: Data(#"{"SecretId": "db", "VersionStage": "AWSPREVIOUS"}"#.utf8))
        #expect((secret as? GetSecretValueRequest)?.versionStage == "AWSPREVIOUS")
        #expect(Self.refusal("AmazonSSM.SendCommand", "{}")?.type == "UnknownOperationException")
    }

    @Test(
        "PutParameter's checks, in SSM's error codes",
        arguments: [
            (#"{"Name": "ok", "Value": "v", "Type": "String"}"#, nil),
            (#"{"Name": "/a/b.c-d_e", "Value": "v", "Type": "StringList"}"#, nil),
            (#"{"Name": "", "Value": "v", "Type": "String"}"#, "ValidationException"),
            (#"{"Name": "a b", "Value": "v", "Type": "String"}"#, "ValidationException"),
            (#"{"Name": "a/b", "Value": "v", "Type": "String"}"#, "ValidationException"),
            (#"{"Name": "/a//b", "Value": "v", "Type": "String"}"#, "ValidationException"),
            (#"{"Name": "/a/", "Value": "v", "Type": "String"}"#, "ValidationException"),
            (#"{"Name": "SSM-thing", "Value": "v", "Type": "String"}"#, "AccessDeniedException"),
            (#"{"Name": "/AWS/x", "Value": "v", "Type": "String"}"#, "AccessDeniedException"),
            (#"{"Name": "n", "Value": "v", "Type": "string"}"#, "ValidationException"),
            (#"{"Name": "n", "Value": "v", "Type": "String", "Tier": "Premium"}"#, "ValidationException"),
            (#"{"Name": "n", "Value": "v", "Type": "String", "KeyId": "alias/mine"}"#, "ValidationException"),
            (#"{"Name": "n", "Value": "v", "Type": "SecureString", "KeyId": "alias/mine"}"#, nil),
            (#"{"Name": "n", "Value": "v", "Type": "String", "AllowedPattern": "^.*$"}"#, "ValidationException"),
            (#"{"Name": "n", "Value": "v", "Type": "String", "DataType": "aws:ec2:image"}"#, "ValidationException"),
            (
                #"{"Name": "n", "Value": "v", "Type": "String", "Tags": [{"Key": "k", "Value": "v"}]}"#,
                "ValidationException"
            ),
        ] as [(String, String?)])
    func putParameterChecks(body: String, error: String?) {
        #expect(Self.refusal("AmazonSSM.PutParameter", body)?.type == error)
    }

    @Test("A missing member is ValidationException naming it; a wrong JSON type SerializationException")
    func missingMembers() {
        let missing = Self.refusal("AmazonSSM.PutParameter", #"{"Value": "v", "Type": "String"}"#)
        #expect(missing?.type == "ValidationException")
        #expect(missing?.message.hasPrefix("Name") == true)
        #expect(Self.refusal("secretsmanager.GetSecretValue", "{}")?.type == "ValidationException")
        #expect(Self.refusal("AmazonSSM.GetParameter", #"{"Name": 5}"#)?.type == "SerializationException")
    }

    @Test("Values: 4096 bytes at Standard, 8192 at Advanced, UTF-8 bytes counted; the value never in the message")
    func valueSizes() {
        func put(_ value: String, tier: String? = nil) -> ECSError? {
            let request = PutParameterRequest(name: "n", value: value, type: .string, tier: tier)
            do { try request.validate() } catch { return error }
            return nil
        }
        #expect(put(String(repeating: "a", count: 4096)) == nil)
        #expect(put(String(repeating: "a", count: 4097))?.type == "ValidationException")
        #expect(put(String(repeating: "é", count: 2049))?.type == "ValidationException")
        #expect(put(String(repeating: "a", count: 8192), tier: "Advanced") == nil)
        #expect(put(String(repeating: "a", count: 8193), tier: "Advanced")?.type == "ValidationException")
        #expect(put(String(repeating: "a", count: 5000), tier: "Intelligent-Tiering") == nil)
        let secret = "do-not-echo-" + String(repeating: "x", count: 5000)
        #expect(put(secret)?.message.contains("do-not-echo") == false)
    }

    @Test("Name lists, paths, page sizes and filters")
    func lookups() {
        #expect(Self.refusal("AmazonSSM.GetParameters", #"{"Names": []}"#)?.type == "ValidationException")
        #expect(Self.refusal("AmazonSSM.GetParametersByPath", #"{"Path": "/"}"#) == nil)
        #expect(Self.refusal("AmazonSSM.GetParametersByPath", #"{"Path": "x"}"#)?.type == "ValidationException")
        #expect(
            Self.refusal("AmazonSSM.GetParametersByPath", #"{"Path": "/a", "MaxResults": 0}"#)?.type
                == "ValidationException")
        #expect(
            Self.refusal("AmazonSSM.DescribeParameters", #"{"MaxResults": 51}"#)?.type == "ValidationException")
        #expect(
            Self.refusal(
                "AmazonSSM.DescribeParameters", #"{"ParameterFilters": [{"Key": "Label", "Values": ["x"]}]}"#)?.type
                == "InvalidFilterKey")
        #expect(
            Self.refusal(
                "AmazonSSM.DescribeParameters",
                #"{"ParameterFilters": [{"Key": "Name", "Option": "Regex", "Values": ["x"]}]}"#)?.type
                == "InvalidFilterOption")
        #expect(
            Self.refusal("AmazonSSM.DescribeParameters", #"{"ParameterFilters": [{"Key": "Type"}]}"#)?.type
                == "InvalidFilterValue")
        #expect(
            Self.refusal(
                "AmazonSSM.GetParametersByPath",
                #"{"Path": "/a", "ParameterFilters": [{"Key": "Path", "Values": ["/a"]}]}"#)?.type
                == "InvalidFilterKey")
    }

    @Test(
        "Paths: one level or recursive",
        arguments: [
            ("/a/b", "/a", false, true), ("/a/b/c", "/a", false, false), ("/a/b/c", "/a", true, true),
            ("/ab", "/a", true, false), ("/a", "/a", true, false), ("/x", "/", false, true), ("x", "/", true, false),
        ])
    func paths(name: String, path: String, recursive: Bool, under: Bool) {
        #expect(ParameterStoreRules.isUnder(name, path: path, recursive: recursive) == under)
    }

    @Test("Parameter ARNs and the names they stand for")
    func parameterARNs() {
        let prefix = "arn:aws:ssm:us-east-1:000000000000:parameter"
        #expect(ParameterStoreRules.arn(name: "/a/b", region: "us-east-1", account: "000000000000") == prefix + "/a/b")
        #expect(
            ParameterStoreRules.arn(name: "plain", region: "us-east-1", account: "000000000000") == prefix + "/plain")
        #expect(ParameterStoreRules.candidateNames(prefix + "/a/b", arnPrefix: prefix) == ["/a/b"])
        #expect(ParameterStoreRules.candidateNames(prefix + "/plain", arnPrefix: prefix) == ["plain", "/plain"])
        #expect(ParameterStoreRules.candidateNames("arn:aws:ssm:eu-west-1:1:parameter/x", arnPrefix: prefix) == [])
        #expect(ParameterStoreRules.candidateNames("name", arnPrefix: prefix) == ["name"])
    }

    @Test(
        "Secrets Manager's checks",
        arguments: [
            ("CreateSecret", #"{"Name": "prod/db+x=y.z@w-1", "SecretString": "v"}"#, nil),
            ("CreateSecret", #"{"Name": "n"}"#, nil),
            ("CreateSecret", #"{"Name": "bad:name", "SecretString": "v"}"#, "InvalidParameterException"),
            ("CreateSecret", #"{"Name": "", "SecretString": "v"}"#, "ValidationException"),
            (
                "CreateSecret", #"{"Name": "n", "SecretString": "v", "Tags": [{"Key": "a"}]}"#,
                "InvalidParameterException"
            ),
            (
                "PutSecretValue", #"{"SecretId": "n", "SecretString": "v", "VersionStages": ["X"]}"#,
                "InvalidParameterException"
            ),
            ("PutSecretValue", #"{"SecretId": "n", "SecretString": "v", "VersionStages": ["AWSCURRENT"]}"#, nil),
            ("GetSecretValue", #"{"SecretId": "n", "VersionId": "short"}"#, "ValidationException"),
            ("GetSecretValue", #"{"SecretId": ""}"#, "ValidationException"),
            ("DeleteSecret", #"{"SecretId": "n", "RecoveryWindowInDays": 31}"#, "InvalidParameterException"),
            ("DeleteSecret", #"{"SecretId": "n", "RecoveryWindowInDays": 30}"#, nil),
            ("ListSecrets", #"{"Filters": [{"Key": "tag-key", "Values": ["a"]}]}"#, "InvalidParameterException"),
            ("ListSecrets", #"{"SortOrder": "up"}"#, "ValidationException"),
        ] as [(String, String, String?)])
    func secretsChecks(operation: String, body: String, error: String?) {
        #expect(Self.refusal("secretsmanager." + operation, body)?.type == error)
    }

    @Test("A secret of 65,536 bytes is taken, one more is not")
    func secretSize() {
        func create(_ value: String) -> ECSError? {
            do { try CreateSecretRequest(name: "n", secretString: value).validate() } catch { return error }
            return nil
        }
        #expect(create(String(repeating: "s", count: 65_536)) == nil)
        #expect(create(String(repeating: "s", count: 65_537))?.type == "ValidationException")
    }

    @Test("ListSecrets filters match prefixes, case aside, and ! negates")
    func secretFilters() {
        let filter = SecretFilter(key: "name", values: ["Prod/"])
        #expect(filter.matches(name: "prod/db", description: nil))
        #expect(!filter.matches(name: "dev/db", description: nil))
        #expect(SecretFilter(key: "name", values: ["!prod"]).matches(name: "dev/db", description: nil))
        #expect(SecretFilter(key: "all", values: ["main"]).matches(name: "x", description: "main database"))
    }

    @Test(
        "valueFrom: a parameter name or ARN, or a Secrets Manager ARN with ECS's json-key:version-stage:version-id",
        arguments: [
            ("/app/token", TaskSecretReference.parameter("/app/token")),
            ("plain", .parameter("plain")),
            (
                "arn:aws:ssm:us-east-1:000000000000:parameter/app/token",
                .parameter("arn:aws:ssm:us-east-1:000000000000:parameter/app/token")
            ),
            (
                "arn:aws:secretsmanager:us-east-1:000000000000:secret:db-AbCdEf",
                .secret(
                    id: "arn:aws:secretsmanager:us-east-1:000000000000:secret:db-AbCdEf", jsonKey: nil,
                    versionStage: nil,
                    versionId: nil)
            ),
            (
                "arn:aws:secretsmanager:us-east-1:000000000000:secret:db-AbCdEf:password::",
                .secret(
                    id: "arn:aws:secretsmanager:us-east-1:000000000000:secret:db-AbCdEf", jsonKey: "password",
                    versionStage: nil, versionId: nil)
            ),
            (
                "arn:aws:secretsmanager:us-east-1:000000000000:secret:db:user:AWSPREVIOUS:",
                .secret(
                    id: "arn:aws:secretsmanager:us-east-1:000000000000:secret:db", jsonKey: "user",
                    versionStage: "AWSPREVIOUS", versionId: nil)
            ),
            (
                "arn:aws:secretsmanager:us-east-1:000000000000:secret:db-AbCdEf:::0123456789abcdef0123456789abcdef",
                .secret(
                    id: "arn:aws:secretsmanager:us-east-1:000000000000:secret:db-AbCdEf", jsonKey: nil,
                    versionStage: nil, versionId: "0123456789abcdef0123456789abcdef")
            ),
        ] as [(String, TaskSecretReference)])
    func references(valueFrom: String, expected: TaskSecretReference) {
        #expect(TaskSecretReference(valueFrom) == expected)
    }

    @Test("valueFrom that is empty, too long, or has more parts than ECS's suffix is no reference")
    func badReferences() {
        #expect(TaskSecretReference("") == nil)
        #expect(TaskSecretReference(String(repeating: "a", count: 2049)) == nil)
        #expect(TaskSecretReference("arn:aws:secretsmanager:r:a:secret:db:k:s:v:extra") == nil)
        #expect(TaskSecretReference("arn:aws:secretsmanager:r:a:secret::k::") == nil)
    }
}
