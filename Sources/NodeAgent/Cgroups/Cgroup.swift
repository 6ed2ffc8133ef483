#if canImport(Glibc)
import Glibc
#endif

/// One container's cgroup: a directory per v1 hierarchy (memory, cpu, cpuacct, pids, devices) or one unified v2 directory,
/// under `<hierarchy>/<parent>/<name>`. The layout is detected from /proc/self/mountinfo.
///
/// - Important: ``destroy()`` only succeeds once the processes are gone: call ``killAll()`` first.
public final class Cgroup: Sendable {
    /// The container's cgroup name (the last path component).
    public let name: String
    let layout: CgroupLayout
    /// The cgroup's directories, one per distinct hierarchy.
    let directories: [String]

    private init(name: String, layout: CgroupLayout, relativePath: String) {
        self.name = name
        self.layout = layout
        switch layout {
        case .v1(let mounts):
            var seen: Set<String> = []
            directories = CgroupLayout.v1Controllers.compactMap { mounts[$0] }
                .filter { seen.insert($0).inserted }
                .map { $0 + "/" + relativePath }
        case .v2(let mountPoint):
            directories = [mountPoint + "/" + relativePath]
        }
    }

    private init(name: String, layout: CgroupLayout, directories: [String]) {
        self.name = name
        self.layout = layout
        self.directories = directories
    }

    // MARK: - Create and open

    /// Creates (or re-uses) the cgroup `parent/name` in every hierarchy and writes `limits`.
    public static func create(
        name: String, limits: CgroupLimits, parent: String = "flotilla"
    ) throws(CgroupError) -> Cgroup {
        guard let layout = CgroupLayout.detect() else {
            throw CgroupError.noHierarchy(reason: "no cgroup or cgroup2 mount in /proc/self/mountinfo")
        }
        return try create(name: name, limits: limits, parent: parent, layout: layout)
    }

    /// The cgroup `parent/name` if it exists, to re-adopt a container after an agent restart.
    public static func open(name: String, parent: String = "flotilla") -> Cgroup? {
        guard let layout = CgroupLayout.detect() else { return nil }
        return open(name: name, parent: parent, layout: layout)
    }

    static func open(name: String, parent: String, layout: CgroupLayout) -> Cgroup? {
        guard (try? validate(name: name, parent: parent)) != nil else { return nil }
        let cgroup = Cgroup(name: name, layout: layout, relativePath: parent + "/" + name)
        // Containers made before the devices hierarchy was used have no directory there: open them without it.
        let devices = cgroup.directory(for: "devices")
        let existing = cgroup.directories.filter { access($0, F_OK) == 0 }
        guard cgroup.directories.allSatisfy({ $0 == devices || existing.contains($0) }) else { return nil }
        return existing.count == cgroup.directories.count
            ? cgroup : Cgroup(name: name, layout: layout, directories: existing)
    }

    static func create(
        name: String, limits: CgroupLimits, parent: String, layout: CgroupLayout
    ) throws(CgroupError) -> Cgroup {
        try validate(name: name, parent: parent)
        try validate(limits)
        let cgroup = Cgroup(name: name, layout: layout, relativePath: parent + "/" + name)
        guard !cgroup.directories.isEmpty else {
            throw CgroupError.noHierarchy(reason: "no v1 hierarchy for memory, cpu, cpuacct or pids")
        }
        var created: [String] = []
        do {
            if case .v2(let mountPoint) = layout {
                try enableControllers(from: mountPoint, through: parent, for: limits)
            }
            for directory in cgroup.directories {
                try makeDirectories(directory, created: &created)
            }
            try cgroup.apply(limits)
        } catch {
            for directory in created.reversed() { rmdir(directory) }
            throw error
        }
        return cgroup
    }

    private static func validate(name: String, parent: String) throws(CgroupError) {
        func isSafe(_ component: Substring) -> Bool {
            !component.isEmpty && component != "." && component != ".."
                && component.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }
        }
        guard isSafe(Substring(name)) else {
            throw CgroupError.invalidArgument(
                field: "name", reason: "\"\(name)\" must be letters, digits, '-', '_' or '.'")
        }
        guard parent.split(separator: "/", omittingEmptySubsequences: false).allSatisfy(isSafe) else {
            throw CgroupError.invalidArgument(
                field: "parent",
                reason: "\"\(parent)\" must be relative path components of letters, digits, '-', '_' or '.'")
        }
    }

    private static func validate(_ limits: CgroupLimits) throws(CgroupError) {
        if let memory = limits.memoryLimitMiB, memory < 4 {
            throw CgroupError.invalidArgument(field: "memoryLimitMiB", reason: "must be at least 4, got \(memory)")
        }
        if let reservation = limits.memoryReservationMiB {
            guard reservation >= 1 else {
                throw CgroupError.invalidArgument(
                    field: "memoryReservationMiB", reason: "must be positive, got \(reservation)")
            }
            if let memory = limits.memoryLimitMiB, reservation > memory {
                throw CgroupError.invalidArgument(
                    field: "memoryReservationMiB", reason: "\(reservation) exceeds memoryLimitMiB \(memory)")
            }
        }
        if let shares = limits.cpuShares, shares < 0 || shares > 262_144 {
            throw CgroupError.invalidArgument(field: "cpuShares", reason: "must be between 0 and 262144, got \(shares)")
        }
        if let units = limits.cpuQuotaUnits, units < 1 {
            throw CgroupError.invalidArgument(field: "cpuQuotaUnits", reason: "must be positive, got \(units)")
        }
        if let pids = limits.pidsLimit, pids < 1 {
            throw CgroupError.invalidArgument(field: "pidsLimit", reason: "must be positive, got \(pids)")
        }
    }

    /// v2: enables memory, cpu and pids in `cgroup.subtree_control` from the mount point down to `parent`.
    /// A controller a limit needs but the hierarchy lacks is an error; the others are enabled where offered.
    private static func enableControllers(
        from mountPoint: String, through parent: String, for limits: CgroupLimits
    ) throws(CgroupError) {
        var needed: Set<String> = []
        if limits.memoryLimitMiB != nil || limits.memoryReservationMiB != nil { needed.insert("memory") }
        if limits.cpuShares != nil || limits.cpuQuotaUnits != nil { needed.insert("cpu") }
        if limits.pidsLimit != nil { needed.insert("pids") }
        var directory = mountPoint
        var unused: [String] = []
        for component in [""] + parent.split(separator: "/").map(String.init) {
            if !component.isEmpty {
                directory += "/" + component
                try makeDirectories(directory, created: &unused)
            }
            let available = Set(
                (try readFile(directory + "/cgroup.controllers")).split(whereSeparator: \.isWhitespace).map(String.init)
            )
            if let missing = needed.subtracting(available).sorted().first {
                throw CgroupError.controllerUnavailable(controller: missing, path: directory)
            }
            let enabled = Set(
                (try readFile(directory + "/cgroup.subtree_control")).split(whereSeparator: \.isWhitespace).map(
                    String.init))
            for controller in CgroupLayout.v2Controllers
            where available.contains(controller) && !enabled.contains(controller) {
                try writeFile(directory + "/cgroup.subtree_control", "+" + controller)
            }
        }
    }

    private static func makeDirectories(_ path: String, created: inout [String]) throws(CgroupError) {
        var current = ""
        for component in path.split(separator: "/") {
            current += "/" + component
            if mkdir(current, 0o755) == 0 {
                created.append(current)
            } else if errno != EEXIST {
                throw CgroupError.system(operation: "mkdir", path: current, errno: errno)
            }
        }
    }

    // MARK: - Limits

    /// The directory holding `controller`'s files (v2: the one directory).
    func directory(for controller: String) -> String? {
        switch layout {
        case .v1(let mounts):
            guard let mount = mounts[controller] else { return nil }
            return directories.first { $0.hasPrefix(mount + "/") }
        case .v2:
            return directories.first
        }
    }

    private func apply(_ limits: CgroupLimits) throws(CgroupError) {
        let period = 100_000
        switch layout {
        case .v1:
            if let memory = limits.memoryLimitMiB {
                let directory = try require("memory")
                let bytes = String(memory * 1_048_576)
                // memory+swap = memory: no swap beyond the hard limit (the file exists only with swap accounting).
                // The kernel keeps memory ≤ memsw at every step, so raising a re-used cgroup's limit writes memsw first.
                let memsw = directory + "/memory.memsw.limit_in_bytes"
                if access(memsw, F_OK) == 0 {
                    let current = UInt64((try readFile(memsw)).trimmingWhitespace()) ?? UInt64.max
                    let order =
                        UInt64(memory * 1_048_576) > current
                        ? [memsw, directory + "/memory.limit_in_bytes"] : [directory + "/memory.limit_in_bytes", memsw]
                    for file in order { try writeFile(file, bytes) }
                } else {
                    try writeFile(directory + "/memory.limit_in_bytes", bytes)
                }
            }
            if let reservation = limits.memoryReservationMiB {
                try writeFile(try require("memory") + "/memory.soft_limit_in_bytes", String(reservation * 1_048_576))
            }
            if let shares = limits.cpuShares {
                try writeFile(try require("cpu") + "/cpu.shares", String(max(2, shares)))
            }
            if let units = limits.cpuQuotaUnits {
                let directory = try require("cpu")
                try writeFile(directory + "/cpu.cfs_period_us", String(period))
                try writeFile(directory + "/cpu.cfs_quota_us", String(Self.quota(units: units, period: period)))
            }
            if let pids = limits.pidsLimit {
                try writeFile(try require("pids") + "/pids.max", String(pids))
            }
        case .v2:
            let directory = directories[0]
            if let memory = limits.memoryLimitMiB {
                try writeFile(directory + "/memory.max", String(memory * 1_048_576))
                if access(directory + "/memory.swap.max", F_OK) == 0 {
                    try writeFile(directory + "/memory.swap.max", "0")
                }
            }
            if let reservation = limits.memoryReservationMiB {
                try writeFile(directory + "/memory.low", String(reservation * 1_048_576))
            }
            if let shares = limits.cpuShares {
                try writeFile(directory + "/cpu.weight", String(Self.weight(shares: shares)))
            }
            if let units = limits.cpuQuotaUnits {
                try writeFile(directory + "/cpu.max", "\(Self.quota(units: units, period: period)) \(period)")
            }
            if let pids = limits.pidsLimit {
                try writeFile(directory + "/pids.max", String(pids))
            }
        }
    }

    /// v1: denies every device (`devices.deny a`), then allows each of `rules` (`devices.allow`), so a process of
    /// the cgroup can neither mknod nor open any other device node, whatever its capabilities. v2 has no devices
    /// files: the runtime attaches a device program to ``cloneDirectory`` instead.
    public func restrictDevices(to rules: [DeviceRule]) throws(CgroupError) {
        guard case .v1 = layout else {
            throw CgroupError.controllerUnavailable(controller: "devices", path: directories[0])
        }
        let directory = try require("devices")
        try writeFile(directory + "/devices.deny", "a")
        try writeEach(directory + "/devices.allow", rules.map(\.v1Line))
    }

    private func require(_ controller: String) throws(CgroupError) -> String {
        guard let directory = directory(for: controller) else {
            throw CgroupError.controllerUnavailable(controller: controller, path: "/proc/self/mountinfo")
        }
        return directory
    }

    /// CPU units (1024 per CPU) to a CFS quota in microseconds per `period`; at least 1 ms, the kernel's minimum.
    static func quota(units: Int, period: Int) -> Int {
        max(1000, units * period / 1024)
    }

    /// cgroup v1 shares (2…262144) to v2 weight (1…10000), as runc and crun convert them.
    static func weight(shares: Int) -> Int {
        let clamped = min(262_144, max(2, shares))
        return 1 + (clamped - 2) * 9999 / 262_142
    }

    // MARK: - Processes

    /// Moves `pid` (a whole process) into the cgroup in every hierarchy.
    public func add(pid: Int32) throws(CgroupError) {
        for path in procsPaths { try writeFile(path, String(pid)) }
    }

    /// The cgroup.procs files, for a child that joins the cgroup itself (write its pid to each).
    public var procsPaths: [String] {
        directories.map { $0 + "/cgroup.procs" }
    }

    /// The directory a process can be cloned straight into (v2 only: CLONE_INTO_CGROUP).
    public var cloneDirectory: String? {
        switch layout {
        case .v1: nil
        case .v2: directories[0]
        }
    }

    /// The files a single-threaded process writes "0" into to move itself into the cgroup: v1 `tasks`, v2
    /// `cgroup.procs`.
    ///
    /// Why `tasks` on v1: a write to `cgroup.procs` (or of another pid) takes the kernel's global threadgroup
    /// lock for writing, and the first write after a quiet spell waits for an RCU grace period (15 to 40 ms on a
    /// loaded host, measured on the memory hierarchy). A thread moving only itself skips that lock; for a process
    /// with one thread, as the runtime's freshly cloned child is, moving the thread moves the whole process.
    public var selfAttachPaths: [String] {
        switch layout {
        case .v1: directories.map { $0 + "/tasks" }
        case .v2: procsPaths
        }
    }

    /// The pids in the cgroup, from every hierarchy.
    func processes() throws(CgroupError) -> Set<Int32> {
        var pids: Set<Int32> = []
        for path in procsPaths {
            for line in try readFile(path).split(whereSeparator: \.isNewline) {
                if let pid = Int32(line) { pids.insert(pid) }
            }
        }
        return pids
    }

    /// Kills every process in the cgroup and waits (at most 5 s) until it is empty.
    ///
    /// v2 writes `cgroup.kill` where the kernel has it (5.14+); otherwise SIGKILL goes to every pid in
    /// cgroup.procs, re-read until none is left (a process forked meanwhile is caught on the next round).
    public func killAll() throws(CgroupError) {
        if case .v2 = layout, access(directories[0] + "/cgroup.kill", F_OK) == 0 {
            try writeFile(directories[0] + "/cgroup.kill", "1")
        }
        for _ in 0..<500 {
            let pids = try processes()
            if pids.isEmpty { return }
            for pid in pids { kill(pid, SIGKILL) }
            usleep(10_000)
        }
        throw CgroupError.busy(path: directories[0])
    }

    /// Removes the cgroup's directories; retries for at most 2 s while the kernel still reports it busy.
    public func destroy() throws(CgroupError) {
        for directory in directories {
            var attempts = 0
            while rmdir(directory) != 0 {
                if errno == ENOENT { break }
                guard errno == EBUSY, attempts < 200 else {
                    throw CgroupError.system(operation: "rmdir", path: directory, errno: errno)
                }
                attempts += 1
                usleep(10_000)
            }
        }
    }

    // MARK: - Stats

    /// CPU time, memory use and peak, and process count.
    public func stats() throws(CgroupError) -> CgroupStats {
        switch layout {
        case .v1:
            let cpu =
                try directory(for: "cpuacct").map { d throws(CgroupError) in try readNumber(d + "/cpuacct.usage") } ?? 0
            let memory = directory(for: "memory")
            return CgroupStats(
                cpuUsageNanoseconds: cpu,
                memoryUsageBytes: try memory.map { d throws(CgroupError) in try readNumber(d + "/memory.usage_in_bytes")
                },
                memoryMaxUsageBytes: try memory.map { d throws(CgroupError) in
                    try readNumber(d + "/memory.max_usage_in_bytes")
                },
                pidsCurrent: try directory(for: "pids").map { d throws(CgroupError) in
                    Int(try readNumber(d + "/pids.current"))
                })
        case .v2:
            let directory = directories[0]
            let usage = try keyedValues(directory + "/cpu.stat")["usage_usec"] ?? 0
            func optional(_ file: String) throws(CgroupError) -> UInt64? {
                access(directory + "/" + file, F_OK) == 0 ? try readNumber(directory + "/" + file) : nil
            }
            return CgroupStats(
                cpuUsageNanoseconds: usage * 1000, memoryUsageBytes: try optional("memory.current"),
                memoryMaxUsageBytes: try optional("memory.peak"),
                pidsCurrent: try optional("pids.current").map { Int($0) })
        }
    }

    /// True once the kernel's OOM killer killed a process in this cgroup
    /// (v1 `memory.oom_control`, v2 `memory.events`: `oom_kill` above 0).
    public func oomKilled() -> Bool {
        let file: String
        switch layout {
        case .v1:
            guard let directory = directory(for: "memory") else { return false }
            file = directory + "/memory.oom_control"
        case .v2:
            file = directories[0] + "/memory.events"
        }
        return ((try? keyedValues(file))?["oom_kill"] ?? 0) > 0
    }

    private func readNumber(_ path: String) throws(CgroupError) -> UInt64 {
        let text = try readFile(path).trimmingWhitespace()
        guard let value = UInt64(text) else {
            throw CgroupError.invalidArgument(field: path, reason: "expected a number, read \"\(text)\"")
        }
        return value
    }

    /// Files of `key value` lines (cpu.stat, memory.events, memory.oom_control).
    private func keyedValues(_ path: String) throws(CgroupError) -> [String: UInt64] {
        var values: [String: UInt64] = [:]
        for line in try readFile(path).split(whereSeparator: \.isNewline) {
            let fields = line.split(separator: " ")
            if fields.count == 2, let value = UInt64(fields[1]) { values[String(fields[0])] = value }
        }
        return values
    }
}

extension String {
    fileprivate func trimmingWhitespace() -> String {
        String(self.drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
    }
}
