import FlotillaTestKit
import Foundation
import SigV4
import TaskDefinitions
import Testing

/// The stock awscli, unchanged, against the real `ecs-control-plane` binary.
@Suite("awscli compatibility", .serialized, .timeLimit(.minutes(10)))
struct AWSCLICompatibilityTests {
    /// `aws ecs ARGS` (see `awsCLI`).
    static func aws(
        _ arguments: [String], endpoint: String, as credentials: AWSCredentials = TestAccessKeys.administrator,
        caBundle: String? = TestPKI.caBundle
    ) async throws -> (status: Int32, json: JSONValue, stderr: String) {
        try await awsCLI(["ecs"] + arguments, endpoint: endpoint, as: credentials, caBundle: caBundle)
    }

    @Test("aws ecs drives a cluster, a task definition and a service from start to end")
    func lifecycle() async throws {
        // Given
        let server = try await ControlPlaneProcess()
        defer { server.terminate() }
        func aws(_ arguments: String...) async throws -> JSONValue {
            let result = try await Self.aws(arguments, endpoint: server.endpoint)
            guard result.status == 0 else {
                throw HostCommandError(
                    arguments: ["aws", "ecs"] + arguments,
                    result: HostCommandResult(
                        status: result.status, stdout: "", stderr: result.stderr))
            }
            return result.json
        }

        // When / Then: each command answers ECS-shaped JSON
        let cluster = try await aws("create-cluster", "--cluster-name", "itest")
        #expect(cluster["cluster"]?["clusterName"]?.stringValue == "itest")
        #expect(cluster["cluster"]?["status"]?.stringValue == "ACTIVE")
        #expect(cluster["cluster"]?["clusterArn"]?.stringValue == "arn:aws:ecs:us-east-1:000000000000:cluster/itest")

        let registered = try await aws(
            "register-task-definition", "--cli-input-json", "file://examples/taskdefs/web.json")
        #expect(registered["taskDefinition"]?["family"]?.stringValue == "web")
        #expect(registered["taskDefinition"]?["revision"]?.intValue == 1)
        #expect(registered["taskDefinition"]?["containerDefinitions"]?[0]?["healthCheck"]?["interval"]?.intValue == 5)
        let arn = try #require(registered["taskDefinition"]?["taskDefinitionArn"]?.stringValue)
        #expect(arn == "arn:aws:ecs:us-east-1:000000000000:task-definition/web:1")

        let listed = try await aws("list-task-definitions")
        #expect(listed["taskDefinitionArns"]?.arrayValue?.compactMap(\.stringValue) == [arn])
        let families = try await aws("list-task-definition-families")
        #expect(families["families"]?.arrayValue?.compactMap(\.stringValue) == ["web"])

        let described = try await aws("describe-task-definition", "--task-definition", "web", "--include", "TAGS")
        #expect(described["taskDefinition"]?["taskDefinitionArn"]?.stringValue == arn)
        #expect(described["tags"]?[0]?["key"]?.stringValue == "app")

        let created = try await aws(
            "create-service", "--cluster", "itest", "--service-name", "web",
            "--task-definition", "web", "--desired-count", "2")
        #expect(
            created["service"]?["serviceArn"]?.stringValue == "arn:aws:ecs:us-east-1:000000000000:service/itest/web")
        #expect(created["service"]?["desiredCount"]?.intValue == 2)
        #expect(created["service"]?["runningCount"]?.intValue == 0)

        let services = try await aws("describe-services", "--cluster", "itest", "--services", "web")
        #expect(services["services"]?[0]?["status"]?.stringValue == "ACTIVE")
        #expect(services["services"]?[0]?["deployments"]?[0]?["status"]?.stringValue == "PRIMARY")
        #expect(services["services"]?[0]?["events"]?[0]?["message"]?.stringValue?.contains("unable to place") == true)
        #expect(services["failures"]?.arrayValue?.isEmpty == true)

        let updated = try await aws("update-service", "--cluster", "itest", "--service", "web", "--desired-count", "3")
        #expect(updated["service"]?["desiredCount"]?.intValue == 3)

        let list = try await aws("list-services", "--cluster", "itest")
        #expect(
            list["serviceArns"]?.arrayValue?.compactMap(\.stringValue) == [
                "arn:aws:ecs:us-east-1:000000000000:service/itest/web"
            ])

        let deleted = try await aws("delete-service", "--cluster", "itest", "--service", "web", "--force")
        #expect(deleted["service"]?["status"]?.stringValue == "DRAINING")
        #expect(deleted["service"]?["desiredCount"]?.intValue == 0)

        let deregistered = try await aws("deregister-task-definition", "--task-definition", "web:1")
        #expect(deregistered["taskDefinition"]?["status"]?.stringValue == "INACTIVE")

        let gone = try await aws("delete-cluster", "--cluster", "itest")
        #expect(gone["cluster"]?["status"]?.stringValue == "INACTIVE")
    }

    @Test("The awscli parses ECS errors: code and message, non-zero exit")
    func errors() async throws {
        let server = try await ControlPlaneProcess()
        defer { server.terminate() }
        let missing = try await Self.aws(
            ["describe-task-definition", "--task-definition", "nope"], endpoint: server.endpoint)
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("(ClientException)"))
        #expect(missing.stderr.contains("Unable to describe task definition."))
        let noCluster = try await Self.aws(
            ["describe-services", "--cluster", "ghost", "--services", "web"], endpoint: server.endpoint)
        #expect(noCluster.stderr.contains("(ClusterNotFoundException)"))
        let invalid = try await Self.aws(
            [
                "register-task-definition", "--cli-input-json",
                "file://examples/taskdefs/invalid/duplicate-container-names.json",
            ],
            endpoint: server.endpoint)
        #expect(invalid.stderr.contains("(ClientException)"))
    }

    @Test("Refusals as AWS answers them: unsigned, unknown key, wrong secret, expired signature, read-only key writing")
    func refusals() async throws {
        let server = try await ControlPlaneProcess()
        defer { server.terminate() }
        let unknown = try await Self.aws(
            ["list-clusters"], endpoint: server.endpoint,
            as: AWSCredentials(accessKeyID: "AKFLNOSUCHKEY0000000", secretAccessKey: "whatever"))
        #expect(unknown.status != 0)
        #expect(unknown.stderr.contains("(UnrecognizedClientException)"))
        #expect(unknown.stderr.contains("The security token included in the request is invalid."))
        let wrongSecret = try await Self.aws(
            ["list-clusters"], endpoint: server.endpoint,
            as: AWSCredentials(
                accessKeyID: TestAccessKeys.administrator.accessKeyID, secretAccessKey: "not-the-secret"))
        #expect(wrongSecret.stderr.contains("(InvalidSignatureException)"))
        #expect(wrongSecret.stderr.contains("The request signature we calculated does not match"))

        // A read-only key made with ecsctl lists, but cannot create a cluster
        let made = try await ecsctl(
            ["create-access-key", "--name", "viewer", "--scope", "read-only", "--output", "json"],
            endpoint: server.endpoint)
        #expect(made.status == 0, "\(made.stderr)")
        let key = try JSONDecoder().decode(JSONValue.self, from: Data(made.stdout.utf8))["accessKey"]
        let viewer = AWSCredentials(
            accessKeyID: key?["accessKeyId"]?.stringValue ?? "", secretAccessKey: key?["secretAccessKey"]?.stringValue ?? "")
        #expect(try await Self.aws(["list-clusters"], endpoint: server.endpoint, as: viewer).status == 0)
        let denied = try await Self.aws(["create-cluster", "--cluster-name", "x"], endpoint: server.endpoint, as: viewer)
        #expect(denied.stderr.contains("(AccessDeniedException)"))
        #expect(denied.stderr.contains("user/viewer is not authorized to perform: ecs:CreateCluster"))

        // boto3, and a signature six minutes old (botocore signs with the clock it is given)
        let script = """
            import boto3, botocore, datetime, sys
            from unittest import mock
            kwargs = dict(endpoint_url=sys.argv[1], region_name="us-east-1", aws_access_key_id=sys.argv[2],
                          aws_secret_access_key=sys.argv[3], verify=sys.argv[4])
            ecs = boto3.client("ecs", **kwargs)
            print("clusters", len(ecs.list_clusters()["clusterArns"]))
            old = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=6)
            with mock.patch("botocore.auth.get_current_datetime", return_value=old.replace(tzinfo=None)):
                try:
                    ecs.list_clusters()
                except botocore.exceptions.ClientError as error:
                    print(error.response["Error"]["Code"], error.response["Error"]["Message"])
            """
        let boto = try await HostCommand.runToCompletion([
            "/usr/bin/env", "python3", "-c", script, server.endpoint, TestAccessKeys.administrator.accessKeyID,
            TestAccessKeys.administrator.secretAccessKey, TestPKI.caBundle,
        ])
        #expect(boto.status == 0, "\(boto.stderr)")
        #expect(boto.stdout.contains("clusters 0"))
        #expect(boto.stdout.contains("InvalidSignatureException Signature expired"), "\(boto.stdout)")
    }

    @Test("Over HTTPS, aws ecs trusts the control plane with AWS_CA_BUNDLE and refuses it without")
    func tlsTrust() async throws {
        // Given a control plane serving HTTPS from its cluster CA
        let server = try await ControlPlaneProcess()
        defer { server.terminate() }
        #expect(server.endpoint.hasPrefix("https://"))
        // When the awscli calls it with the CA, and without (the system's trust store)
        let trusted = try await Self.aws(["list-clusters"], endpoint: server.endpoint)
        let untrusted = try await Self.aws(["list-clusters"], endpoint: server.endpoint, caBundle: nil)
        // Then the first is answered and the second refuses the certificate
        #expect(trusted.status == 0, "\(trusted.stderr)")
        #expect(untrusted.status != 0)
        #expect(untrusted.stderr.contains("SSL validation failed"), "\(untrusted.stderr)")
    }
}
