public import Foundation
public import SigV4
import ECSVocabulary

/// The keys tests sign with.
public enum TestAccessKeys {
    /// The administrator key every test control plane is given at start (`--admin-access-key-id` with its secret in
    /// `FLOTILLA_ADMIN_SECRET_ACCESS_KEY`; in process, `AdministratorKey.ensure(given:)`), and the test clients'
    /// default signer.
    public static let administrator = AWSCredentials(
        accessKeyID: "AKFLTESTADMINISTRATOR", secretAccessKey: "flotilla-test-administrator-secret")

    /// The environment a test client process (ecsctl, the awscli, ecs-lb) signs with `credentials` from: the
    /// environment's keys come before any file's (a named profile aside), as in the AWS CLI.
    public static func environment(_ credentials: AWSCredentials = administrator) -> [String: String] {
        ["AWS_ACCESS_KEY_ID": credentials.accessKeyID, "AWS_SECRET_ACCESS_KEY": credentials.secretAccessKey]
    }

    /// The headers that sign a JSON 1.1 `POST /` to `host` with `target` and `body`, at `date`.
    public static func signedHeaders(
        _ credentials: AWSCredentials = administrator, host: String, target: String, body: String,
        at date: Date, region: String = "us-east-1"
    ) -> [(name: String, value: String)] {
        let headers = [
            (name: "X-Amz-Target", value: target), (name: "Content-Type", value: "application/x-amz-json-1.1"),
        ]
        return headers + signature(credentials, host: host, headers: headers, body: body, at: date, region: region)
    }

    /// The headers (`Authorization`, `X-Amz-Date`) that sign a `POST /` to `host` with exactly `headers` and `body`.
    ///
    /// The service signed for is the one the awscli signs `X-Amz-Target`'s service for: `ssm` for `AmazonSSM.*`,
    /// `secretsmanager` for `secretsmanager.*`, `ecs` for everything else, unless `service` says.
    public static func signature(
        _ credentials: AWSCredentials = administrator, host: String, headers: [(name: String, value: String)],
        body: String, at date: Date, region: String = "us-east-1", service: String? = nil
    ) -> [(name: String, value: String)] {
        let request = SigV4Request(
            method: "POST", path: "/", headers: headers + [(name: "Host", value: host)], body: Array(body.utf8))
        let target = headers.first { $0.name.lowercased() == "x-amz-target" }?.value ?? ""
        let signingName = service ?? (TargetPrefix(target: target) ?? .ecs).signingName
        return SigV4Signer(credentials: credentials, region: region, service: signingName).sign(request, at: date)
    }
}
