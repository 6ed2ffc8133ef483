// dependsOn rules: known targets, no self or cyclic dependency, COMPLETE/SUCCESS only on non-essential
// containers, HEALTHY only on containers with a health check.

extension Validator {
    mutating func validateDependencies() {
        let containers = definition.containerDefinitions
        let byName = Dictionary(containers.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        for (index, container) in containers.enumerated() {
            for (dependencyIndex, dependency) in (container.dependsOn ?? []).enumerated() {
                let path = FieldPath.root.key("containerDefinitions").index(index).key("dependsOn").index(
                    dependencyIndex)
                let targetName = dependency.containerName
                if targetName == container.name {
                    report(path.key("containerName"), "Container '\(container.name)' cannot depend on itself.")
                    continue
                }
                guard let target = byName[targetName] else {
                    report(
                        path.key("containerName"),
                        "Cannot depend on container '\(targetName.prefix(64))' because it does not exist.")
                    continue
                }
                switch dependency.condition {
                case .complete where target.isEssential, .success where target.isEssential:
                    report(
                        path.key("condition"),
                        "A dependency container with SUCCESS or COMPLETE condition cannot "
                            + "be an essential container. Container '\(targetName)' is essential.")
                case .healthy where target.healthCheck == nil:
                    report(
                        path.key("condition"),
                        "Cannot depend on container '\(targetName)' with condition HEALTHY "
                            + "because it has no healthCheck.")
                default:
                    break
                }
            }
        }
        if let cycle = DependencyGraph(definition).firstCycle() {
            let names = cycle.map { containers[$0].name }
            report(
                FieldPath.root.key("containerDefinitions").index(cycle.min() ?? cycle[0]).key("dependsOn"),
                "Container dependencies should not have a cycle: \((names + [names[0]]).joined(separator: " -> ")).")
        }
    }
}

/// Containers as nodes, `dependsOn` entries naming another known container as edges (container -> dependency).
struct DependencyGraph {
    /// For each container index, the indexes of the containers it depends on.
    let edges: [[Int]]
    /// False when some dependency names no container (or the container itself).
    let hasOnlyKnownTargets: Bool

    init(_ definition: TaskDefinition) {
        let containers = definition.containerDefinitions
        let indexByName = Dictionary(
            containers.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { first, _ in first })
        var allKnown = true
        edges = containers.enumerated().map { index, container in
            (container.dependsOn ?? []).compactMap { dependency in
                guard let target = indexByName[dependency.containerName], target != index else {
                    allKnown = false
                    return nil
                }
                return target
            }
        }
        hasOnlyKnownTargets = allKnown
    }

    /// The indexes of the first cycle found, in dependency order, or nil when the graph is acyclic.
    func firstCycle() -> [Int]? {
        enum Mark { case unvisited, onStack, done }
        var marks = Array(repeating: Mark.unvisited, count: edges.count)
        var stack: [Int] = []
        func visit(_ node: Int) -> [Int]? {
            marks[node] = .onStack
            stack.append(node)
            for next in edges[node] {
                switch marks[next] {
                case .onStack: return Array(stack[stack.lastIndex(of: next)!...])
                case .unvisited: if let cycle = visit(next) { return cycle }
                case .done: break
                }
            }
            stack.removeLast()
            marks[node] = .done
            return nil
        }
        for node in edges.indices where marks[node] == .unvisited {
            if let cycle = visit(node) { return cycle }
        }
        return nil
    }

    /// Container indexes ordered dependencies first, ties in definition order; nil on a cycle.
    func topologicalOrder() -> [Int]? {
        var placed = Array(repeating: false, count: edges.count)
        var order: [Int] = []
        while order.count < edges.count {
            guard
                let next = edges.indices.first(where: { node in
                    !placed[node] && edges[node].allSatisfy { placed[$0] }
                })
            else { return nil }
            placed[next] = true
            order.append(next)
        }
        return order
    }
}
