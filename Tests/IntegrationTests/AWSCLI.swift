import FlotillaTestKit
import Foundation
import SigV4
import TaskDefinitions

/// Runs the stock awscli, `aws SERVICE ARGS --endpoint-url ... --region us-east-1 --output json`, signing with
/// `credentials`, over HTTPS verified against `caBundle` (`AWS_CA_BUNDLE`; the test CA unless said, nil: none): any
/// service the control plane speaks (`ecs`, `ssm`, `secretsmanager`).
func awsCLI(
    _ arguments: [String], endpoint: String, as credentials: AWSCredentials = TestAccessKeys.administrator,
    caBundle: String? = TestPKI.caBundle
) async throws -> (status: Int32, json: JSONValue, stderr: String) {
    let home = FileManager.default.temporaryDirectory.appendingPathComponent("flotilla-aws-home")
    try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
    var environment = ProcessInfo.processInfo.environment
    environment["AWS_ACCESS_KEY_ID"] = credentials.accessKeyID
    environment["AWS_SECRET_ACCESS_KEY"] = credentials.secretAccessKey
    environment["AWS_EC2_METADATA_DISABLED"] = "true"
    environment["AWS_PAGER"] = ""
    environment["AWS_CONFIG_FILE"] = home.appendingPathComponent("config").path
    environment["AWS_SHARED_CREDENTIALS_FILE"] = home.appendingPathComponent("credentials").path
    environment["HOME"] = home.path
    environment["AWS_CA_BUNDLE"] = caBundle
    let output = try await HostCommand.runToCompletion(
        ["/usr/bin/env", "aws"] + arguments + [
            "--endpoint-url", endpoint, "--region", "us-east-1", "--output", "json",
        ],
        environment: environment, currentDirectory: ControlPlaneProcess.repositoryRoot.path)
    let json =
        output.stdout.isEmpty
        ? JSONValue.null : try JSONDecoder().decode(JSONValue.self, from: Data(output.stdout.utf8))
    return (output.status, json, output.stderr)
}

/// `aws ARGS` that must succeed; its JSON.
@discardableResult
func awsCLIOK(_ arguments: String..., endpoint: String) async throws -> JSONValue {
    let result = try await awsCLI(arguments, endpoint: endpoint)
    guard result.status == 0 else {
        throw HostCommandError(
            arguments: ["aws"] + arguments,
            result: HostCommandResult(status: result.status, stdout: "", stderr: result.stderr))
    }
    return result.json
}
