#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing
@testable import NodeAgent

@Suite(.timeLimit(.minutes(1)))
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
        let v1Mounts = ["cpu": "/sys/fs/cgroup/cpu", "cpuacct": "/sys/fs/cgroup/cpuacct",
                        "memory": "/sys/fs/cgroup/memory", "pids": "/sys/fs/cgroup/pids"]
        #expect(CgroupLayout.detect(mountInfo: Self.v1) == .v1(mounts: v1Mounts))
        #expect(CgroupLayout.detect(mountInfo: Self.hybrid) == .v1(mounts: v1Mounts), "hybrid uses the v1 controllers")
        #expect(CgroupLayout.detect(mountInfo: Self.comounted) == .v1(mounts: [
            "cpu": "/sys/fs/cgroup/cpu,cpuacct", "cpuacct": "/sys/fs/cgroup/cpu,cpuacct", "memory": "/sys/fs/cgroup/memory"]))
        #expect(CgroupLayout.detect(mountInfo: Self.unified) == .v2(mountPoint: "/sys/fs/cgroup"))
        #expect(CgroupLayout.detect(mountInfo: "25 1 8:1 / / rw - ext4 /dev/vda rw") == nil)
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

/// Spawns `sh -c script` that first writes its own pid into every cgroup.procs path, so it runs inside the cgroup
/// from its first allocation; returns the running process.
func spawnInCgroup(_ cgroup: Cgroup, _ script: String, errors: Pipe? = nil) throws -> Process {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/busybox")
    process.arguments = ["sh", "-c", #"for f in "$@"; do echo $$ > "$f"; done; "# + script, "sh"] + cgroup.procsPaths
    if let errors { process.standardError = errors }
    try process.run()
    return process
}

@Suite(.serialized, .enabled(if: getuid() == 0, "cgroups need root"), .timeLimit(.minutes(3)))
struct CgroupTests {
    let parent = "flotilla-test-\(getpid())"

    @Test func thisMachinesLayoutIsDetected() throws {
        let layout = try #require(CgroupLayout.detect())
        let mountInfo = try String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)
        if mountInfo.contains(" - cgroup cgroup ") && mountInfo.contains(",memory") {
            guard case .v1(let mounts) = layout else { Issue.record("expected v1, got \(layout)"); return }
            #expect(mounts["memory"] != nil && mounts["pids"] != nil && mounts["cpu"] != nil && mounts["cpuacct"] != nil)
        } else {
            guard case .v2 = layout else { Issue.record("expected v2, got \(layout)"); return }
        }
    }

    @Test func limitsAreWrittenAndReadBack() throws {
        // Given limits for every controller
        let limits = CgroupLimits(memoryLimitMiB: 64, memoryReservationMiB: 32, cpuShares: 512, cpuQuotaUnits: 512, pidsLimit: 20)

        // When the cgroup is created
        let cgroup = try Cgroup.create(name: "limits", limits: limits, parent: parent)
        defer { try? cgroup.destroy(); rmdirParent() }

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

    @Test func badLimitsAreRefusedAndCreateNothing() throws {
        for (limits, field) in [(CgroupLimits(memoryLimitMiB: 1), "memoryLimitMiB"),
                                (CgroupLimits(memoryLimitMiB: 64, memoryReservationMiB: 128), "memoryReservationMiB"),
                                (CgroupLimits(pidsLimit: 0), "pidsLimit"), (CgroupLimits(cpuQuotaUnits: -5), "cpuQuotaUnits")] {
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
        defer { try? cgroup.destroy(); rmdirParent() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/busybox")
        process.arguments = ["sleep", "30"]
        try process.run()

        // When its pid is added
        try cgroup.add(pid: process.processIdentifier)

        // Then every hierarchy lists it
        for path in cgroup.procsPaths {
            #expect(try readFile(path).split(separator: "\n").contains(Substring(String(process.processIdentifier))), "\(path)")
        }

        // When everything in the cgroup is killed, Then the process dies of SIGKILL and the cgroup can be removed
        try cgroup.killAll()
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGKILL)
        try cgroup.destroy()
        for directory in cgroup.directories { #expect(!FileManager.default.fileExists(atPath: directory)) }
    }

    @Test func theMemoryLimitOOMKills() throws {
        // Given a 32 MiB cgroup
        let cgroup = try Cgroup.create(name: "oom", limits: .init(memoryLimitMiB: 32), parent: parent)
        defer { try? cgroup.destroy(); rmdirParent() }
        #expect(!cgroup.oomKilled())

        // When a process in it allocates without bound (tail keeps a line of /dev/zero that never ends)
        let process = try spawnInCgroup(cgroup, "exec tail /dev/zero")
        process.waitUntilExit()

        // Then the kernel kills it and the cgroup reports the OOM kill
        #expect(process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGKILL)
        #expect(cgroup.oomKilled())
        let stats = try cgroup.stats()
        #expect((stats.memoryMaxUsageBytes ?? 0) > 16 << 20 && (stats.memoryMaxUsageBytes ?? 0) <= 32 << 20)
    }

    @Test func thePidsLimitStopsAForkLoop() throws {
        // Given a cgroup limited to 8 processes
        let cgroup = try Cgroup.create(name: "pids", limits: .init(pidsLimit: 8), parent: parent)
        defer { try? cgroup.killAll(); try? cgroup.destroy(); rmdirParent() }

        // When a shell in it tries to start 30 background sleeps (a bounded fork loop)
        let errors = Pipe()
        let process = try spawnInCgroup(cgroup, "i=0; while [ $i -lt 30 ]; do sleep 20 2>/dev/null & i=$((i+1)); done; echo all started", errors: errors)
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()

        // Then forking fails once the limit is reached, and the cgroup never holds more than 8 processes
        #expect(process.terminationStatus != 0)
        #expect(message.contains("can't fork"), "\(message)")
        #expect(try cgroup.processes().count <= 8)
        #expect(try cgroup.stats().pidsCurrent.map { $0 <= 8 } == true)
        try cgroup.killAll()
        #expect(try cgroup.processes().isEmpty)
    }

    @Test func statsMoveWhenWorkRuns() throws {
        // Given a fresh cgroup
        let cgroup = try Cgroup.create(name: "stats", limits: .init(memoryLimitMiB: 256), parent: parent)
        defer { try? cgroup.destroy(); rmdirParent() }
        let before = try cgroup.stats()

        // When a process in it burns CPU and touches memory (a bounded loop)
        let process = try spawnInCgroup(cgroup, "x=$(head -c 4000000 /dev/zero | tr '\\0' a); i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done")
        process.waitUntilExit()

        // Then CPU time and peak memory went up
        let after = try cgroup.stats()
        #expect(process.terminationStatus == 0)
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
        defer { try? cgroup.destroy(); rmdir(try! #require(Self.v2MountPoint) + "/" + parent) }
        #expect(FileManager.default.fileExists(atPath: cgroup.directories[0] + "/cgroup.procs"))
        let process = try spawnInCgroup(cgroup, "sleep 30")
        var members: Set<Int32> = []
        for _ in 0..<200 where !members.contains(process.processIdentifier) {
            members = try cgroup.processes()
            usleep(10_000)
        }

        // Then cgroup.procs lists it, stats read cpu.stat, and killAll (cgroup.kill) ends it
        #expect(members.contains(process.processIdentifier))
        #expect(try cgroup.stats().cpuUsageNanoseconds > 0)
        try cgroup.killAll()
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGKILL)
        #expect(!cgroup.oomKilled())

        // And destroy removes the directory
        try cgroup.destroy()
        #expect(!FileManager.default.fileExists(atPath: cgroup.directories[0]))

        // And a limit whose controller the hierarchy lacks is refused by name
        if !controllers.contains("memory") {
            #expect(throws: CgroupError.controllerUnavailable(controller: "memory", path: try #require(Self.v2MountPoint))) {
                _ = try Cgroup.create(name: "v2-memory", limits: .init(memoryLimitMiB: 64), parent: parent, layout: layout)
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
