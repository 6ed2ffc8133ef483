import Foundation

/// The built `ecsctl`, run as a user would: against `endpoint` (when given), with no config file or other
/// `FLOTILLA_*` variable in the way.
public enum Ecsctl {
    /// The command line and environment, for a run that outlives the call (`DaemonProcess`, e.g. `logs --follow`).
    public static func command(
        _ arguments: [String], endpoint: String?
    ) -> (arguments: [String], environment: [String: String]) {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("ecsctl-no-config").path
        var environment = ["PATH": "/usr/bin:/bin", "HOME": home, "XDG_CONFIG_HOME": home]
        if let endpoint { environment["FLOTILLA_ENDPOINT"] = endpoint }
        return ([HostCommand.debugBinaries + "/ecsctl"] + arguments, environment)
    }
}

/// Runs the built `ecsctl` to completion (killed after 120 s: a bound against hangs).
public func ecsctl(_ arguments: [String], endpoint: String? = nil) async throws -> HostCommandResult {
    let command = Ecsctl.command(arguments, endpoint: endpoint)
    return try await HostCommand.runToCompletion(
        command.arguments, environment: command.environment, killAfter: .seconds(120))
}
