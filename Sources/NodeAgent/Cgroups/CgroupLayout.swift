/// Where the cgroup controllers are on this host, read from /proc/self/mountinfo.
///
/// Hosts come in three layouts: v1 (a hierarchy per controller), hybrid (v1 controllers plus a cgroup2 mount that
/// holds none of ours: treated as v1), and unified v2 (one cgroup2 hierarchy holding every controller).
enum CgroupLayout: Hashable, Sendable {
    /// Controller name → the mount point of its v1 hierarchy, for the controllers we use.
    case v1(mounts: [String: String])
    /// The mount point of the unified hierarchy.
    case v2(mountPoint: String)

    /// The v1 controllers Flotilla places containers in (`devices` for the device allowlist; on v2 a BPF program
    /// does that).
    static let v1Controllers = ["memory", "cpu", "cpuacct", "pids", "devices"]
    /// The v2 controllers Flotilla enables for containers.
    static let v2Controllers = ["memory", "cpu", "pids"]

    /// Reads /proc/self/mountinfo.
    static func detect() -> CgroupLayout? {
        guard let text = try? readFile("/proc/self/mountinfo") else { return nil }
        return detect(mountInfo: text)
    }

    /// v1 when any of our resource controllers has a v1 hierarchy; otherwise the cgroup2 mount (preferring /sys/fs/cgroup).
    static func detect(mountInfo: String) -> CgroupLayout? {
        var v1: [String: String] = [:]
        var v2: [String] = []
        for line in mountInfo.split(separator: "\n") {
            let halves = line.split(separator: " - ", maxSplits: 1)
            guard halves.count == 2 else { continue }
            let before = halves[0].split(separator: " ")
            let after = halves[1].split(separator: " ")
            guard before.count >= 5, after.count >= 3 else { continue }
            let mountPoint = unescape(String(before[4]))
            switch after[0] {
            case "cgroup":
                for option in after[2].split(separator: ",") where v1Controllers.contains(String(option)) {
                    if v1[String(option)] == nil { v1[String(option)] = mountPoint }
                }
            case "cgroup2":
                v2.append(mountPoint)
            default:
                continue
            }
        }
        // A v1 devices hierarchy alone does not make a host v1: the resource controllers decide.
        if v1.keys.contains(where: { $0 != "devices" }) { return .v1(mounts: v1) }
        if let mountPoint = v2.first(where: { $0 == "/sys/fs/cgroup" }) ?? v2.first {
            return .v2(mountPoint: mountPoint)
        }
        return nil
    }

    /// mountinfo escapes space, tab, newline and backslash as octal.
    private static func unescape(_ field: String) -> String {
        var result = ""
        let characters = Array(field)
        var index = 0
        while index < characters.count {
            if characters[index] == "\\", index + 3 < characters.count,
                let code = UInt8(String(characters[(index + 1)...(index + 3)]), radix: 8)
            {
                result.append(Character(Unicode.Scalar(code)))
                index += 4
            } else {
                result.append(characters[index])
                index += 1
            }
        }
        return result
    }
}
