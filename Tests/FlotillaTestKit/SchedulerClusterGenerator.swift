import ECSVocabulary
public import Scheduler

/// Builds random but reproducible clusters for property tests and the benchmark.
public enum SchedulerClusterGenerator {
    /// Instance shapes: (type, CPU units, memory MiB).
    public static let shapes: [(type: String, cpu: Int, memory: Int)] = [
        ("t3.medium", 2048, 3_900), ("m5.large", 2048, 7_680), ("m5.xlarge", 4096, 15_500),
        ("c5.2xlarge", 8192, 15_500), ("r5.xlarge", 4096, 31_000),
    ]
    public static let zones = ["us-east-1a", "us-east-1b", "us-east-1c"]

    /// `count` instances with mixed shapes, three zones, an OS type (a tenth are windows) and a custom `rack` attribute.
    /// With `unhealthyFraction`, that share of instances is DRAINING or has a disconnected agent.
    public static func instances(
        count: Int, unhealthyFraction: Double = 0,
        using generator: inout some RandomNumberGenerator
    ) -> [InstanceSnapshot] {
        (0..<count).map { index in
            let shape = shapes[Int(generator.next(upperBound: UInt64(shapes.count)))]
            let roll = Double(generator.next(upperBound: UInt64(1_000))) / 1_000
            let status: ContainerInstanceStatus = roll < unhealthyFraction / 2 ? .draining : .active
            let connected = !(roll >= unhealthyFraction / 2 && roll < unhealthyFraction)
            let os = index % 10 == 9 ? "windows" : "linux"
            return InstanceSnapshot(
                containerInstanceArn: "arn:aws:ecs:local:000000000000:container-instance/bench/\(index)",
                ec2InstanceId: "i-\(String(index, radix: 16))", status: status, agentConnected: connected,
                registeredCPU: shape.cpu, registeredMemoryMiB: shape.memory,
                portsInUse: [HostPort(22), HostPort(51678)],
                attributes: [
                    "ecs.instance-type": shape.type, "ecs.availability-zone": zones[index % zones.count],
                    "ecs.os-type": os, "rack": "r\(index % 7)",
                ])
        }
    }
}
