import FlotillaTestKit
import Foundation
import SigV4
import TaskDefinitions
import Testing

/// The stock `aws ssm`, `aws secretsmanager` and boto3 against the real `ecs-control-plane`.
@Suite("awscli and boto3: the parameter store and the secret store", .serialized, .timeLimit(.minutes(10)))
struct AWSSecretStoresTests {
    @Test("aws ssm put-parameter, get-parameter, get-parameters-by-path (paged), delete-parameter")
    func ssm() async throws {
        let server = try await ControlPlaneProcess()
        defer { server.terminate() }
        let endpoint = server.endpoint
        // Given
        let put = try await awsCLIOK(
            "ssm", "put-parameter", "--name", "/it/db/user", "--value", "admin", "--type", "String",
            endpoint: endpoint)
        #expect(put["Version"]?.intValue == 1)
        try await awsCLIOK(
            "ssm", "put-parameter", "--name", "/it/db/password", "--value", "cli-s3cret", "--type", "SecureString",
            endpoint: endpoint)
        try await awsCLIOK(
            "ssm", "put-parameter", "--name", "/it/region", "--value", "a,b", "--type", "StringList", endpoint: endpoint
        )
        // A second put without --overwrite is refused; with it, a new version
        let again = try await awsCLI(
            ["ssm", "put-parameter", "--name", "/it/db/user", "--value", "root", "--type", "String"], endpoint: endpoint
        )
        #expect(again.status != 0)
        #expect(again.stderr.contains("(ParameterAlreadyExists)"), "\(again.stderr)")
        let overwritten = try await awsCLIOK(
            "ssm", "put-parameter", "--name", "/it/db/user", "--value", "root", "--overwrite", endpoint: endpoint)
        #expect(overwritten["Version"]?.intValue == 2)
        // When / Then
        let clear = try await awsCLIOK(
            "ssm", "get-parameter", "--name", "/it/db/password", "--with-decryption", endpoint: endpoint)
        #expect(clear["Parameter"]?["Value"]?.stringValue == "cli-s3cret")
        let sealed = try await awsCLIOK("ssm", "get-parameter", "--name", "/it/db/password", endpoint: endpoint)
        #expect(sealed["Parameter"]?["Value"]?.stringValue != "cli-s3cret")
        // The awscli follows NextToken itself: one parameter a page
        let byPath = try await awsCLIOK(
            "ssm", "get-parameters-by-path", "--path", "/it", "--recursive", "--with-decryption", "--page-size", "1",
            endpoint: endpoint)
        let names = byPath["Parameters"]?.arrayValue?.compactMap { $0["Name"]?.stringValue }
        #expect(names == ["/it/db/password", "/it/db/user", "/it/region"])
        #expect(byPath["Parameters"]?[1]?["Value"]?.stringValue == "root")
        let oneLevel = try await awsCLIOK("ssm", "get-parameters-by-path", "--path", "/it", endpoint: endpoint)
        #expect(oneLevel["Parameters"]?.arrayValue?.compactMap { $0["Name"]?.stringValue } == ["/it/region"])
        let described = try await awsCLIOK("ssm", "describe-parameters", endpoint: endpoint)
        #expect(described["Parameters"]?.arrayValue?.count == 3)
        try await awsCLIOK("ssm", "delete-parameter", "--name", "/it/db/user", endpoint: endpoint)
        let gone = try await awsCLI(["ssm", "get-parameter", "--name", "/it/db/user"], endpoint: endpoint)
        #expect(gone.status != 0)
        #expect(gone.stderr.contains("(ParameterNotFound)"), "\(gone.stderr)")
    }

    @Test("aws secretsmanager create-secret, get-secret-value, put-secret-value, list-secrets, delete-secret")
    func secretsManager() async throws {
        let server = try await ControlPlaneProcess()
        defer { server.terminate() }
        let endpoint = server.endpoint
        // Given
        let created = try await awsCLIOK(
            "secretsmanager", "create-secret", "--name", "it/db", "--secret-string", #"{"password": "first"}"#,
            endpoint: endpoint)
        let arn = try #require(created["ARN"]?.stringValue)
        #expect(arn.hasPrefix("arn:aws:secretsmanager:us-east-1:000000000000:secret:it/db-"))
        // When / Then
        let first = try await awsCLIOK("secretsmanager", "get-secret-value", "--secret-id", "it/db", endpoint: endpoint)
        #expect(first["SecretString"]?.stringValue == #"{"password": "first"}"#)
        let put = try await awsCLIOK(
            "secretsmanager", "put-secret-value", "--secret-id", arn, "--secret-string", "second", endpoint: endpoint)
        #expect(put["VersionStages"]?.arrayValue?.compactMap(\.stringValue) == ["AWSCURRENT"])
        let second = try await awsCLIOK("secretsmanager", "get-secret-value", "--secret-id", arn, endpoint: endpoint)
        #expect(second["SecretString"]?.stringValue == "second")
        let listed = try await awsCLIOK("secretsmanager", "list-secrets", endpoint: endpoint)
        #expect(listed["SecretList"]?.arrayValue?.compactMap { $0["Name"]?.stringValue } == ["it/db"])
        let duplicate = try await awsCLI(
            ["secretsmanager", "create-secret", "--name", "it/db", "--secret-string", "x"], endpoint: endpoint)
        #expect(duplicate.stderr.contains("(ResourceExistsException)"), "\(duplicate.stderr)")
        let scheduled = try await awsCLIOK(
            "secretsmanager", "delete-secret", "--secret-id", "it/db", "--recovery-window-in-days", "7",
            endpoint: endpoint)
        #expect(scheduled["DeletionDate"] != nil)
        try await awsCLIOK("secretsmanager", "restore-secret", "--secret-id", "it/db", endpoint: endpoint)
        try await awsCLIOK(
            "secretsmanager", "delete-secret", "--secret-id", "it/db", "--force-delete-without-recovery",
            endpoint: endpoint)
        let gone = try await awsCLI(["secretsmanager", "get-secret-value", "--secret-id", "it/db"], endpoint: endpoint)
        #expect(gone.status != 0)
        #expect(gone.stderr.contains("(ResourceNotFoundException)"), "\(gone.stderr)")
        #expect(gone.stderr.contains("Secrets Manager can't find the specified secret."))
    }

    @Test("boto3 round trip through both stores, with their paginators and error codes")
    func boto3RoundTrip() async throws {
        let server = try await ControlPlaneProcess()
        defer { server.terminate() }
        let script = """
            import boto3, botocore, json, sys
            kwargs = dict(endpoint_url=sys.argv[1], region_name="us-east-1", aws_access_key_id=sys.argv[2],
                          aws_secret_access_key=sys.argv[3], verify=sys.argv[4])
            ssm = boto3.client("ssm", **kwargs)
            sm = boto3.client("secretsmanager", **kwargs)
            out = {}
            for i in range(5):
                ssm.put_parameter(Name=f"/boto/p{i}", Value=f"value-{i}", Type="SecureString")
            out["version"] = ssm.put_parameter(Name="/boto/p0", Value="changed", Overwrite=True)["Version"]
            out["get"] = ssm.get_parameter(Name="/boto/p0", WithDecryption=True)["Parameter"]["Value"]
            pages = ssm.get_paginator("get_parameters_by_path").paginate(
                Path="/boto", WithDecryption=True, PaginationConfig={"PageSize": 2})
            out["pages"] = [[p["Value"] for p in page["Parameters"]] for page in pages]
            try:
                ssm.get_parameter(Name="/boto/none")
            except botocore.exceptions.ClientError as error:
                out["missing"] = error.response["Error"]["Code"]
            arn = sm.create_secret(Name="boto/secret", SecretString=json.dumps({"k": "v1"}))["ARN"]
            sm.put_secret_value(SecretId=arn, SecretString=json.dumps({"k": "v2"}))
            out["secret"] = json.loads(sm.get_secret_value(SecretId="boto/secret")["SecretString"])["k"]
            out["previous"] = json.loads(
                sm.get_secret_value(SecretId=arn, VersionStage="AWSPREVIOUS")["SecretString"])["k"]
            out["listed"] = [s["Name"] for s in sm.list_secrets()["SecretList"]]
            sm.delete_secret(SecretId=arn, ForceDeleteWithoutRecovery=True)
            try:
                sm.get_secret_value(SecretId=arn)
            except botocore.exceptions.ClientError as error:
                out["deleted"] = error.response["Error"]["Code"]
            print(json.dumps(out, sort_keys=True))
            """
        let boto = try await HostCommand.runToCompletion([
            "/usr/bin/env", "python3", "-c", script, server.endpoint, TestAccessKeys.administrator.accessKeyID,
            TestAccessKeys.administrator.secretAccessKey, TestPKI.caBundle,
        ])
        #expect(boto.status == 0, "\(boto.stderr)")
        let out = try JSONDecoder().decode(JSONValue.self, from: Data(boto.stdout.utf8))
        #expect(out["version"]?.intValue == 2)
        #expect(out["get"]?.stringValue == "changed")
        #expect(
            out["pages"]?.arrayValue?.map { $0.arrayValue?.compactMap(\.stringValue) ?? [] } == [
                ["changed", "value-1"], ["value-2", "value-3"], ["value-4"],
            ])
        #expect(out["missing"]?.stringValue == "ParameterNotFound")
        #expect(out["secret"]?.stringValue == "v2")
        #expect(out["previous"]?.stringValue == "v1")
        #expect(out["listed"]?.arrayValue?.compactMap(\.stringValue) == ["boto/secret"])
        #expect(out["deleted"]?.stringValue == "ResourceNotFoundException")
    }
}
