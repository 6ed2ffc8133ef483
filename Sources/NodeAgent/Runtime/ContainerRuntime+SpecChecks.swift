internal import CFlotillaRuntime
import Foundation
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// Spec checks: resolving a reference, validating a spec, resolving its user, building the spawn setup.
extension ContainerRuntime {
    func resolve(_ reference: String) throws(ContainerLifecycleError) -> String {
        recover()
        if containers[reference] != nil { return reference }
        if let byName = containers.values.first(where: { $0.spec.name == reference }) { return byName.id }
        let matches = containers.keys.filter { $0.hasPrefix(reference) }
        guard reference.count >= 4, matches.count == 1 else { throw .notFound(reference) }
        return matches[0]
    }

    func validate(_ spec: ContainerSpec) throws(ContainerConfigurationError) {
        if spec.name.isEmpty || spec.name.contains("/") {
            throw ContainerConfigurationError(field: "name", message: "must be non-empty and contain no '/'")
        }
        if spec.arguments.isEmpty {
            throw ContainerConfigurationError(
                field: "command", message: "neither the image nor the request gives a command")
        }
        if spec.layerDirectories.isEmpty {
            throw ContainerConfigurationError(field: "image", message: "has no layers")
        }
        for layer in spec.layerDirectories where access(layer, F_OK) != 0 {
            throw ContainerConfigurationError(field: "image", message: "layer directory \(layer) does not exist")
        }
        if spec.hostname.isEmpty || spec.hostname.utf8.count > 63 {
            throw ContainerConfigurationError(field: "hostname", message: "must be 1 to 63 characters")
        }
        if !spec.workingDirectory.hasPrefix("/") {
            throw ContainerConfigurationError(field: "workingDirectory", message: "must be an absolute path")
        }
        for ulimit in spec.ulimits {
            guard Self.rlimitResources[ulimit.name] != nil else {
                throw ContainerConfigurationError(field: "ulimits", message: "unknown ulimit \(ulimit.name)")
            }
            if ulimit.softLimit > ulimit.hardLimit {
                throw ContainerConfigurationError(
                    field: "ulimits", message: "\(ulimit.name): softLimit above hardLimit")
            }
        }
        _ = try Capabilities.resolve(
            add: spec.capabilityAdd, drop: spec.capabilityDrop,
            privileged: spec.privileged, lastCapability: lastCapability)
        try DevicePolicy.validate(spec.devices ?? [])
    }

    private static let rlimitResources: [String: Int32] = [
        "core": 4, "cpu": 0, "data": 2, "fsize": 1, "locks": 10, "memlock": 8, "msgqueue": 12, "nice": 13,
        "nofile": 7, "nproc": 6, "rss": 5, "rtprio": 14, "rttime": 15, "sigpending": 11, "stack": 3,
    ]

    /// The image's /etc/passwd and /etc/group come from the topmost layer that has them.
    func resolveUser(_ spec: ContainerSpec) throws(ContainerConfigurationError) -> ResolvedUser {
        func file(_ path: String) -> String? {
            for layer in spec.layerDirectories.reversed() {
                if let data = FileManager.default.contents(atPath: layer + path) {
                    return String(decoding: data, as: UTF8.self)
                }
            }
            return nil
        }
        return try UserResolver.resolve(spec.user, passwd: file("/etc/passwd"), group: file("/etc/group"))
    }

    func processSetup(
        _ spec: ContainerSpec, arguments: [String], environment: [String],
        id: String
    ) throws -> ProcessSetup {
        let user = try users[id] ?? resolveUser(spec)
        users[id] = user
        var environment = environment
        func setDefault(_ key: String, _ value: String) {
            if !environment.contains(where: { $0.hasPrefix(key + "=") }) { environment.append("\(key)=\(value)") }
        }
        setDefault("PATH", Spawner.defaultSearchPath)
        setDefault("HOSTNAME", spec.hostname)
        setDefault("HOME", user.home ?? "/")
        let capabilities =
            try Capabilities.resolve(
                add: spec.capabilityAdd, drop: spec.capabilityDrop,
                privileged: spec.privileged, lastCapability: lastCapability)
            & availableCapabilities
        var seccomp: SeccompProgram?
        if !spec.privileged {
            if seccompPrograms[capabilities] == nil {
                seccompPrograms[capabilities] = try SeccompProgram(
                    rules: SeccompProfile.rules(capabilities: capabilities), container: id)
            }
            seccomp = seccompPrograms[capabilities]
        }
        return ProcessSetup(
            arguments: arguments, environment: environment, workingDirectory: spec.workingDirectory, user: user,
            capabilities: capabilities, noNewPrivileges: !spec.privileged, seccomp: seccomp,
            rlimits: spec.ulimits.map { (Self.rlimitResources[$0.name]!, $0.softLimit, $0.hardLimit) })
    }
}
