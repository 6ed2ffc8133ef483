/// One entry of a container's device allowlist, in the cgroup's terms: which devices, and what a process may do with
/// them. Everything no rule allows is denied (v1 `devices.deny a`, v2 the device program's "return 0").
public struct DeviceRule: Hashable, Sendable, Codable {
    public enum Kind: String, Hashable, Sendable, Codable {
        case all = "a", block = "b", character = "c"
    }

    /// What the rule allows: mknod, read (open for reading), write (open for writing).
    public struct Access: OptionSet, Hashable, Sendable, Codable {
        public let rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }
        public static let mknod = Access(rawValue: 1)
        public static let read = Access(rawValue: 2)
        public static let write = Access(rawValue: 4)
        public static let all: Access = [.mknod, .read, .write]
    }

    public var kind: Kind
    /// nil = any major.
    public var major: UInt32?
    /// nil = any minor.
    public var minor: UInt32?
    public var access: Access

    public init(_ kind: Kind, major: UInt32?, minor: UInt32?, access: Access = .all) {
        self.kind = kind
        self.major = major
        self.minor = minor
        self.access = access
    }

    /// The OCI runtime spec's default allowlist (what runc, crun and Docker give every unprivileged container), with
    /// mknod allowed only for these same devices: null, zero, full, random, urandom, tty, console, ptmx and the
    /// pseudo-terminals (136:*).
    public static let defaults: [DeviceRule] = [
        DeviceRule(.character, major: 1, minor: 3),  // null
        DeviceRule(.character, major: 1, minor: 5),  // zero
        DeviceRule(.character, major: 1, minor: 7),  // full
        DeviceRule(.character, major: 1, minor: 8),  // random
        DeviceRule(.character, major: 1, minor: 9),  // urandom
        DeviceRule(.character, major: 5, minor: 0),  // tty
        DeviceRule(.character, major: 5, minor: 1),  // console
        DeviceRule(.character, major: 5, minor: 2),  // ptmx
        DeviceRule(.character, major: 136, minor: nil),  // pts/*
    ]

    /// The rule as cgroup v1's `devices.allow` takes it: `c 1:3 rwm`.
    public var v1Line: String {
        var permissions = ""
        if access.contains(.read) { permissions += "r" }
        if access.contains(.write) { permissions += "w" }
        if access.contains(.mknod) { permissions += "m" }
        if kind == .all { return "a" }
        return "\(kind.rawValue) \(major.map(String.init) ?? "*"):\(minor.map(String.init) ?? "*") \(permissions)"
    }
}
