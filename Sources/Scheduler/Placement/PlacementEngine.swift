import ECSVocabulary
/// Tasks of one task definition and group to place, with their constraints and strategy.
public struct PlacementRequest: Hashable, Sendable {
    /// ECS task group: `service:web`, or the RunTask group.
    public var group: String
    public var taskDefinitionArn: String
    public var requirements: TaskRequirements
    public var constraints: [PlacementConstraint]
    /// Applied in order; empty places on the first feasible instance in snapshot order.
    public var strategy: [PlacementStrategy]
    public var serviceName: String?
    public var deploymentId: String?

    public init(
        group: String, taskDefinitionArn: String, requirements: TaskRequirements,
        constraints: [PlacementConstraint] = [], strategy: [PlacementStrategy] = [],
        serviceName: String? = nil, deploymentId: String? = nil
    ) {
        self.group = group
        self.taskDefinitionArn = taskDefinitionArn
        self.requirements = requirements
        self.constraints = constraints
        self.strategy = strategy
        self.serviceName = serviceName
        self.deploymentId = deploymentId
    }
}

/// The outcome of placing one request.
public struct PlacementResult: Hashable, Sendable {
    public var placements: [TaskPlacement]
    /// Set when some tasks fit nowhere.
    public var failure: PlacementFailure?
}

/// Places tasks onto a snapshot's instances, one decision at a time, keeping its own running tally of what is used.
///
/// Built once per plan: instance columns (remaining CPU, memory, ports), per-group task counts, attribute buckets
/// for spread and the instances matching each set of static expressions are computed once and then updated
/// incrementally, so a decision is one pass over the candidate instances with integer comparisons and no allocation.
public struct PlacementEngine: Sendable {
    let instances: [InstanceSnapshot]
    let indexByArn: [String: Int]
    private(set) var remainingCPU: [Int]
    private(set) var remainingMemory: [Int]
    private var portsInUse: [Set<HostPort>]
    private var runningTasks: [Int]
    /// Live tasks per group, as instance indexes (from the snapshot only: seeds the per-group counts).
    private let snapshotGroups: [String: [Int]]
    private var groupIDs: [String: Int] = [:]
    /// Per group id: live tasks of the group on each instance.
    private(set) var groupCounts: [[Int32]] = []
    /// Per instance: task groups on it with counts; built on first use by an expression that reads tasks.
    private var instanceGroups: [[String: Int]]?
    /// Static memberOf expressions (joined sources) → accepting instances matching all of them.
    private var candidateCache: [String: [Int32]] = [:]
    /// Attribute → bucket per instance (and bucket count); missing attribute is its own bucket.
    private var attributeBuckets: [String: (buckets: [Int32], count: Int)] = [:]
    /// Spread tallies, flat so a decision reads them through two buffers: state `s` keeps its instances' buckets at
    /// `spreadBuckets[bucketBase + instance]` and the group's tasks per bucket at `spreadCounts[countBase + bucket]`.
    private var spreadBuckets: [Int32] = []
    private var spreadCounts: [Int] = []
    private var spreadStates: [(bucketBase: Int, countBase: Int)] = []
    private var spreadIndex: [String: Int] = [:]
    private var spreadsByGroup: [Int: [Int]] = [:]

    /// Builds the engine from a snapshot's instances and live tasks.
    public init(instances: [InstanceSnapshot], tasks: [TaskSnapshot]) {
        self.instances = instances
        var indexByArn: [String: Int] = [:]
        indexByArn.reserveCapacity(instances.count)
        for (index, instance) in instances.enumerated() { indexByArn[instance.containerInstanceArn] = index }
        self.indexByArn = indexByArn
        remainingCPU = instances.map(\.remainingCPU)
        remainingMemory = instances.map(\.remainingMemoryMiB)
        portsInUse = instances.map(\.portsInUse)
        runningTasks = instances.map(\.runningTasksCount)
        var groups: [String: [Int]] = [:]
        for task in tasks where task.isLive {
            if let index = indexByArn[task.containerInstanceArn] { groups[task.group, default: []].append(index) }
        }
        snapshotGroups = groups
    }

    /// Builds the engine for a whole snapshot.
    public init(_ snapshot: ClusterSnapshot) {
        self.init(instances: snapshot.instances, tasks: snapshot.tasks)
    }

    // MARK: - Placing

    /// Places up to `count` tasks of `request`, stopping at the first that fits nowhere (later identical ones
    /// cannot fit either: placing only consumes capacity).
    public mutating func place(
        _ request: PlacementRequest, count: Int,
        using generator: inout some RandomNumberGenerator
    ) -> PlacementResult {
        var placements: [TaskPlacement] = []
        placements.reserveCapacity(count)
        let prepared = prepare(request)
        for placed in 0..<count {
            guard let index = choose(prepared, using: &generator) else {
                let failure = PlacementFailure(
                    group: request.group, serviceName: request.serviceName,
                    taskDefinitionArn: request.taskDefinitionArn, count: count - placed,
                    rejections: explain(prepared))
                return PlacementResult(placements: placements, failure: failure)
            }
            commit(prepared, on: index)
            placements.append(
                TaskPlacement(
                    containerInstanceArn: instances[index].containerInstanceArn,
                    group: request.group, taskDefinitionArn: request.taskDefinitionArn,
                    serviceName: request.serviceName, deploymentId: request.deploymentId,
                    hostPorts: request.requirements.hostPorts))
        }
        return PlacementResult(placements: placements, failure: nil)
    }

    /// A request resolved against the engine's caches.
    struct Prepared {
        var request: PlacementRequest
        var group: Int
        var candidates: [Int32]
        var distinct: Bool
        var dynamic: [ConstraintExpression]
        var keys: [Key]
        var randomTieBreak: Bool
    }

    /// One strategy, compiled to a per-instance integer where lower is better.
    enum Key {
        case remainingCPU, remainingMemory, groupCount
        case spread(bucketBase: Int, countBase: Int)
    }

    mutating func prepare(_ request: PlacementRequest) -> Prepared {
        let group = groupID(request.group)
        var staticExpressions: [ConstraintExpression] = []
        var dynamic: [ConstraintExpression] = []
        var distinct = false
        for constraint in request.constraints {
            switch constraint.kind {
            case .distinctInstance: distinct = true
            case .memberOf:
                guard let expression = constraint.expression else { continue }
                if expression.dependsOnPlacedTasks {
                    dynamic.append(expression)
                } else {
                    staticExpressions.append(expression)
                }
            }
        }
        if !dynamic.isEmpty, instanceGroups == nil { buildInstanceGroups() }
        var keys: [Key] = []
        var randomTieBreak = false
        for strategy in request.strategy {
            switch strategy {
            case .binpack(.cpu): keys.append(.remainingCPU)
            case .binpack(.memory): keys.append(.remainingMemory)
            case .spread(.instanceId): keys.append(.groupCount)
            case .spread(.attribute(let name)):
                let state = spreadState(group: group, attribute: name)
                keys.append(.spread(bucketBase: state.bucketBase, countBase: state.countBase))
            case .random: randomTieBreak = true
            }
            if randomTieBreak { break }
        }
        return Prepared(
            request: request, group: group, candidates: candidates(matching: staticExpressions),
            distinct: distinct, dynamic: dynamic, keys: keys, randomTieBreak: randomTieBreak)
    }

    /// The best feasible instance for one more task, or nil.
    ///
    /// The hot loop: every column is read through an unsafe buffer so a candidate costs a few loads and compares.
    func choose(_ prepared: Prepared, using generator: inout some RandomNumberGenerator) -> Int? {
        let requirements = prepared.request.requirements
        let cpu = requirements.cpu, memory = requirements.memoryMiB
        let ports = requirements.hostPorts
        let distinct = prepared.distinct, checksDynamic = !prepared.dynamic.isEmpty,
            randomTieBreak = prepared.randomTieBreak
        return remainingCPU.withUnsafeBufferPointer { cpuColumn in
            remainingMemory.withUnsafeBufferPointer { memoryColumn in
                groupCounts[prepared.group].withUnsafeBufferPointer { countColumn in
                    spreadBuckets.withUnsafeBufferPointer { buckets in
                        spreadCounts.withUnsafeBufferPointer { counts in
                            prepared.keys.withUnsafeBufferPointer { keys in
                                prepared.candidates.withUnsafeBufferPointer { candidates in
                                    withUnsafeTemporaryAllocation(of: Int.self, capacity: max(keys.count, 1)) { best in
                                        var chosen: Int?
                                        var ties = 0
                                        for candidate in candidates {
                                            let index = Int(candidate)
                                            if cpuColumn[index] < cpu || memoryColumn[index] < memory { continue }
                                            if distinct, countColumn[index] > 0 { continue }
                                            if !ports.isEmpty, !portsInUse[index].isDisjoint(with: ports) { continue }
                                            if checksDynamic, !matchesDynamic(prepared.dynamic, index) { continue }
                                            // Lexicographic comparison with the best so far; -1 better, 0 equal so far.
                                            var order = chosen == nil ? -1 : 0
                                            var position = 0
                                            while position < keys.count {
                                                let value: Int
                                                switch keys[position] {
                                                case .remainingCPU: value = cpuColumn[index]
                                                case .remainingMemory: value = memoryColumn[index]
                                                case .groupCount: value = Int(countColumn[index])
                                                case .spread(let bucketBase, let countBase):
                                                    value = counts[countBase + Int(buckets[bucketBase + index])]
                                                }
                                                if order == 0 {
                                                    if value < best[position] {
                                                        order = -1
                                                    } else if value > best[position] {
                                                        break
                                                    }
                                                }
                                                if order == -1 { best[position] = value }
                                                position += 1
                                            }
                                            if position < keys.count { continue }  // worse
                                            if order == -1 {
                                                chosen = index
                                                ties = 1
                                            } else if randomTieBreak {
                                                // Equal on every key: reservoir sampling keeps each tied instance with equal chance.
                                                ties += 1
                                                if generator.next(upperBound: UInt64(ties)) == 0 { chosen = index }
                                            }
                                        }
                                        return chosen
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Records one task of `prepared` on instance `index`.
    mutating func commit(_ prepared: Prepared, on index: Int) {
        let requirements = prepared.request.requirements
        remainingCPU[index] -= requirements.cpu
        remainingMemory[index] -= requirements.memoryMiB
        for port in requirements.hostPorts { portsInUse[index].insert(port) }
        runningTasks[index] += 1
        groupCounts[prepared.group][index] += 1
        for state in spreadsByGroup[prepared.group] ?? [] {
            let (bucketBase, countBase) = spreadStates[state]
            spreadCounts[countBase + Int(spreadBuckets[bucketBase + index])] += 1
        }
        if instanceGroups != nil { instanceGroups![index][prepared.request.group, default: 0] += 1 }
    }

    /// Every instance's reasons for refusing one more task of `prepared`.
    func explain(_ prepared: Prepared) -> [InstanceRejection] {
        let requirements = prepared.request.requirements
        let counts = groupCounts[prepared.group]
        var rejections: [InstanceRejection] = []
        rejections.reserveCapacity(instances.count)
        for (index, instance) in instances.enumerated() {
            var reasons: [PlacementRejection] = []
            if !instance.agentConnected { reasons.append(.agentDisconnected) }
            if instance.status == .draining { reasons.append(.draining) }
            for constraint in prepared.request.constraints {
                switch constraint.kind {
                case .distinctInstance: if counts[index] > 0 { reasons.append(.distinctInstance) }
                case .memberOf:
                    if let expression = constraint.expression, !matches(expression, index) {
                        reasons.append(.memberOf(expression))
                    }
                }
            }
            if remainingCPU[index] < requirements.cpu { reasons.append(.insufficientCPU) }
            if remainingMemory[index] < requirements.memoryMiB { reasons.append(.insufficientMemory) }
            if let port = requirements.hostPorts.first(where: { portsInUse[index].contains($0) }) {
                reasons.append(.portInUse(port))
            }
            rejections.append(InstanceRejection(containerInstanceArn: instance.containerInstanceArn, reasons: reasons))
        }
        return rejections
    }

    // MARK: - Caches

    mutating func groupID(_ group: String) -> Int {
        if let id = groupIDs[group] { return id }
        let id = groupCounts.count
        groupIDs[group] = id
        var counts = [Int32](repeating: 0, count: instances.count)
        for index in snapshotGroups[group] ?? [] { counts[index] += 1 }
        groupCounts.append(counts)
        return id
    }

    /// Live tasks of `group` on the instance at `index`, placements of this plan included.
    func count(of group: String, on index: Int) -> Int {
        guard let id = groupIDs[group] else { return snapshotGroups[group]?.lazy.filter { $0 == index }.count ?? 0 }
        return Int(groupCounts[id][index])
    }

    private mutating func candidates(matching expressions: [ConstraintExpression]) -> [Int32] {
        let key = expressions.map(\.source).joined(separator: "\u{0}")
        if let cached = candidateCache[key] { return cached }
        var result: [Int32] = []
        for (index, instance) in instances.enumerated() where instance.acceptsTasks {
            if expressions.allSatisfy({ $0.matches(instance, groups: EmptyCollection()) }) {
                result.append(Int32(index))
            }
        }
        candidateCache[key] = result
        return result
    }

    private mutating func spreadState(group: Int, attribute: String) -> (bucketBase: Int, countBase: Int) {
        let key = "\(group)\u{0}\(attribute)"
        if let state = spreadIndex[key] { return spreadStates[state] }
        let buckets: (buckets: [Int32], count: Int)
        if let cached = attributeBuckets[attribute] {
            buckets = cached
        } else {
            var values: [String: Int32] = [:]
            var column: [Int32] = []
            column.reserveCapacity(instances.count)
            for instance in instances {
                // Missing attribute: bucket 0 ("no value"); each distinct value gets its own bucket.
                let value = instance.attributes[attribute].flatMap { $0 }
                guard let value else {
                    column.append(0)
                    continue
                }
                if let bucket = values[value] {
                    column.append(bucket)
                } else {
                    let bucket = Int32(values.count + 1)
                    values[value] = bucket
                    column.append(bucket)
                }
            }
            buckets = (column, values.count + 1)
            attributeBuckets[attribute] = buckets
        }
        let bases = (bucketBase: spreadBuckets.count, countBase: spreadCounts.count)
        spreadBuckets += buckets.buckets
        spreadCounts += repeatElement(0, count: buckets.count)
        for (index, count) in groupCounts[group].enumerated() where count > 0 {
            spreadCounts[bases.countBase + Int(buckets.buckets[index])] += Int(count)
        }
        let state = spreadStates.count
        spreadStates.append(bases)
        spreadIndex[key] = state
        spreadsByGroup[group, default: []].append(state)
        return bases
    }

    private mutating func buildInstanceGroups() {
        var perInstance = [[String: Int]](repeating: [:], count: instances.count)
        for (group, indexes) in snapshotGroups {
            for index in indexes { perInstance[index][group, default: 0] += 1 }
        }
        for (group, id) in groupIDs {
            // Placements already made in this plan.
            for index in instances.indices {
                let placed = Int(groupCounts[id][index]) - (perInstance[index][group] ?? 0)
                if placed > 0 { perInstance[index][group, default: 0] += placed }
            }
        }
        instanceGroups = perInstance
    }

    private func instanceFacts(_ index: Int) -> InstanceSnapshot {
        var instance = instances[index]
        instance.runningTasksCount = runningTasks[index]
        return instance
    }

    private func matchesDynamic(_ expressions: [ConstraintExpression], _ index: Int) -> Bool {
        expressions.allSatisfy { matches($0, index) }
    }

    /// Evaluates `expression` on the instance at `index` with this plan's placements counted.
    func matches(_ expression: ConstraintExpression, _ index: Int) -> Bool {
        if !expression.dependsOnPlacedTasks { return expression.matches(instances[index], groups: EmptyCollection()) }
        let groups =
            instanceGroups?[index].keys.map { $0 } ?? snapshotGroups.filter { $0.value.contains(index) }.map(\.key)
        return expression.matches(instanceFacts(index), groups: groups)
    }
}
