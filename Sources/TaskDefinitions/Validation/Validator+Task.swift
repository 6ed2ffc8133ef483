// Task-level rules: cpu and memory, launch types, volumes, placement constraints, tags.

extension Validator {
    mutating func validateTaskResources() {
        let containers = definition.containerDefinitions
        if let cpu = definition.cpu {
            let path = FieldPath.root.key("cpu")
            if let units = TaskDefinition.parseCPUUnits(cpu) {
                let range = TaskDefinitionLimits.taskCPUUnits
                if !range.contains(units) {
                    report(
                        path,
                        "Invalid 'cpu' setting for task. Must be between \(range.lowerBound) and "
                            + "\(range.upperBound) CPU units (0.125 to 192 vCPU), got \(units).")
                } else {
                    let sum = containers.reduce(0) { total, container in
                        total + TaskDefinitionLimits.containerCPUUnits.clamped(container.cpu ?? 0)
                    }
                    if sum > units {
                        report(
                            path,
                            "The sum of all container 'cpu' values cannot be greater than the value of the "
                                + "task 'cpu'. Containers reserve \(sum) CPU units, the task has \(units).")
                    }
                }
            } else {
                report(
                    path,
                    "Invalid 'cpu' setting for task. Expected CPU units (\"256\") or vCPUs (\"0.5 vCPU\"), "
                        + "got \"\(cpu)\".")
            }
        }
        if let memory = definition.memory {
            let path = FieldPath.root.key("memory")
            if let mib = TaskDefinition.parseMemoryMiB(memory) {
                let range = TaskDefinitionLimits.memoryMiB
                if !range.contains(mib) {
                    report(
                        path,
                        "Invalid 'memory' setting for task. Must be between \(range.lowerBound) MiB and "
                            + "\(range.upperBound) MiB (4 TiB), got \(mib).")
                } else {
                    validateContainerMemory(againstTask: mib)
                }
            } else {
                report(
                    path,
                    "Invalid 'memory' setting for task. Expected MiB (\"512\") or GB (\"0.5 GB\"), "
                        + "got \"\(memory)\".")
            }
        }
    }

    /// Each hard limit fits in the task, and so do the reservations together.
    private mutating func validateContainerMemory(againstTask taskMiB: Int) {
        guard definition.containerDefinitions.count <= TaskDefinitionLimits.maxContainers else { return }
        var containerTooLarge = false
        for (index, container) in definition.containerDefinitions.enumerated() {
            if let memory = container.memory, memory > taskMiB {
                containerTooLarge = true
                report(
                    FieldPath.root.key("containerDefinitions").index(index).key("memory"),
                    "The 'memory' setting for container '\(container.name)' is greater than for the task. "
                        + "The container has \(memory) MiB, the task \(taskMiB) MiB.")
            }
        }
        guard !containerTooLarge else { return }
        let reserved = definition.containerDefinitions.reduce(0) {
            $0 + (0...TaskDefinitionLimits.memoryMiB.upperBound).clamped($1.reservedMemoryMiB)
        }
        if reserved > taskMiB {
            report(
                FieldPath.root.key("memory"),
                "The sum of all container 'memoryReservation' values cannot be greater than the value of the task "
                    + "'memory'. Containers reserve \(reserved) MiB, the task has \(taskMiB) MiB.")
        }
    }

    mutating func validateCompatibilities() {
        for (index, compatibility) in (definition.requiresCompatibilities ?? []).enumerated()
        where !TaskDefinitionLimits.compatibilities.contains(compatibility) {
            report(
                FieldPath.root.key("requiresCompatibilities").index(index),
                "must be one of \(TaskDefinitionLimits.compatibilities.joined(separator: ", ")), "
                    + "got '\(compatibility.prefix(64))'")
        }
    }

    mutating func validateVolumes() {
        var seen = Set<String>()
        for (index, volume) in (definition.volumes ?? []).enumerated() {
            let path = FieldPath.root.key("volumes").index(index)
            let name = volume.name ?? ""
            if name.isEmpty {
                report(path.key("name"), "Volume.name should not be null or empty.")
            } else if !Self.isValidName(name) {
                report(path.key("name"), "Invalid volume name '\(name)'. \(Self.nameRule)")
            } else if !seen.insert(name).inserted {
                report(path.key("name"), "Volume names must be unique within a Task Definition.")
            }
            if let sourcePath = volume.host?.sourcePath, !sourcePath.hasPrefix("/") {
                report(path.key("host").key("sourcePath"), "must be an absolute path, got '\(sourcePath)'")
            }
        }
    }

    mutating func validatePlacementConstraints() {
        let constraints = definition.placementConstraints ?? []
        let path = FieldPath.root.key("placementConstraints")
        guard constraints.count <= TaskDefinitionLimits.maxPlacementConstraints else {
            report(
                path,
                "Too many placement constraints. A task definition holds at most "
                    + "\(TaskDefinitionLimits.maxPlacementConstraints), got \(constraints.count).")
            return
        }
        for (index, constraint) in constraints.enumerated() {
            if constraint.type != "memberOf" {
                report(
                    path.index(index).key("type"),
                    "must be memberOf (the only constraint type a task definition takes), "
                        + "got '\((constraint.type ?? "").prefix(64))'")
            } else if (constraint.expression ?? "").isEmpty {
                report(path.index(index).key("expression"), "is required for a memberOf constraint")
            }
        }
    }

    mutating func validateTags() {
        let tags = definition.tags ?? []
        let path = FieldPath.root.key("tags")
        guard tags.count <= TaskDefinitionLimits.maxTags else {
            report(path, "Too many tags. A resource holds at most \(TaskDefinitionLimits.maxTags), got \(tags.count).")
            return
        }
        for (index, tag) in tags.enumerated() {
            let key = tag.key ?? ""
            if !TaskDefinitionLimits.tagKeyLength.contains(key.count) {
                report(path.index(index).key("key"), "must be 1 to 128 characters long, got \(key.count)")
            } else if key.lowercased().hasPrefix("aws:") {
                report(path.index(index).key("key"), "Tag keys beginning with 'aws:' are reserved.")
            }
            if let value = tag.value, value.count > TaskDefinitionLimits.maxTagValueLength {
                report(path.index(index).key("value"), "must be at most 256 characters long, got \(value.count)")
            }
        }
    }
}

extension ClosedRange<Int> {
    /// `value` brought into the range, so sums over out-of-range values (reported separately) cannot overflow.
    func clamped(_ value: Int) -> Int { Swift.min(Swift.max(value, lowerBound), upperBound) }
}
