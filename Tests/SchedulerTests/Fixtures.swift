import ECSVocabulary
import Foundation
import Scheduler

/// Small builders shared by the suites; fixed time, fixed names.
enum Fixture {
    static let now = Date(timeIntervalSince1970: 1_764_400_000)

    static func instance(
        _ name: String, cpu: Int = 4096, memory: Int = 8192, zone: String = "us-east-1a",
        type: String = "m5.large", status: ContainerInstanceStatus = .active, connected: Bool = true,
        ports: Set<HostPort> = [], extra: [String: String?] = [:]
    ) -> InstanceSnapshot {
        var attributes: [String: String?] = [
            "ecs.availability-zone": zone, "ecs.instance-type": type, "ecs.os-type": "linux",
        ]
        attributes.merge(extra) { $1 }
        return InstanceSnapshot(
            containerInstanceArn: "arn:ci/\(name)", ec2InstanceId: name, status: status,
            agentConnected: connected, agentVersion: "1.80.0",
            registeredAt: Date(timeIntervalSince1970: 1_700_000_000),
            registeredCPU: cpu, registeredMemoryMiB: memory, portsInUse: ports, attributes: attributes)
    }

    static func request(
        cpu: Int = 256, memory: Int = 512, ports: [HostPort] = [], constraints: [PlacementConstraint] = [],
        strategy: [PlacementStrategy] = [], group: String = "service:web"
    ) -> PlacementRequest {
        PlacementRequest(
            group: group, taskDefinitionArn: "web:1",
            requirements: TaskRequirements(cpu: cpu, memoryMiB: memory, hostPorts: ports),
            constraints: constraints, strategy: strategy, serviceName: "web")
    }

    static func task(
        _ id: String, on instance: String, group: String = "service:web", deployment: String = "d1",
        status: TaskStatus = .running, health: HealthStatus = .healthy, startedSecondsAgo: Double = 600,
        stopCode: StopCode? = nil
    ) -> TaskSnapshot {
        TaskSnapshot(
            taskArn: "arn:task/\(id)", containerInstanceArn: "arn:ci/\(instance)", group: group,
            taskDefinitionArn: "web:\(deployment)", deploymentId: deployment, lastStatus: status,
            desiredStatus: status == .stopped ? .stopped : .running, healthStatus: health,
            startedAt: now.addingTimeInterval(-startedSecondsAgo), stopCode: stopCode)
    }

    static func deployment(
        _ id: String, status: DeploymentStatus = .primary, rollout: RolloutState = .inProgress,
        cpu: Int = 256, memory: Int = 512, createdSecondsAgo: Double = 100
    ) -> DeploymentSnapshot {
        DeploymentSnapshot(
            id: id, status: status, taskDefinitionArn: "web:\(id)",
            requirements: TaskRequirements(cpu: cpu, memoryMiB: memory), rolloutState: rollout,
            createdAt: now.addingTimeInterval(-createdSecondsAgo))
    }

    static func service(
        desired: Int, deployments: [DeploymentSnapshot], minimum: Int = 100, maximum: Int = 200,
        breaker: DeploymentCircuitBreaker? = nil, strategy: [PlacementStrategy] = [],
        constraints: [PlacementConstraint] = [], grace: Int = 0
    ) -> ServiceSnapshot {
        ServiceSnapshot(
            serviceName: "web", desiredCount: desired, deployments: deployments,
            deploymentConfiguration: DeploymentConfiguration(
                minimumHealthyPercent: minimum, maximumPercent: maximum,
                deploymentCircuitBreaker: breaker),
            placementConstraints: constraints, placementStrategy: strategy, healthCheckGracePeriodSeconds: grace)
    }
}
