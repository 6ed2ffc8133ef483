import FlotillaTestKit
import Foundation

/// The built `ecsctl`, found from the repository root (`ControlPlaneProcess` finds it from `#filePath`).
let ecsctlBinary = ControlPlaneProcess.repositoryRoot.appendingPathComponent(".build/debug/ecsctl")

/// Runs the built `ecsctl` against `endpoint` (when given), with no config file or FLOTILLA_* variable in the way.
func ecsctl(_ arguments: [String], endpoint: String? = nil) async throws -> HostCommandResult {
    var environment = [
        "PATH": "/usr/bin:/bin", "HOME": FileManager.default.temporaryDirectory.path,
        "XDG_CONFIG_HOME": FileManager.default.temporaryDirectory.appendingPathComponent("ecsctl-no-config").path,
    ]
    if let endpoint { environment["FLOTILLA_ENDPOINT"] = endpoint }
    return try await HostCommand.runToCompletion([ecsctlBinary.path] + arguments, environment: environment)
}
