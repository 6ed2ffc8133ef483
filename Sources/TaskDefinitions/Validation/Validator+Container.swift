// Container-level rules: names, image, cpu and memory, health check, stop timeout, ulimits, Linux parameters,
// mounts and environment. Ports and dependencies have their own files.

extension Validator {
    mutating func validateContainerList() {
        let containers = definition.containerDefinitions
        let path = FieldPath.root.key("containerDefinitions")
        guard !containers.isEmpty else {
            report(path, "Container list cannot be empty.")
            return
        }
        guard containers.count <= TaskDefinitionLimits.maxContainers else {
            // Per-container issues of an oversized list would drown the one that matters.
            report(
                path,
                "Too many containers. A task definition holds at most \(TaskDefinitionLimits.maxContainers), "
                    + "got \(containers.count).")
            return
        }
        var names = Set<String>()
        for (index, container) in containers.enumerated() {
            let containerPath = path.index(index)
            validateName(of: container, at: containerPath, seen: &names)
            validateImage(of: container, at: containerPath)
            validateResources(of: container, at: containerPath)
            validatePortMappings(of: container, at: containerPath)
            if let healthCheck = container.healthCheck {
                validate(healthCheck, of: container, at: containerPath.key("healthCheck"))
            }
            validateHealthCheckStartInterval(of: container, at: containerPath)
            if let stopTimeout = container.stopTimeout, !TaskDefinitionLimits.stopTimeout.contains(stopTimeout) {
                report(
                    containerPath.key("stopTimeout"),
                    "Invalid 'stopTimeout' setting for container "
                        + "'\(container.name)'. Must be between 0 and 120 seconds, got \(stopTimeout).")
            }
            validateUlimits(of: container, at: containerPath)
            if let linuxParameters = container.linuxParameters {
                validate(linuxParameters, of: container, at: containerPath.key("linuxParameters"))
            }
            validateMounts(of: container, at: containerPath)
            validateEnvironment(of: container, at: containerPath)
        }
        if !containers.contains(where: \.isEssential) {
            report(path, "Task definition doesn't have any essential container.")
        }
        validateHostPortConflicts()
        validateDependencies()
    }

    private mutating func validateName(of container: ContainerDefinition, at path: FieldPath, seen: inout Set<String>) {
        let name = container.name
        if name.isEmpty {
            report(path.key("name"), "Container.name should not be null or empty.")
        } else if name.utf8.count > TaskDefinitionLimits.maxNameLength {
            report(path.key("name"), "Container name must be at most 255 characters long, got \(name.utf8.count).")
        } else if !Self.isValidName(name) {
            report(path.key("name"), "Invalid container name '\(name)'. \(Self.nameRule)")
        } else if !seen.insert(name).inserted {
            report(path.key("name"), "Container names must be unique within a Task Definition.")
        }
    }

    private mutating func validateImage(of container: ContainerDefinition, at path: FieldPath) {
        let image = container.image
        if image.isEmpty {
            report(path.key("image"), "Container.image should not be null or empty.")
            return
        }
        let allowed = image.unicodeScalars.allSatisfy { scalar in
            scalar.isASCII
                && (("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar)
                    || ("0"..."9").contains(scalar) || "-_:./#@".unicodeScalars.contains(scalar))
        }
        if !allowed || image.utf8.count > 255 {
            report(
                path.key("image"),
                "Invalid image '\(image.prefix(64))'. Up to 255 letters (uppercase and "
                    + "lowercase), numbers, hyphens, underscores, colons, periods, forward slashes, number signs and "
                    + "'@' are allowed.")
        }
    }

    private mutating func validateResources(of container: ContainerDefinition, at path: FieldPath) {
        let name = container.name
        if let cpu = container.cpu, !TaskDefinitionLimits.containerCPUUnits.contains(cpu) {
            report(
                path.key("cpu"),
                "Invalid 'cpu' setting for container '\(name)'. Must be between 0 and "
                    + "\(TaskDefinitionLimits.containerCPUUnits.upperBound) CPU units, got \(cpu).")
        }
        let memoryRange = TaskDefinitionLimits.memoryMiB
        let reservationRange = TaskDefinitionLimits.memoryReservationMiB
        var memoryInRange = true
        if let memory = container.memory, !memoryRange.contains(memory) {
            memoryInRange = false
            report(
                path.key("memory"),
                "Invalid 'memory' setting for container '\(name)'. Must be between "
                    + "\(memoryRange.lowerBound) MiB and \(memoryRange.upperBound) MiB (4 TiB), got \(memory).")
        }
        if let reservation = container.memoryReservation, !reservationRange.contains(reservation) {
            memoryInRange = false
            report(
                path.key("memoryReservation"),
                "Invalid 'memoryReservation' setting for container '\(name)'. "
                    + "Must be between \(reservationRange.lowerBound) MiB and \(reservationRange.upperBound) MiB "
                    + "(4 TiB), got \(reservation).")
        }
        if container.memory == nil, container.memoryReservation == nil, definition.memory == nil {
            report(
                path.key("memory"),
                "Invalid setting for container '\(name)'. At least one of 'memory' or "
                    + "'memoryReservation' must be specified.")
        }
        if memoryInRange, let memory = container.memory, let reservation = container.memoryReservation,
            reservation > memory
        {
            report(
                path.key("memoryReservation"),
                "Invalid setting for container '\(name)'. 'memoryReservation' "
                    + "(\(reservation)) must be less than or equal to 'memory' (\(memory)).")
        }
    }

    private mutating func validate(_ healthCheck: HealthCheck, of container: ContainerDefinition, at path: FieldPath) {
        let prefix = "Invalid 'healthCheck' setting for container '\(container.name)'."
        let command = healthCheck.command
        if command.count < 2 || !["CMD", "CMD-SHELL"].contains(command[0]) {
            let shown = command.prefix(3).map { "\"\($0.prefix(40))\"" }.joined(separator: ", ")
            report(
                path.key("command"),
                "\(prefix) The command must be [\"CMD\", executable, arguments...] or "
                    + "[\"CMD-SHELL\", script], got [\(shown)\(command.count > 3 ? ", ..." : "")].")
        }
        let bounds: [(String, Int?, ClosedRange<Int>, String)] = [
            ("interval", healthCheck.interval, TaskDefinitionLimits.healthCheckInterval, " seconds"),
            ("timeout", healthCheck.timeout, TaskDefinitionLimits.healthCheckTimeout, " seconds"),
            ("retries", healthCheck.retries, TaskDefinitionLimits.healthCheckRetries, ""),
            ("startPeriod", healthCheck.startPeriod, TaskDefinitionLimits.healthCheckStartPeriod, " seconds"),
        ]
        for (field, value, range, unit) in bounds {
            if let value, !range.contains(value) {
                report(
                    path.key(field),
                    "\(prefix) '\(field)' must be between \(range.lowerBound) and "
                        + "\(range.upperBound)\(unit), got \(value).")
            }
        }
    }

    /// The one Flotilla label with a meaning: `healthCheckStartIntervalLabel`, a number of seconds within bounds.
    private mutating func validateHealthCheckStartInterval(of container: ContainerDefinition, at path: FieldPath) {
        let label = ContainerDefinition.healthCheckStartIntervalLabel
        guard let text = container.dockerLabels?[label], container.healthCheckStartInterval == nil else { return }
        let range = TaskDefinitionLimits.healthCheckStartInterval
        report(
            path.key("dockerLabels"),
            "Invalid docker label '\(label)' for container '\(container.name)'. It must be a number of seconds "
                + "between \(range.lowerBound) and \(Int(range.upperBound)), got '\(text.prefix(40))'.")
    }

    private mutating func validateUlimits(of container: ContainerDefinition, at path: FieldPath) {
        let prefix = "Invalid 'ulimits' setting for container '\(container.name)'."
        var seen = Set<String>()
        for (index, ulimit) in (container.ulimits ?? []).enumerated() {
            let ulimitPath = path.key("ulimits").index(index)
            if !Ulimit.knownNames.contains(ulimit.name) {
                report(
                    ulimitPath.key("name"),
                    "\(prefix) Unknown ulimit '\(ulimit.name.prefix(64))'; expected one of "
                        + "\(Ulimit.knownNames.joined(separator: ", ")).")
            } else if !seen.insert(ulimit.name).inserted {
                report(ulimitPath.key("name"), "\(prefix) Ulimit '\(ulimit.name)' is set more than once.")
            }
            // -1 means unlimited, as setrlimit's RLIM_INFINITY.
            for (field, value) in [("softLimit", ulimit.softLimit), ("hardLimit", ulimit.hardLimit)] where value < -1 {
                report(ulimitPath.key(field), "\(prefix) '\(field)' must be -1 (unlimited) or more, got \(value).")
            }
            let soft = ulimit.softLimit == -1 ? Int.max : ulimit.softLimit
            let hard = ulimit.hardLimit == -1 ? Int.max : ulimit.hardLimit
            if soft > hard, ulimit.softLimit >= -1, ulimit.hardLimit >= -1 {
                report(
                    ulimitPath.key("softLimit"),
                    "\(prefix) 'softLimit' (\(ulimit.softLimit)) must be less than "
                        + "or equal to 'hardLimit' (\(ulimit.hardLimit)).")
            }
        }
    }

    private mutating func validate(
        _ parameters: LinuxParameters, of container: ContainerDefinition,
        at path: FieldPath
    ) {
        let prefix = "Invalid 'linuxParameters' setting for container '\(container.name)'."
        for (list, names) in [("add", parameters.capabilities?.add), ("drop", parameters.capabilities?.drop)] {
            for (index, name) in (names ?? []).enumerated() where !KernelCapabilities.knownNames.contains(name) {
                report(
                    path.key("capabilities").key(list).index(index),
                    "\(prefix) Unknown capability '\(name.prefix(64))'.")
            }
        }
        let sizes = TaskDefinitionLimits.memoryReservationMiB
        if let size = parameters.sharedMemorySize, !sizes.contains(size) {
            report(
                path.key("sharedMemorySize"),
                "\(prefix) 'sharedMemorySize' must be between 1 and "
                    + "\(sizes.upperBound) MiB, got \(size).")
        }
        for (index, tmpfs) in (parameters.tmpfs ?? []).enumerated() {
            let tmpfsPath = path.key("tmpfs").index(index)
            if !tmpfs.containerPath.hasPrefix("/") {
                report(
                    tmpfsPath.key("containerPath"),
                    "\(prefix) tmpfs 'containerPath' must be an absolute path, "
                        + "got '\(tmpfs.containerPath.prefix(64))'.")
            }
            if !sizes.contains(tmpfs.size) {
                report(
                    tmpfsPath.key("size"),
                    "\(prefix) tmpfs 'size' must be between 1 and \(sizes.upperBound) MiB, "
                        + "got \(tmpfs.size).")
            }
        }
        for (index, device) in (parameters.devices ?? []).enumerated() {
            validate(device, prefix: prefix, at: path.key("devices").index(index))
        }
    }

    /// A device's paths are absolute and plain (no `.` or `..`); the container path lies under /dev, where the
    /// runtime makes device nodes; permissions are ECS's three words, each once.
    private mutating func validate(_ device: Device, prefix: String, at path: FieldPath) {
        func isPlainAbsolute(_ value: String) -> Bool {
            value.hasPrefix("/") && !value.split(separator: "/").contains { $0 == "." || $0 == ".." }
        }
        if !isPlainAbsolute(device.hostPath) || device.hostPath == "/" {
            report(
                path.key("hostPath"),
                "\(prefix) device 'hostPath' must be an absolute path without '.' or '..', "
                    + "got '\(device.hostPath.prefix(64))'.")
        }
        let containerPath = device.effectiveContainerPath
        if !isPlainAbsolute(containerPath) || !containerPath.hasPrefix("/dev/") || containerPath == "/dev/" {
            report(
                path.key(device.containerPath == nil ? "hostPath" : "containerPath"),
                "\(prefix) device 'containerPath' must be an absolute path under /dev without '.' or '..', "
                    + "got '\(containerPath.prefix(64))'.")
        }
        var seen: Set<String> = []
        for (index, permission) in (device.permissions ?? []).enumerated() {
            if !Device.knownPermissions.contains(permission) {
                report(
                    path.key("permissions").index(index),
                    "\(prefix) Unknown device permission "
                        + "'\(permission.prefix(64))'; expected one of read, write, mknod.")
            } else if !seen.insert(permission).inserted {
                report(
                    path.key("permissions").index(index),
                    "\(prefix) Device permission '\(permission)' is listed "
                        + "more than once.")
            }
        }
    }

    private mutating func validateMounts(of container: ContainerDefinition, at path: FieldPath) {
        let volumeNames = Set((definition.volumes ?? []).compactMap(\.name))
        for (index, mount) in (container.mountPoints ?? []).enumerated() {
            let prefix = "Invalid 'mountPoints' setting for container '\(container.name)'."
            let mountPath = path.key("mountPoints").index(index)
            let source = mount.sourceVolume ?? ""
            if !volumeNames.contains(source) {
                report(mountPath.key("sourceVolume"), "\(prefix) Unknown volume '\(source.prefix(64))'.")
            }
            let containerPath = mount.containerPath ?? ""
            if !containerPath.hasPrefix("/") {
                report(
                    mountPath.key("containerPath"),
                    "\(prefix) 'containerPath' must be an absolute path, "
                        + "got '\(containerPath.prefix(64))'.")
            }
        }
        let containerNames = Set(definition.containerDefinitions.map(\.name))
        for (index, source) in (container.volumesFrom ?? []).enumerated() {
            let name = source.sourceContainer ?? ""
            if name == container.name || !containerNames.contains(name) {
                report(
                    path.key("volumesFrom").index(index).key("sourceContainer"),
                    "Invalid 'volumesFrom' setting for container '\(container.name)'. "
                        + "Unknown container '\(name.prefix(64))'.")
            }
        }
    }

    private mutating func validateEnvironment(of container: ContainerDefinition, at path: FieldPath) {
        for (index, variable) in (container.environment ?? []).enumerated() where (variable.name ?? "").isEmpty {
            report(
                path.key("environment").index(index).key("name"),
                "Invalid 'environment' setting for container '\(container.name)'. "
                    + "Variable names should not be null or empty.")
        }
    }
}
