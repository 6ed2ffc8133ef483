// STAND-IN for the img helper's Cgroups (RUNTIME-CONTRACT.md), cgroup v1 only, with the contract's API.
// Deleted when the `img` branch is merged.
#if canImport(Glibc)
import Glibc
#endif
public import SystemPackage

public struct CgroupLimits: Codable, Hashable, Sendable {
    public var memoryLimitMiB: Int?
    public var memoryReservationMiB: Int?
    public var cpuShares: Int?
    public var cpuQuotaUnits: Int?
    public var pidsLimit: Int?
    public init(memoryLimitMiB: Int? = nil, memoryReservationMiB: Int? = nil, cpuShares: Int? = nil,
                cpuQuotaUnits: Int? = nil, pidsLimit: Int? = nil) {
        self.memoryLimitMiB = memoryLimitMiB
        self.memoryReservationMiB = memoryReservationMiB
        self.cpuShares = cpuShares
        self.cpuQuotaUnits = cpuQuotaUnits
        self.pidsLimit = pidsLimit
    }
}

public enum CgroupError: Error { case io(path: String, errno: Errno) }

public final class Cgroup: Sendable {
    let directories: [String]
    static let controllers = ["memory", "pids", "cpu", "cpuacct"]

    init(directories: [String]) { self.directories = directories }

    public static func create(name: String, limits: CgroupLimits, parent: String = "flotilla") throws(CgroupError) -> Cgroup {
        var directories: [String] = []
        for controller in controllers {
            let base = "/sys/fs/cgroup/\(controller)"
            for path in [base + "/" + parent, base + "/" + parent + "/" + name] where mkdir(path, 0o755) != 0 && errno != EEXIST {
                throw .io(path: path, errno: Errno(rawValue: errno))
            }
            directories.append(base + "/" + parent + "/" + name)
        }
        let cgroup = Cgroup(directories: directories)
        if let mib = limits.memoryLimitMiB {
            try cgroup.write("\(mib << 20)", to: directories[0] + "/memory.limit_in_bytes")
        }
        if let mib = limits.memoryReservationMiB {
            try cgroup.write("\(mib << 20)", to: directories[0] + "/memory.soft_limit_in_bytes")
        }
        if let pids = limits.pidsLimit { try cgroup.write("\(pids)", to: directories[1] + "/pids.max") }
        if let shares = limits.cpuShares { try cgroup.write("\(max(2, shares))", to: directories[2] + "/cpu.shares") }
        return cgroup
    }

    public static func open(name: String, parent: String = "flotilla") -> Cgroup? {
        let directories = controllers.map { "/sys/fs/cgroup/\($0)/\(parent)/\(name)" }
        return access(directories[0], F_OK) == 0 ? Cgroup(directories: directories) : nil
    }

    public var procsPaths: [String] { directories.map { $0 + "/cgroup.procs" } }

    public func add(pid: Int32) throws(CgroupError) {
        for path in procsPaths { try write("\(pid)", to: path) }
    }

    public func oomKilled() -> Bool {
        guard let text = read(directories[0] + "/memory.oom_control") else { return false }
        for line in text.split(separator: "\n") where line.hasPrefix("oom_kill ") {
            return (Int(line.dropFirst(9)) ?? 0) > 0
        }
        return false
    }

    public func killAll() throws(CgroupError) {
        guard let text = read(procsPaths[0]) else { return }
        for pid in text.split(separator: "\n").compactMap({ Int32($0) }) { kill(pid, SIGKILL) }
    }

    public func destroy() throws(CgroupError) {
        for directory in directories {
            var attempts = 0
            while rmdir(directory) != 0 && errno != ENOENT {
                attempts += 1
                if errno != EBUSY || attempts > 200 { throw .io(path: directory, errno: Errno(rawValue: errno)) }
                usleep(5_000)
            }
        }
    }

    private func write(_ value: String, to path: String) throws(CgroupError) {
        let fd = Glibc.open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .io(path: path, errno: Errno(rawValue: errno)) }
        defer { close(fd) }
        let result = value.withCString { Glibc.write(fd, $0, strlen($0)) }
        if result < 0 { throw .io(path: path, errno: Errno(rawValue: errno)) }
    }

    private func read(_ path: String) -> String? {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, 4096) }
            if n <= 0 { break }
            bytes += buffer[0..<n]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
