import ArgumentParser
import FlotillaTestKit
import Foundation
import Scheduler

#if canImport(Glibc)
import Glibc
#endif

/// `flotilla-bench scheduler`: places tasks of many services onto simulated instances, one decision at a time.
///
/// Workload per size: mixed instance shapes over three zones (a tenth are windows), 20 services with varied CPU and
/// memory, `memberOf(attribute:ecs.os-type == linux)`, strategy spread(ecs.availability-zone) then binpack(memory).
/// Tasks scale with instances (the `--tasks` / `--instances` density), so the per-placement cost shows how a
/// decision grows with cluster size. Reference: Nomad's C2M placed 2,000,000 containers in about 22 minutes
/// (≈1,515 placements/s on a cluster of servers); Nomad cannot be installed here, so its published figure is used.
struct SchedulerBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scheduler",
        abstract: "Placement throughput and per-decision latency of the Scheduler at 500 to 5,000 instances."
    )

    @Option(help: "Instances of the main run.") var instances = 5_000
    @Option(help: "Tasks of the main run.") var tasks = 100_000
    @Option(help: "Smaller instance counts to measure growth (comma-separated).") var growth = "500,1000,2000"
    @Option(help: "Seed of the cluster and of the scheduler's generator.") var seed: UInt64 = 42

    static let nomadC2MPlacementsPerSecond = 2_000_000.0 / (22 * 60)

    func run() throws {
        let sizes =
            growth.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }.filter {
                $0 < instances
            } + [instances]
        var results: [RunResult] = []
        print(
            "Per-decision times are this thread's CPU time; wall/s is the whole run by the wall clock on a shared machine."
        )
        print("instances    tasks   placed  unplaced  placements/s  (wall/s)  p50 µs  p99 µs  max µs  µs/placement")
        for size in sizes {
            let taskCount = Int((Double(tasks) * Double(size) / Double(instances)).rounded())
            let result = measure(instanceCount: size, taskCount: taskCount)
            results.append(result)
            print(
                String(
                    format: "%9d %8d %8d %9d %13.0f %9.0f %7.1f %7.1f %7.1f %13.2f", size, taskCount, result.placed,
                    result.unplaced, result.placementsPerSecond, result.wallPlacementsPerSecond, result.p50Micros,
                    result.p99Micros,
                    result.maxMicros, result.microsPerPlacement))
        }
        let main = results.last!
        let baseline = results.first!
        let peakMiB = peakResidentMiB()
        #if DEBUG
        let build = "debug"
        #else
        let build = "release"
        #endif
        let ratio = main.placementsPerSecond / Self.nomadC2MPlacementsPerSecond
        print("")
        let averages = Machine.loadAverages()
        let load = String(format: "%.2f %.2f %.2f", averages.one, averages.five, averages.fifteen)
        print(String(format: "peak memory (ru_maxrss): %.1f MiB; build: %@; load average: %@", peakMiB, build, load))
        print(String(format: "vs Nomad C2M (%.0f placements/s): %.1fx", Self.nomadC2MPlacementsPerSecond, ratio))
        print(
            String(
                format: "cost growth %d → %d instances (×%.1f): µs/placement ×%.2f", baseline.instances, main.instances,
                Double(main.instances) / Double(baseline.instances),
                main.microsPerPlacement / baseline.microsPerPlacement))
        let growthJSON = results.map {
            String(
                format:
                    "{\"instances\":%d,\"tasks\":%d,\"placements_per_second\":%.0f,\"p99_us\":%.2f,\"us_per_placement\":%.3f}",
                $0.instances, $0.tasks, $0.placementsPerSecond, $0.p99Micros, $0.microsPerPlacement)
        }.joined(separator: ",")
        print(
            String(
                format:
                    "{\"benchmark\":\"scheduler\",\"build\":\"%@\",\"instances\":%d,\"tasks\":%d,\"placed\":%d,\"unplaced\":%d,"
                    + "\"placements_per_second\":%.0f,\"wall_placements_per_second\":%.0f,\"load_average\":\"%@\",\"p50_us\":%.2f,\"p99_us\":%.2f,\"peak_rss_mib\":%.1f,"
                    + "\"nomad_c2m_placements_per_second\":%.0f,\"ratio_vs_nomad_c2m\":%.2f,\"goal_placements_per_second\":10000,"
                    + "\"ratio_vs_goal\":%.2f,\"growth_cost_ratio\":%.3f,\"growth\":[%@]}",
                build, main.instances, main.tasks, main.placed, main.unplaced, main.placementsPerSecond,
                main.wallPlacementsPerSecond, load, main.p50Micros,
                main.p99Micros, peakMiB, Self.nomadC2MPlacementsPerSecond, ratio, main.placementsPerSecond / 10_000,
                main.microsPerPlacement / baseline.microsPerPlacement, growthJSON))
    }

    struct RunResult {
        var instances: Int
        var tasks: Int
        var placed: Int
        var unplaced: Int
        /// Per second of this thread's CPU time: the one-core figure.
        var placementsPerSecond: Double
        var wallPlacementsPerSecond: Double
        var p50Micros: Double
        var p99Micros: Double
        var maxMicros: Double
        var microsPerPlacement: Double
    }

    func measure(instanceCount: Int, taskCount: Int) -> RunResult {
        var generator = SplitMix64(seed: seed)
        let cluster = Self.cluster(instanceCount: instanceCount, using: &generator)
        let requests = Self.requests()
        var engine = PlacementEngine(instances: cluster, tasks: [])
        // Per decision: CPU time of this thread (what one core spends; the machine is shared, so wall time also
        // counts other processes' turns), plus the wall clock for the whole run.
        var durations: [Int64] = []
        durations.reserveCapacity(taskCount)
        var placed = 0, unplaced = 0
        let clock = ContinuousClock()
        let start = clock.now
        let cpuStart = Self.threadCPUNanoseconds()
        // Bounded in count: exactly taskCount decisions.
        for index in 0..<taskCount {
            let request = requests[index * requests.count / max(taskCount, 1)]
            let before = Self.threadCPUNanoseconds()
            let result = engine.place(request, count: 1, using: &generator)
            durations.append(Self.threadCPUNanoseconds() - before)
            if result.failure == nil { placed += 1 } else { unplaced += 1 }
        }
        let cpuTotal = Double(Self.threadCPUNanoseconds() - cpuStart) / 1e9
        let wallTotal = Double(Self.nanoseconds(clock.now - start)) / 1e9
        durations.sort()
        let micros = durations.map { Double($0) / 1_000 }
        return RunResult(
            instances: instanceCount, tasks: taskCount, placed: placed, unplaced: unplaced,
            placementsPerSecond: Double(taskCount) / cpuTotal, wallPlacementsPerSecond: Double(taskCount) / wallTotal,
            p50Micros: Statistics.percentile(micros, 0.5), p99Micros: Statistics.percentile(micros, 0.99),
            maxMicros: Double(durations.last ?? 0) / 1_000,
            microsPerPlacement: cpuTotal * 1e6 / Double(max(taskCount, 1)))
    }

    static func threadCPUNanoseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now)
        return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
    }

    static func nanoseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000
    }

    static func cluster(instanceCount: Int, using generator: inout SplitMix64) -> [InstanceSnapshot] {
        let shapes: [(type: String, cpu: Int, memory: Int)] = [
            ("t3.medium", 2048, 3_900), ("m5.large", 2048, 7_680), ("m5.xlarge", 4096, 15_500),
            ("c5.2xlarge", 8192, 15_500), ("r5.xlarge", 4096, 31_000),
        ]
        let zones = ["us-east-1a", "us-east-1b", "us-east-1c"]
        return (0..<instanceCount).map { index in
            let shape = shapes[Int(generator.next(upperBound: UInt64(shapes.count)))]
            return InstanceSnapshot(
                containerInstanceArn: "arn:aws:ecs:local:000000000000:container-instance/bench/\(index)",
                ec2InstanceId: "i-\(String(index, radix: 16))", registeredCPU: shape.cpu,
                registeredMemoryMiB: shape.memory,
                portsInUse: [HostPort(22), HostPort(51678)],
                attributes: [
                    "ecs.instance-type": shape.type, "ecs.availability-zone": zones[index % 3],
                    "ecs.os-type": index % 10 == 9 ? "windows" : "linux", "rack": "r\(index % 7)",
                ])
        }
    }

    static func requests() -> [PlacementRequest] {
        // Parsing cannot fail: the expression is a literal checked by the Scheduler tests.
        let linuxOnly = try! PlacementConstraint.memberOf("attribute:ecs.os-type == linux")
        return (0..<20).map { service in
            PlacementRequest(
                group: "service:svc-\(service)", taskDefinitionArn: "svc-\(service):1",
                requirements: TaskRequirements(
                    cpu: [32, 64, 128][service % 3], memoryMiB: [128, 256, 512][service % 3]),
                constraints: [linuxOnly],
                strategy: [.spread(.attribute("ecs.availability-zone")), .binpack(.memory)],
                serviceName: "svc-\(service)")
        }
    }

    func peakResidentMiB() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_maxrss) / 1_024
    }
}
