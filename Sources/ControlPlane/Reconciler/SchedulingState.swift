import ECSProtocol
import ECSVocabulary
import Foundation
import GRDB
import LoadBalancer
import Scheduler
import TaskDefinitions

/// One consistent read of a cluster: the scheduler's `ClusterSnapshot` plus the stored documents the plan is
/// applied to.
struct SchedulingState: Sendable {
    var cluster: Cluster
    var snapshot: ClusterSnapshot
    /// The services in the snapshot, by name, as stored.
    var services: [String: ECSService]
    /// Every task definition the snapshot's tasks and deployments use, by ARN.
    var definitions: [String: TaskDefinition]
    /// Whether a deleted service waits for its tasks to stop (the pass retires it once they have).
    var hasDrainingServices: Bool
    /// Services left out of the snapshot because their stored data cannot be parsed, by name, with why (the pass
    /// reports them; their tasks are left as they are).
    var skippedServices: [String: String] = [:]
}

extension Database {
    /// Reads `cluster` as the scheduler sees it, at the current change index.
    ///
    /// Instances: ACTIVE and DRAINING ones, with remaining CPU, memory and ports derived from the tasks that still
    /// occupy them (every task not yet reported STOPPED, including those asked to stop). Tasks: every task not both
    /// desired and reported STOPPED, plus the stopped tasks of deployments still in progress (the circuit breaker
    /// counts them). Services: ACTIVE ones.
    func schedulingState(of cluster: Cluster) throws -> SchedulingState {
        let name = cluster.clusterName
        let baseIndex = try changeIndex(of: name)
        var definitions: [String: TaskDefinition] = [:]
        func definition(_ arn: String) throws -> TaskDefinition? {
            if let known = definitions[arn] { return known }
            guard let reference = try? TaskDefinitionReference(arn), let found = try? taskDefinition(reference) else {
                return nil
            }
            definitions[arn] = found
            return found
        }

        // Services and their deployments.
        var (storedServices, skipped) = try readableServices(cluster: name)
        var inProgress: Set<String> = []
        var services: [String: ECSService] = [:]
        var serviceSnapshots: [ServiceSnapshot] = []
        services: for service in storedServices {
            var deployments: [DeploymentSnapshot] = []
            for deployment in service.deployments {
                guard let taskDefinition = try definition(deployment.taskDefinition) else {
                    if let problem = unreadableTaskDefinition(deployment.taskDefinition) {
                        skipped[service.serviceName] = problem
                        continue services
                    }
                    continue
                }
                let snapshot = DeploymentSnapshot(
                    id: deployment.id, status: deployment.status,
                    taskDefinitionArn: deployment.taskDefinition, requirements: TaskRequirements(taskDefinition),
                    rolloutState: deployment.rolloutState ?? .completed,
                    createdAt: deployment.createdAt)
                if snapshot.status == .primary, snapshot.rolloutState == .inProgress {
                    inProgress.insert(deployment.id)
                }
                deployments.append(snapshot)
            }
            let configuration = service.deploymentConfiguration ?? .defaults
            let placement = PlacementSettings(
                constraints: service.placementConstraints, strategy: service.placementStrategy)
            if let problem = placement.problems.first {
                skipped[service.serviceName] = problem
                continue
            }
            services[service.serviceName] = service
            var snapshot = ServiceSnapshot(
                serviceName: service.serviceName, desiredCount: service.desiredCount, deployments: deployments,
                placementConstraints: placement.constraints,
                placementStrategy: placement.strategy.isEmpty ? PlacementStrategy.serviceDefault : placement.strategy,
                healthCheckGracePeriodSeconds: service.healthCheckGracePeriodSeconds ?? 0)
            // (The scheduler's DeploymentConfiguration is shadowed by ours; fill it field by field.)
            snapshot.deploymentConfiguration.minimumHealthyPercent = configuration.minimumHealthyPercent ?? 100
            snapshot.deploymentConfiguration.maximumPercent = configuration.maximumPercent ?? 200
            snapshot.deploymentConfiguration.deploymentCircuitBreaker = configuration.deploymentCircuitBreaker.map {
                DeploymentCircuitBreaker(enable: $0.enable, rollback: $0.rollback)
            }
            serviceSnapshots.append(snapshot)
        }

        let taskRows = try schedulingTasks(cluster: name, stoppedTasksOf: inProgress)

        // Instances, with what their tasks occupy.
        let stored = try instances(cluster: name, statuses: ContainerInstanceStatus.registered)
        let attributes = try attributesByTarget(cluster: name)
        var instances: [InstanceSnapshot] = []
        var slotByArn: [String: Int] = [:]
        for instance in stored {
            var snapshot = instance.placementSnapshot
            snapshot.attributes = attributes[instance.id] ?? [:]
            snapshot.portsInUse = Set(
                instance.registeredResources.filter { $0.name == "PORTS" }
                    .flatMap { $0.stringSetValue ?? [] }.compactMap { Int($0).map { HostPort($0, .tcp) } })
            snapshot.runningTasksCount = 0
            slotByArn[instance.containerInstanceArn] = instances.count
            instances.append(snapshot)
        }
        // Health as ECS counts it: container health checks of the task definition, and the verdicts of the
        // balancers its service is attached to (those something runs and reports for).
        let verdicts = try targetHealth(inCluster: name)
        let reporting = try reportingLoadBalancers()
        var balancersByGroup: [String: [String]] = [:]
        for service in storedServices {
            let names = (service.loadBalancers ?? []).compactMap { $0["loadBalancerName"]?.stringValue }
                .map(ARNs.loadBalancerName).filter(reporting.contains)
            if !names.isEmpty { balancersByGroup["service:\(service.serviceName)"] = Array(Set(names)).sorted() }
        }
        var taskSnapshots: [TaskSnapshot] = []
        for row in taskRows {
            var snapshot = row.snapshot
            snapshot.isHealthChecked =
                try definition(snapshot.taskDefinitionArn)?.containerDefinitions
                .contains { $0.isEssential && $0.healthCheck != nil } ?? false
            if let balancers = balancersByGroup[snapshot.group] {
                snapshot.loadBalancerHealth = LoadBalancerHealth(verdicts[snapshot.taskArn] ?? [:], of: balancers)
            }
            taskSnapshots.append(snapshot)
            guard snapshot.lastStatus != .stopped, let slot = slotByArn[snapshot.containerInstanceArn] else { continue }
            let usage = try definition(snapshot.taskDefinitionArn).map(TaskRequirements.init)
            instances[slot].remainingCPU -= row.cpu ?? usage?.cpu ?? 0
            instances[slot].remainingMemoryMiB -= row.memory ?? usage?.memoryMiB ?? 0
            instances[slot].portsInUse.formUnion(usage?.hostPorts ?? [])
            instances[slot].runningTasksCount += 1
        }
        // A DAEMON service runs one task on every instance that can take it.
        for index in serviceSnapshots.indices {
            guard services[serviceSnapshots[index].serviceName]?.schedulingStrategy == "DAEMON" else { continue }
            serviceSnapshots[index].desiredCount = instances.filter(\.acceptsTasks).count
            serviceSnapshots[index].placementConstraints.append(.distinctInstance)
        }
        return SchedulingState(
            cluster: cluster,
            snapshot: ClusterSnapshot(
                baseIndex: baseIndex, clusterName: name, instances: instances, tasks: taskSnapshots,
                services: serviceSnapshots),
            services: services, definitions: definitions,
            hasDrainingServices: try serviceCount(cluster: name, statuses: [.draining]) > 0,
            skippedServices: skipped)
    }
}

extension LoadBalancerHealth {
    /// One verdict from every balancer's: unhealthy if one finds the task failing, healthy once all of them find it
    /// healthy, initial until then (a balancer that has not reported on the task yet has not checked it).
    init(_ verdicts: [String: TargetHealth], of balancers: [String]) {
        if let failing = balancers.first(where: { verdicts[$0] == .unhealthy }) {
            self = .unhealthy(loadBalancerName: failing)
        } else if balancers.allSatisfy({ verdicts[$0] == .healthy }) {
            self = .healthy
        } else {
            self = .initial
        }
    }
}

/// A service's or RunTask's stored placement settings, parsed with the scheduler's parser.
///
/// The API validated them when they were given (`PlacementRules`); an entry that still fails (stored by an older
/// version, or by hand) is left out and named in `problems` (the parser bounds length and depth, so it cannot crash).
/// The reconciler skips a service with problems rather than run it without its constraints.
struct PlacementSettings {
    var constraints: [PlacementConstraint] = []
    var strategy: [PlacementStrategy] = []
    /// One line per entry that did not parse, naming it (`placementConstraints[0]: ...`).
    var problems: [String] = []

    init(constraints: [JSONValue]?, strategy: [JSONValue]?) {
        for (index, entry) in (constraints ?? []).enumerated() {
            do throws(PlacementConfigurationError) {
                self.constraints.append(
                    try PlacementConstraint(
                        type: entry["type"]?.stringValue ?? "",
                        expression: entry["expression"]?.stringValue))
            } catch { problems.append("placementConstraints[\(index)]: \(error.description)") }
        }
        for (index, entry) in (strategy ?? []).enumerated() {
            do throws(PlacementConfigurationError) {
                self.strategy.append(
                    try PlacementStrategy(type: entry["type"]?.stringValue ?? "", field: entry["field"]?.stringValue))
            } catch { problems.append("placementStrategy[\(index)]: \(error.description)") }
        }
    }
}
