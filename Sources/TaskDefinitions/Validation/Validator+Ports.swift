// Port rules: ranges, protocol, the per-network-mode host port rule, and each host port bound once per task.

extension Validator {
    mutating func validatePortMappings(of container: ContainerDefinition, at path: FieldPath) {
        guard let mappings = container.portMappings, !mappings.isEmpty else { return }
        let mode = definition.resolvedNetworkMode
        let listPath = path.key("portMappings")
        guard mappings.count <= TaskDefinitionLimits.maxPortMappingsPerContainer else {
            report(
                listPath,
                "Too many port mappings for container '\(container.name)'. A container holds at most "
                    + "\(TaskDefinitionLimits.maxPortMappingsPerContainer), got \(mappings.count).")
            return
        }
        if mode == .none {
            report(listPath, "Port mappings are not supported when networkMode=none.")
            return
        }
        var containerPorts = Set<HostPort>()
        for (index, mapping) in mappings.enumerated() {
            let mappingPath = listPath.index(index)
            var portsInRange = true
            if let containerPort = mapping.containerPort {
                if !TaskDefinitionLimits.containerPort.contains(containerPort) {
                    portsInRange = false
                    report(
                        mappingPath.key("containerPort"),
                        "Invalid 'containerPort' setting for container "
                            + "'\(container.name)'. Must be between 1 and 65535, got \(containerPort).")
                }
            } else {
                portsInRange = false
                report(
                    mappingPath.key("containerPort"),
                    "Invalid 'containerPort' setting for container "
                        + "'\(container.name)'. It is required.")
            }
            if let hostPort = mapping.hostPort, !TaskDefinitionLimits.hostPort.contains(hostPort) {
                portsInRange = false
                report(
                    mappingPath.key("hostPort"),
                    "Invalid 'hostPort' setting for container '\(container.name)'. "
                        + "Must be between 0 and 65535, got \(hostPort).")
            }
            let transport = mapping.transportProtocol
            if transport == nil {
                report(
                    mappingPath.key("protocol"),
                    "Invalid 'protocol' setting for container '\(container.name)'. "
                        + "Must be tcp or udp, got '\((mapping.protocol ?? "").prefix(64))'.")
            }
            guard portsInRange, let containerPort = mapping.containerPort else { continue }
            // In host and awsvpc modes the container's port is the host's port: 0 or absent means "the same".
            if mode == .host || mode == .awsvpc, let hostPort = mapping.hostPort, hostPort != 0,
                hostPort != containerPort
            {
                report(
                    mappingPath.key("hostPort"),
                    "When networkMode=\(mode.rawValue), the host ports and container "
                        + "ports in port mappings must match.")
            }
            if let transport,
                !containerPorts.insert(HostPort(port: containerPort, transportProtocol: transport)).inserted
            {
                report(
                    mappingPath.key("containerPort"),
                    "Container port \(containerPort) is used in more than one "
                        + "port mapping for container \(container.name)")
            }
        }
    }

    /// A host port (per protocol) may be bound by one mapping of the task only. In awsvpc mode the containers
    /// share the task's namespace, so their container ports must differ the same way.
    mutating func validateHostPortConflicts() {
        var bound = Set<HostPort>()
        for (containerIndex, container) in definition.containerDefinitions.enumerated() {
            let mappings = container.portMappings ?? []
            guard mappings.count <= TaskDefinitionLimits.maxPortMappingsPerContainer else { continue }
            for (index, mapping) in mappings.enumerated() {
                guard let transport = mapping.transportProtocol,
                    let containerPort = mapping.containerPort,
                    TaskDefinitionLimits.containerPort.contains(containerPort),
                    let port = boundPort(of: mapping),
                    TaskDefinitionLimits.hostPort.contains(port)
                else { continue }
                if !bound.insert(HostPort(port: port, transportProtocol: transport)).inserted {
                    let field = (mapping.hostPort ?? 0) != 0 ? "hostPort" : "containerPort"
                    report(
                        FieldPath.root.key("containerDefinitions").index(containerIndex).key("portMappings")
                            .index(index).key(field),
                        "\(transport.rawValue.uppercased()) host port '\(port)' is mapped multiple times in task.")
                }
            }
        }
    }

    private func boundPort(of mapping: PortMapping) -> Int? {
        switch definition.resolvedNetworkMode {
        case .bridge, .host: definition.staticHostPort(of: mapping)
        case .awsvpc: mapping.containerPort
        case .none: nil
        }
    }
}
