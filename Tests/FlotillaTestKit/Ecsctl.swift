public import Foundation
public import SigV4

/// The built `ecsctl`, run as a user would: against `endpoint` (when given), signing with `credentials` (the test
/// administrator's unless said; nil: none), trusting the test CA (`AWS_CA_BUNDLE`), with no config file or other
/// `FLOTILLA_*` or `AWS_*` variable in the way (`caBundle`: the test CA unless said; nil: none).
public enum Ecsctl {
    /// The command line and environment, for a run that outlives the call (`DaemonProcess`, e.g. `logs --follow`).
    public static func command(
        _ arguments: [String], endpoint: String?, credentials: AWSCredentials? = TestAccessKeys.administrator,
        caBundle: String? = TestPKI.caBundle
    ) -> (arguments: [String], environment: [String: String]) {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("ecsctl-no-config").path
        var environment = ["PATH": "/usr/bin:/bin", "HOME": home, "XDG_CONFIG_HOME": home]
        // HOME is a directory of the tests' own: no ~/.aws of the machine's user is read.
        if let credentials { environment.merge(TestAccessKeys.environment(credentials)) { $1 } }
        if let endpoint { environment["FLOTILLA_ENDPOINT"] = endpoint }
        // As `aws` users do: the test control planes' CA (`TestPKI`).
        environment["AWS_CA_BUNDLE"] = caBundle
        return ([HostCommand.debugBinaries + "/ecsctl"] + arguments, environment)
    }
}

/// Runs the built `ecsctl` to completion (killed after 120 s: a bound against hangs).
public func ecsctl(
    _ arguments: [String], endpoint: String? = nil, credentials: AWSCredentials? = TestAccessKeys.administrator,
    caBundle: String? = TestPKI.caBundle
) async throws -> HostCommandResult {
    let command = Ecsctl.command(arguments, endpoint: endpoint, credentials: credentials, caBundle: caBundle)
    return try await HostCommand.runToCompletion(
        command.arguments, environment: command.environment, killAfter: .seconds(120))
}
