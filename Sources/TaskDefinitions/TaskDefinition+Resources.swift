import Foundation

// Resource math for the scheduler and the agent: CPU units (1024 per vCPU), memory in MiB, static host ports.

extension TaskDefinition {
    /// Task-level CPU in CPU units (1024 per vCPU), or nil when the task sets none or it does not parse.
    public var cpuUnits: Int? { cpu.flatMap(Self.parseCPUUnits) }

    /// Task-level memory in MiB, or nil when the task sets none or it does not parse.
    public var memoryMiB: Int? { memory.flatMap(Self.parseMemoryMiB) }

    /// CPU units a host must have free to run the task: the task-level `cpu` when set, else the containers' sum.
    public var requiredCPUUnits: Int {
        cpuUnits ?? containerDefinitions.reduce(0) { $0 + Self.countable.clamped($1.cpu ?? 0) }
    }

    /// MiB a host must have free to run the task: the task-level `memory` when set, else the sum over containers
    /// of `memoryReservation`, or `memory` where no reservation is set (what ECS subtracts from an instance).
    public var requiredMemoryMiB: Int {
        memoryMiB ?? containerDefinitions.reduce(0) { $0 + Self.countable.clamped($1.reservedMemoryMiB) }
    }

    /// Per-container values are clamped to this range before summing, so an unvalidated definition (built in
    /// code or read with ``decodeUnvalidated(_:)``) cannot overflow the sum: validation refuses far smaller values.
    private static let countable = 0...(1 << 40)

    /// The fixed host ports the task binds, per protocol, sorted: in bridge mode the non-zero `hostPort`s, in
    /// host mode every mapping's host port (the container port when absent). awsvpc and none tasks get their own
    /// network namespace and bind nothing on the host; bridge mappings with hostPort 0 or absent are dynamic.
    public var staticHostPorts: [HostPort] {
        var ports = Set<HostPort>()
        for container in containerDefinitions {
            for mapping in container.portMappings ?? [] {
                guard let transport = mapping.transportProtocol,
                    let port = staticHostPort(of: mapping)
                else { continue }
                ports.insert(HostPort(port: port, transportProtocol: transport))
            }
        }
        return ports.sorted()
    }

    /// The host port `mapping` pins in this task's network mode, or nil when it pins none.
    func staticHostPort(of mapping: PortMapping) -> Int? {
        switch resolvedNetworkMode {
        case .bridge:
            guard let hostPort = mapping.hostPort, hostPort != 0 else { return nil }
            return hostPort
        case .host:
            if let hostPort = mapping.hostPort, hostPort != 0 { return hostPort }
            return mapping.containerPort
        case .awsvpc, .none:
            return nil
        }
    }
}

/// A host port a task binds, with its protocol: tcp 80 and udp 80 are different ports.
public struct HostPort: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The port number.
    public var port: Int
    /// tcp or udp.
    public var transportProtocol: TransportProtocol

    /// A host port; tcp unless said otherwise.
    public init(port: Int, transportProtocol: TransportProtocol = .tcp) {
        self.port = port
        self.transportProtocol = transportProtocol
    }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        (lhs.transportProtocol, lhs.port) < (rhs.transportProtocol, rhs.port)
    }

    /// `80/tcp`.
    public var description: String { "\(port)/\(transportProtocol.rawValue)" }
}

// MARK: - Parsing ECS's CPU and memory strings

extension TaskDefinition {
    /// CPU units from a task-level `cpu` as ECS accepts it: `"256"` (units) or `"1 vCPU"`, `"0.5 vcpu"`,
    /// `"0.25vCPU"` (vCPUs, 1024 units each). Nil when it does not parse or is not a whole number of units.
    public static func parseCPUUnits(_ text: String) -> Int? {
        guard let (number, unit) = splitQuantity(text) else { return nil }
        switch unit {
        case "": return wholeNumber(number, times: 1)
        case "vcpu", "vcpus": return wholeNumber(number, times: 1024)
        default: return nil
        }
    }

    /// MiB from a task-level `memory` as ECS accepts it: `"512"` (MiB), `"1 GB"`, `"0.5GB"` (1024 MiB each);
    /// also `"2048 MiB"`, `"2048 MB"` and `"1 GiB"`. Nil when it does not parse or is not a whole number of MiB.
    public static func parseMemoryMiB(_ text: String) -> Int? {
        guard let (number, unit) = splitQuantity(text) else { return nil }
        switch unit {
        case "", "mib", "mb": return wholeNumber(number, times: 1)
        case "gb", "gib": return wholeNumber(number, times: 1024)
        default: return nil
        }
    }

    /// Splits `" 0.5 GB "` into `(0.5, "gb")`. The number is plain decimal: digits with at most one point.
    private static func splitQuantity(_ text: String) -> (Double, String)? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let digits = trimmed.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
        guard digits.contains(where: \.isNumber), digits.filter({ $0 == "." }).count <= 1,
            digits.count <= 20, let number = Double(digits)
        else { return nil }
        let unit = trimmed.dropFirst(digits.count).trimmingCharacters(in: .whitespaces).lowercased()
        return (number, unit)
    }

    /// `number * factor` when that is a whole number small enough to compute with.
    private static func wholeNumber(_ number: Double, times factor: Double) -> Int? {
        let value = number * factor
        guard value.rounded() == value, value < 1e15 else { return nil }
        return Int(value)
    }
}
