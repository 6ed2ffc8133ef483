/// Linux capabilities by name, and the policy that turns Docker-style add/drop lists into the set a container gets.
public enum Capabilities {
    /// Capability names without the `CAP_` prefix, indexed by number (linux/capability.h).
    public static let names: [String] = [
        "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID", "SETPCAP",
        "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER",
        "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT", "SYS_ADMIN", "SYS_BOOT", "SYS_NICE",
        "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP",
        "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF",
        "CHECKPOINT_RESTORE",
    ]

    /// Docker's default set (moby `oci/caps/defaults.go`).
    public static let dockerDefault: [String] = [
        "CHOWN", "DAC_OVERRIDE", "FSETID", "FOWNER", "MKNOD", "NET_RAW", "SETGID", "SETUID", "SETFCAP", "SETPCAP",
        "NET_BIND_SERVICE", "SYS_CHROOT", "KILL", "AUDIT_WRITE",
    ]

    /// The capability number of `name` (`CAP_` prefix and case ignored), or nil.
    public static func number(of name: String) -> Int? {
        var key = name.uppercased()
        if key.hasPrefix("CAP_") { key.removeFirst(4) }
        return names.firstIndex(of: key)
    }

    /// The bit set for a container: every capability the kernel knows when privileged; otherwise Docker's default,
    /// plus `add`, minus `drop` (`ALL` in either list means every capability; drop wins over add, as in Docker).
    public static func resolve(
        add: [String], drop: [String], privileged: Bool, lastCapability: Int
    )
        throws(ContainerConfigurationError) -> UInt64
    {
        let everything: UInt64 = lastCapability >= 63 ? .max : (UInt64(1) << UInt64(lastCapability + 1)) - 1
        if privileged { return everything }
        func bits(_ list: [String], field: String) throws(ContainerConfigurationError) -> UInt64 {
            var set: UInt64 = 0
            for name in list {
                if name.uppercased() == "ALL" {
                    set |= everything
                    continue
                }
                guard let number = number(of: name), number <= lastCapability else {
                    throw ContainerConfigurationError(field: field, message: "unknown capability \(name)")
                }
                set |= UInt64(1) << UInt64(number)
            }
            return set
        }
        let base = try bits(dockerDefault, field: "capabilities")
        let added = try bits(add, field: "linuxParameters.capabilities.add")
        let dropped = try bits(drop, field: "linuxParameters.capabilities.drop")
        return (base | added) & ~dropped & everything
    }

    /// The names in a bit set, for state files and logs.
    public static func names(in set: UInt64) -> [String] {
        names.indices.filter { set & (UInt64(1) << UInt64($0)) != 0 }.map { names[$0] }
    }
}
