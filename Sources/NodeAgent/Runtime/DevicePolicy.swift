internal import CFlotillaRuntime
import SystemPackage
#if canImport(Glibc)
import Glibc
#endif

/// The device allowlist of an unprivileged container: the OCI defaults (``DeviceRule/defaults``) plus the host
/// devices its spec names. Enforced by the cgroup, so no capability, mknod or device node shipped in an image gets a
/// process past it: v1 through the `devices` controller, v2 through a BPF_PROG_TYPE_CGROUP_DEVICE program the shim
/// attaches to the container's cgroup. Privileged containers get no device policy, as in Docker.
enum DevicePolicy {
    /// A spec device resolved on the host: the node to bind-mount and its rule.
    struct HostDevice: Hashable, Sendable {
        var hostPath: String
        var containerPath: String
        var rule: DeviceRule
    }

    /// Checks the paths of the spec's devices (before anything exists).
    static func validate(_ devices: [ContainerDevice]) throws(ContainerConfigurationError) {
        for (index, device) in devices.enumerated() {
            let field = "linuxParameters.devices[\(index)]"
            guard device.hostPath.hasPrefix("/"), !device.hostPath.split(separator: "/").contains("..") else {
                throw ContainerConfigurationError(
                    field: field + ".hostPath",
                    message: "must be an absolute path without '..', got \"\(device.hostPath)\"")
            }
            // Under /dev, a tmpfs the runtime makes: a mount target elsewhere could lead through the image's
            // symlinks out of the container's root (the mounts are made before pivot_root).
            let components = device.containerPath.split(separator: "/")
            guard device.containerPath.hasPrefix("/dev/"), components.count >= 2, !components.contains(".."),
                !components.contains(".")
            else {
                throw ContainerConfigurationError(
                    field: field + ".containerPath",
                    message: "must be a path under /dev without '.' or '..', got \"\(device.containerPath)\"")
            }
            guard !device.permissions.isEmpty else {
                throw ContainerConfigurationError(
                    field: field + ".permissions", message: "must allow at least one of read, write, mknod")
            }
        }
    }

    /// stat(2)s each host node: it must be a character or block device.
    static func resolve(_ devices: [ContainerDevice]) throws(ContainerConfigurationError) -> [HostDevice] {
        var resolved: [HostDevice] = []
        for (index, device) in devices.enumerated() {
            let field = "linuxParameters.devices[\(index)].hostPath"
            var status = stat()
            guard stat(device.hostPath, &status) == 0 else {
                throw ContainerConfigurationError(
                    field: field, message: "\(device.hostPath): \(Errno(rawValue: errno))")
            }
            let kind: DeviceRule.Kind
            switch status.st_mode & FileType.mask {
            case FileType.character: kind = .character
            case FileType.block: kind = .block
            default:
                throw ContainerConfigurationError(
                    field: field, message: "\(device.hostPath) is not a character or block device")
            }
            let (major, minor) = Self.split(status.st_rdev)
            resolved.append(
                HostDevice(
                    hostPath: device.hostPath, containerPath: device.containerPath,
                    rule: DeviceRule(kind, major: major, minor: minor, access: device.permissions)))
        }
        return resolved
    }

    /// glibc's major()/minor() (macros Swift does not import).
    static func split(_ device: dev_t) -> (major: UInt32, minor: UInt32) {
        let value = UInt64(device)
        let major = ((value >> 8) & 0xfff) | ((value >> 32) & ~UInt64(0xfff))
        let minor = (value & 0xff) | ((value >> 12) & ~UInt64(0xff))
        return (UInt32(truncatingIfNeeded: major), UInt32(truncatingIfNeeded: minor))
    }

    /// Restricts the cgroup to `rules`: v1 writes the devices files; v2 attaches the device program
    /// (flotilla_device_filter_attach) to the cgroup directory.
    static func apply(_ rules: [DeviceRule], to cgroup: Cgroup, container: String) throws {
        guard let directory = cgroup.cloneDirectory else {
            try cgroup.restrictDevices(to: rules)
            return
        }
        let fd = Glibc.open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw RuntimeError(stage: .devices, errno: Errno(rawValue: errno), container: container) }
        defer { close(fd) }
        let cRules = rules.map { rule in
            flotilla_device_rule(
                type: Int32(UInt8(ascii: rule.kind.rawValue.unicodeScalars.first!)),
                major: rule.major.map { Int32(bitPattern: $0) } ?? -1,
                minor: rule.minor.map { Int32(bitPattern: $0) } ?? -1,
                access: rule.access.rawValue)
        }
        var step: Int32 = 0
        let result = cRules.withUnsafeBufferPointer { buffer in
            flotilla_device_filter_attach(fd, buffer.baseAddress, Int32(buffer.count), &step)
        }
        guard result == 0 else {
            throw RuntimeError(stage: .devices, errno: Errno(rawValue: result), container: container)
        }
    }
}

/// The file-type bits of `st_mode` (sys/stat.h's S_IF*), as mode_t.
enum FileType {
    static let mask: mode_t = 0o170000
    static let directory: mode_t = 0o040000
    static let character: mode_t = 0o020000
    static let block: mode_t = 0o060000
}
