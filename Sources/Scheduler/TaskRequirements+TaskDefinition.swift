public import TaskDefinitions

extension TaskRequirements {
    /// The requirements of one task of `definition`, as ECS reserves them.
    ///
    /// CPU and memory are task-level when set, else the sum over containers (`memory`, or `memoryReservation` when
    /// only the soft limit is set). Host ports: every container port in `host` mode, every non-zero `hostPort` in
    /// `bridge` mode (0 or absent is dynamic and never conflicts), none in `awsvpc` and `none` modes.
    public init(_ definition: TaskDefinition) {
        let containers = definition.containerDefinitions
        let cpu = definition.cpuUnits ?? containers.reduce(0) { $0 + ($1.cpu ?? 0) }
        let memory = definition.memoryMiB ?? containers.reduce(0) { $0 + ($1.memory ?? $1.memoryReservation ?? 0) }
        var ports: [HostPort] = []
        let mode = definition.networkMode ?? .bridge
        for container in containers {
            for mapping in container.portMappings ?? [] {
                let transport: TransportProtocol = mapping.protocol?.lowercased() == "udp" ? .udp : .tcp
                let port: Int? =
                    switch mode {
                    case .host: mapping.hostPort.flatMap { $0 > 0 ? $0 : nil } ?? mapping.containerPort
                    case .bridge: mapping.hostPort.flatMap { $0 > 0 ? $0 : nil }
                    case .awsvpc, .none: nil
                    }
                if let port, !ports.contains(HostPort(port, transport)) { ports.append(HostPort(port, transport)) }
            }
        }
        self.init(cpu: cpu, memoryMiB: memory, hostPorts: ports)
    }
}
