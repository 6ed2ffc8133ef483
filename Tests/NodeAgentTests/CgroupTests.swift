#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing
@testable import NodeAgent

@Suite(.timeLimit(.minutes(10)))
struct CgroupLayoutTests {
    static let v1 = """
        32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
        33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
        35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
        39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
        40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
        """
    static let hybrid = v1 + "\n41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"
    static let comounted = """
        32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:12 - cgroup cgroup rw,cpu,cpuacct
        35 31 0:32 / /sys/fs/cgroup/memory rw,relatime shared:13 - cgroup cgroup rw,memory
        """
    static let unified = """
        25 1 8:1 / / rw,relatime - ext4 /dev/vda rw
        30 25 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate
        """

    @Test func readsEachLayout() {
        let v1Mounts = [
            "cpu": "/sys/fs/cgroup/cpu", "cpuacct": "/sys/fs/cgroup/cpuacct",
            "memory": "/sys/fs/cgroup/memory", "pids": "/sys/fs/cgroup/pids",
        ]
        #expect(CgroupLayout.detect(mountInfo: Self.v1) == .v1(mounts: v1Mounts))
        #expect(CgroupLayout.detect(mountInfo: Self.hybrid) == .v1(mounts: v1Mounts), "hybrid uses the v1 controllers")
        #expect(
            CgroupLayout.detect(mountInfo: Self.comounted)
                == .v1(mounts: [
                    "cpu": "/sys/fs/cgroup/cpu,cpuacct", "cpuacct": "/sys/fs/cgroup/cpu,cpuacct",
                    "memory": "/sys/fs/cgroup/memory",
                ]))
        #expect(CgroupLayout.detect(mountInfo: Self.unified) == .v2(mountPoint: "/sys/fs/cgroup"))
        #expect(CgroupLayout.detect(mountInfo: "25 1 8:1 / / rw - ext4 /dev/vda rw") == nil)
        // A v1 devices hierarchy next to a unified tree holding the resource controllers does not make a v1 host
        let devicesOnly =
            Self.unified + "\n36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices\n"
        #expect(CgroupLayout.detect(mountInfo: devicesOnly) == .v2(mountPoint: "/sys/fs/cgroup"))
        #expect(
            CgroupLayout.detect(
                mountInfo: Self.v1 + "\n36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices")
                == .v1(mounts: v1Mounts.merging(["devices": "/sys/fs/cgroup/devices"]) { $1 }))
    }

    @Test(arguments: [(2, 1), (1024, 39), (262_144, 10000), (0, 1)])
    func sharesConvertToWeightAsRuncDoes(shares: Int, weight: Int) {
        #expect(Cgroup.weight(shares: shares) == weight)
    }

    @Test func quotaIsUnitsOverOneCPU() {
        #expect(Cgroup.quota(units: 1024, period: 100_000) == 100_000)
        #expect(Cgroup.quota(units: 256, period: 100_000) == 25_000)
        #expect(Cgroup.quota(units: 1, period: 100_000) == 1000, "never below the kernel's 1 ms minimum")
    }
}

/// The v2 limit and stats files on a FAKE cgroup2 tree: plain files in a temp directory laid out like a unified
/// hierarchy. This machine's cgroup2 mount holds none of memory, cpu and pids (v1 has them), so this is where the
/// v2 translation (memory.max, memory.low, cpu.weight, cpu.max, pids.max, cpu.stat, memory.events) is checked.
@Suite(.timeLimit(.minutes(10)))
struct CgroupV2FilesOnAFakeTreeTests {
    @Test func limitsStatsAndOOMUseTheV2Files() throws {
        // Given a fake unified hierarchy offering memory, cpu and pids, with the container's files present
        let scratch = try ImageTestDirectory()
        let root = scratch.path
        let container = root + "/flotilla/web-1"
        try FileManager.default.createDirectory(atPath: container, withIntermediateDirectories: true)
        for directory in [root, root + "/flotilla"] {
            _ = try ImageTestDirectory.write(
                directory + "/cgroup.controllers", Array("cpuset cpu io memory pids\n".utf8))
            _ = try ImageTestDirectory.write(directory + "/cgroup.subtree_control", [])
        }
        for file in [
            "memory.max", "memory.swap.max", "memory.low", "cpu.weight", "cpu.max", "pids.max", "cgroup.procs",
        ] {
            _ = try ImageTestDirectory.write(container + "/" + file, [])
        }
        _ = try ImageTestDirectory.write(
            container + "/cpu.stat", Array("usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n".utf8))
        _ = try ImageTestDirectory.write(container + "/memory.current", Array("4096\n".utf8))
        _ = try ImageTestDirectory.write(container + "/memory.peak", Array("8192\n".utf8))
        _ = try ImageTestDirectory.write(container + "/pids.current", Array("3\n".utf8))
        _ = try ImageTestDirectory.write(
            container + "/memory.events", Array("low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n".utf8))

        // When the cgroup is created with every limit
        let cgroup = try Cgroup.create(
            name: "web-1",
            limits: CgroupLimits(
                memoryLimitMiB: 64, memoryReservationMiB: 32,
                cpuShares: 1024, cpuQuotaUnits: 2048, pidsLimit: 50),
            parent: "flotilla", layout: .v2(mountPoint: root))

        // Then the v2 files hold the converted values, swap is off, and pids was the last controller enabled
        func read(_ file: String) -> String? { ImageFixtures.fileText(container + "/" + file) }
        #expect(read("memory.max") == String(64 << 20))
        #expect(read("memory.swap.max") == "0")
        #expect(read("memory.low") == String(32 << 20))
        #expect(read("cpu.weight") == "39")
        #expect(read("cpu.max") == "200000 100000")
        #expect(read("pids.max") == "50")
        // (a plain file keeps the tail of the longer "+memory" under each later write; the kernel takes each as a command)
        #expect(ImageFixtures.fileText(root + "/flotilla/cgroup.subtree_control")?.hasPrefix("+pids") == true)
        #expect(cgroup.procsPaths == [container + "/cgroup.procs"])

        // And stats and the OOM flag come from cpu.stat, memory.current/peak, pids.current and memory.events
        #expect(
            try cgroup.stats()
                == CgroupStats(
                    cpuUsageNanoseconds: 1_500_000, memoryUsageBytes: 4096,
                    memoryMaxUsageBytes: 8192, pidsCurrent: 3))
        #expect(cgroup.oomKilled())
    }

    @Test func aLimitWithoutItsControllerIsRefused() throws {
        // Given a fake unified hierarchy without the pids controller
        let scratch = try ImageTestDirectory()
        _ = try ImageTestDirectory.write(scratch.path + "/cgroup.controllers", Array("cpu memory\n".utf8))
        _ = try ImageTestDirectory.write(scratch.path + "/cgroup.subtree_control", [])

        // When a pids limit is asked for, Then the error names the controller and nothing is created
        #expect(throws: CgroupError.controllerUnavailable(controller: "pids", path: scratch.path)) {
            _ = try Cgroup.create(
                name: "c", limits: .init(pidsLimit: 5), parent: "flotilla", layout: .v2(mountPoint: scratch.path))
        }
        #expect(!FileManager.default.fileExists(atPath: scratch.path + "/flotilla/c"))
    }
}

/// A child started with posix_spawn and reaped with waitpid.
///
/// Not Foundation's `Process`: it notices a child's exit through a socket the child's own children inherit, so a
/// test whose shell leaves background processes would wait for them too.
struct SpawnedChild {
    let pid: Int32

    /// Starts `arguments` with stderr sent to `stderrPath` (if given).
    init(_ arguments: [String], stderrPath: String? = nil) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if let stderrPath {
            posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        }
        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: Int32 = 0
        let result = posix_spawn(&pid, arguments[0], &actions, nil, argv, environ)
        guard result == 0 else { throw CgroupError.system(operation: "posix_spawn", path: arguments[0], errno: result) }
        self.pid = pid
    }

    /// Waits for the exit: the exit code, or the signal that ended it.
    func wait() -> (code: Int32?, signal: Int32?) {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return status & 0x7f == 0 ? ((status >> 8) & 0xff, nil) : (nil, status & 0x7f)
    }
}

/// Spawns `busybox sh -c script` that first writes its own pid into every cgroup.procs path, so it runs inside the
/// cgroup from its first allocation.
func spawnInCgroup(_ cgroup: Cgroup, _ script: String, stderrPath: String? = nil) throws -> SpawnedChild {
    try SpawnedChild(
        ["/bin/busybox", "sh", "-c", #"for f in "$@"; do echo $$ > "$f"; done; "# + script, "sh"] + cgroup.procsPaths,
        stderrPath: stderrPath)
}

@Suite(.serialized, .enabled(if: getuid() == 0, "cgroups need root"), .timeLimit(.minutes(10)))
struct CgroupTests {
    let parent = "flotilla-test-\(getpid())"

    @Test func thisMachinesLayoutIsDetected() throws {
        let layout = try #require(CgroupLayout.detect())
        let mountInfo = try String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)
        if mountInfo.contains(" - cgroup cgroup ") && mountInfo.contains(",memory") {
            guard case .v1(let mounts) = layout else {
                Issue.record("expected v1, got \(layout)")
                return
            }
            #expect(
                mounts["memory"] != nil && mounts["pids"] != nil && mounts["cpu"] != nil && mounts["cpuacct"] != nil)
        } else {
            guard case .v2 = layout else {
                Issue.record("expected v2, got \(layout)")
                return
            }
        }
    }

    @Test func limitsAreWrittenAndReadBack() throws {
        // Given limits for every controller
        let limits = CgroupLimits(
            memoryLimitMiB: 64, memoryReservationMiB: 32, cpuShares: 512, cpuQuotaUnits: 512, pidsLimit: 20)

        // When the cgroup is created
        let cgroup = try Cgroup.create(name: "limits", limits: limits, parent: parent)
        defer {
            try? cgroup.destroy()
            rmdirParent()
        }

        // Then each limit reads back from the kernel's files
        func read(_ controller: String, _ file: String) throws -> String {
            let directory = try #require(cgroup.directory(for: controller))
            return try readFile(directory + "/" + file).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        switch cgroup.layout {
        case .v1:
            #expect(try read("memory", "memory.limit_in_bytes") == String(64 << 20))
            #expect(try read("memory", "memory.soft_limit_in_bytes") == String(32 << 20))
            if let memsw = try? read("memory", "memory.memsw.limit_in_bytes") { #expect(memsw == String(64 << 20)) }
            #expect(try read("cpu", "cpu.shares") == "512")
            #expect(try read("cpu", "cpu.cfs_quota_us") == "50000")
            #expect(try read("cpu", "cpu.cfs_period_us") == "100000")
        case .v2:
            #expect(try read("memory", "memory.max") == String(64 << 20))
            #expect(try read("memory", "memory.low") == String(32 << 20))
            #expect(try read("cpu", "cpu.weight") == String(Cgroup.weight(shares: 512)))
            #expect(try read("cpu", "cpu.max") == "50000 100000")
        }
        #expect(try read("pids", "pids.max") == "20")

        // And open finds the same cgroup again
        #expect(Cgroup.open(name: "limits", parent: parent)?.directories == cgroup.directories)
    }

    @Test func theDeviceAllowlistIsWhatTheV1DevicesControllerLists() throws {
        guard case .v1(let mounts) = try #require(CgroupLayout.detect()), mounts["devices"] != nil else { return }
        // Given a cgroup in the devices hierarchy (it inherits the parent's "a *:* rwm")
        let cgroup = try Cgroup.create(name: "devices", limits: .init(), parent: parent)
        defer {
            try? cgroup.destroy()
            rmdirParent()
        }
        // When the default allowlist is applied
        try cgroup.restrictDevices(to: DeviceRule.defaults)
        // Then the kernel lists exactly those rules: everything else is denied
        let list = try readFile(try #require(cgroup.directory(for: "devices")) + "/devices.list")
        #expect(Set(list.split(separator: "\n").map(String.init)) == Set(DeviceRule.defaults.map(\.v1Line)))
    }

    @Test func aReusedCgroupTakesALargerMemoryLimit() throws {
        // Given a cgroup left with a 32 MiB limit (as after an agent restart)
        let first = try Cgroup.create(name: "reuse", limits: .init(memoryLimitMiB: 32), parent: parent)
        defer {
            try? first.destroy()
            rmdirParent()
        }

        // When it is created again with 128 MiB, Then the larger limit applies
        let second = try Cgroup.create(name: "reuse", limits: .init(memoryLimitMiB: 128), parent: parent)
        let memory = try #require(second.directory(for: "memory"))
        let file = { () -> String in
            if case .v1 = second.layout { return "/memory.limit_in_bytes" }
            return "/memory.max"
        }()
        #expect(try readFile(memory + file).trimmingCharacters(in: .whitespacesAndNewlines) == String(128 << 20))
    }

    @Test func badLimitsAreRefusedAndCreateNothing() throws {
        for (limits, field) in [
            (CgroupLimits(memoryLimitMiB: 1), "memoryLimitMiB"),
            (CgroupLimits(memoryLimitMiB: 64, memoryReservationMiB: 128), "memoryReservationMiB"),
            (CgroupLimits(pidsLimit: 0), "pidsLimit"), (CgroupLimits(cpuQuotaUnits: -5), "cpuQuotaUnits"),
        ] {
            #expect { _ = try Cgroup.create(name: "bad", limits: limits, parent: parent) } throws: { error in
                (error as? CgroupError)?.description.hasPrefix(field) == true
            }
        }
        #expect(throws: CgroupError.self) { _ = try Cgroup.create(name: "../escape", limits: .init(), parent: parent) }
        #expect(Cgroup.open(name: "bad", parent: parent) == nil)
        rmdirParent()
    }

    @Test func anAddedProcessIsListedAndKilled() throws {
        // Given a cgroup and a sleeping process outside it
        let cgroup = try Cgroup.create(name: "procs", limits: .init(), parent: parent)
        defer {
            try? cgroup.destroy()
            rmdirParent()
        }
        let process = try SpawnedChild(["/bin/busybox", "sleep", "30"])

        // When its pid is added
        try cgroup.add(pid: process.pid)

        // Then every hierarchy lists it
        for path in cgroup.procsPaths {
            #expect(try readFile(path).split(separator: "\n").contains(Substring(String(process.pid))), "\(path)")
        }

        // When everything in the cgroup is killed, Then the process dies of SIGKILL and the cgroup can be removed
        try cgroup.killAll()
        #expect(process.wait().signal == SIGKILL)
        try cgroup.destroy()
        for directory in cgroup.directories { #expect(!FileManager.default.fileExists(atPath: directory)) }
    }

    @Test func theMemoryLimitOOMKills() throws {
        // Given a 32 MiB cgroup
        let cgroup = try Cgroup.create(name: "oom", limits: .init(memoryLimitMiB: 32), parent: parent)
        defer {
            try? cgroup.destroy()
            rmdirParent()
        }
        #expect(!cgroup.oomKilled())

        // When a process in it allocates without bound (tail keeps a line of /dev/zero that never ends)
        let process = try spawnInCgroup(cgroup, "exec tail /dev/zero")

        // Then the kernel kills it and the cgroup reports the OOM kill
        #expect(process.wait().signal == SIGKILL)
        #expect(cgroup.oomKilled())
        let stats = try cgroup.stats()
        #expect((stats.memoryMaxUsageBytes ?? 0) > 16 << 20 && (stats.memoryMaxUsageBytes ?? 0) <= 32 << 20)
    }

    @Test func thePidsLimitStopsAForkLoop() throws {
        // Given a cgroup limited to 8 processes
        let cgroup = try Cgroup.create(name: "pids", limits: .init(pidsLimit: 8), parent: parent)
        defer {
            try? cgroup.killAll()
            try? cgroup.destroy()
            rmdirParent()
        }

        // When a shell in it tries to start 30 background sleeps (a bounded fork loop)
        let scratch = try ImageTestDirectory()
        let errorsPath = scratch.path + "/stderr"
        let process = try spawnInCgroup(
            cgroup, "i=0; while [ $i -lt 30 ]; do sleep 20 & i=$((i+1)); done; echo all started",
            stderrPath: errorsPath)
        let exit = process.wait()
        let message = ImageFixtures.fileText(errorsPath) ?? ""

        // Then forking fails once the limit is reached, and the cgroup never holds more than 8 processes
        #expect(exit.code != 0)
        #expect(message.contains("can't fork"), "\(message)")
        #expect(try cgroup.processes().count <= 8)
        #expect(try cgroup.stats().pidsCurrent.map { $0 <= 8 } == true)
        try cgroup.killAll()
        #expect(try cgroup.processes().isEmpty)
    }

    @Test func statsMoveWhenWorkRuns() throws {
        // Given a fresh cgroup
        let cgroup = try Cgroup.create(name: "stats", limits: .init(memoryLimitMiB: 256), parent: parent)
        defer {
            try? cgroup.destroy()
            rmdirParent()
        }
        let before = try cgroup.stats()

        // When a process in it burns CPU and touches memory (a bounded loop)
        let process = try spawnInCgroup(
            cgroup, "x=$(head -c 4000000 /dev/zero | tr '\\0' a); i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done")
        let exit = process.wait()

        // Then CPU time and peak memory went up
        let after = try cgroup.stats()
        #expect(exit.code == 0)
        #expect(after.cpuUsageNanoseconds > before.cpuUsageNanoseconds)
        #expect((after.memoryMaxUsageBytes ?? 0) > (before.memoryMaxUsageBytes ?? 0))
        #expect(after.memoryUsageBytes != nil)
    }

    // MARK: - cgroup v2

    /// The unified hierarchy this machine has (on a hybrid host: /sys/fs/cgroup/unified, which holds none of our controllers).
    static var v2MountPoint: String? {
        guard let mountInfo = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8) else { return nil }
        return mountInfo.split(separator: "\n").compactMap { line -> String? in
            let halves = line.split(separator: " - ")
            guard halves.count == 2, halves[1].hasPrefix("cgroup2 ") else { return nil }
            return String(halves[0].split(separator: " ")[4])
        }.first
    }

    @Test(.enabled(if: CgroupTests.v2MountPoint != nil, "needs a cgroup2 mount"))
    func theV2PathCreatesAddsKillsAndDestroys() throws {
        // Given the v2 layout on this machine's cgroup2 mount
        let layout = CgroupLayout.v2(mountPoint: try #require(Self.v2MountPoint))
        let controllers = try readFile(try #require(Self.v2MountPoint) + "/cgroup.controllers")

        // When a cgroup is created there and a process joins it
        let cgroup = try Cgroup.create(name: "v2", limits: .init(), parent: parent, layout: layout)
        defer {
            try? cgroup.destroy()
            rmdir(try! #require(Self.v2MountPoint) + "/" + parent)
        }
        #expect(FileManager.default.fileExists(atPath: cgroup.directories[0] + "/cgroup.procs"))
        let process = try spawnInCgroup(cgroup, "sleep 30")
        var members: Set<Int32> = []
        for _ in 0..<200 where !members.contains(process.pid) {
            members = try cgroup.processes()
            usleep(10_000)
        }

        // Then cgroup.procs lists it, stats read cpu.stat, and killAll (cgroup.kill) ends it
        #expect(members.contains(process.pid))
        #expect(try cgroup.stats().cpuUsageNanoseconds > 0)
        try cgroup.killAll()
        #expect(process.wait().signal == SIGKILL)
        #expect(!cgroup.oomKilled())

        // And destroy removes the directory
        try cgroup.destroy()
        #expect(!FileManager.default.fileExists(atPath: cgroup.directories[0]))

        // And a limit whose controller the hierarchy lacks is refused by name
        if !controllers.contains("memory") {
            #expect(
                throws: CgroupError.controllerUnavailable(controller: "memory", path: try #require(Self.v2MountPoint))
            ) {
                _ = try Cgroup.create(
                    name: "v2-memory", limits: .init(memoryLimitMiB: 64), parent: parent, layout: layout)
            }
        }
    }

    private func rmdirParent() {
        guard let layout = CgroupLayout.detect() else { return }
        switch layout {
        case .v1(let mounts): for mount in Set(mounts.values) { rmdir(mount + "/" + parent) }
        case .v2(let mountPoint): rmdir(mountPoint + "/" + parent)
        }
    }
}
