import ECSVocabulary
import Foundation
import ECSProtocol
import LoadBalancer
import Logging

// MARK: - Requests and responses

struct DescribeLoadBalancersResponse: Encodable, Sendable {
    var loadBalancers: [LoadBalancerDescription]
    var failures: [Failure]
}

struct ReportTargetHealthResponse: Encodable, Sendable {}

struct LoadBalancerResponse: Encodable, Sendable {
    var loadBalancer: LoadBalancerDescription
}

extension ECSError {
    static func loadBalancerNotFound(_ name: String) -> ECSError {
        ECSError("LoadBalancerNotFoundException", "loadBalancerName: load balancer \(name.prefix(64)) does not exist.")
    }
}

// MARK: - Operations

extension ECSAPI {
    /// `FlotillaV1.CreateLoadBalancer`, `DescribeLoadBalancers`, `DeleteLoadBalancer`: named balancers that services
    /// attach to with ECS's `loadBalancers` (ELB load balancer plus target group in one); `ReportTargetHealth`: the
    /// verdicts of a balancer run by `ecs-lb`, which the reconciler counts as it counts the embedded balancers'.
    static let loadBalancerOperations: [String: OperationHandler] = [
        "CreateLoadBalancer": OperationHandler { (request: CreateLoadBalancerRequest, context) in
            let name = ARNs.loadBalancerName(request.loadBalancerName)
            let definition = try LoadBalancerRules.definition(
                from: request, arn: context.arn("loadbalancer", name), now: context.now)
            let board = context.loadBalancers
            let answer = try await context.store.write { db in
                if try db.loadBalancerDefinition(named: definition.loadBalancerName) != nil {
                    throw ECSError(
                        "DuplicateLoadBalancerNameException",
                        "loadBalancerName: a load balancer named \(definition.loadBalancerName) already exists.")
                }
                if let holder = try db.loadBalancerName(listeningOn: definition.listenerPort) {
                    throw ECSError.invalidParameter(
                        "listenerPort: \(definition.listenerPort) is already the listener port of load balancer \(holder)."
                    )
                }
                try db.insertLoadBalancer(definition)
                return LoadBalancerResponse(
                    loadBalancer: LoadBalancerDescription(definition, attachments: [], desired: [], board: board))
            }
            context.logger.info(
                "load balancer created",
                metadata: [
                    "lb.name": "\(definition.loadBalancerName)", "listener.port": "\(definition.listenerPort)",
                ])
            return answer
        },
        "DescribeLoadBalancers": OperationHandler { (request: DescribeLoadBalancersRequest, context) in
            let board = context.loadBalancers
            return try await context.store.read { db in
                var response = DescribeLoadBalancersResponse(loadBalancers: [], failures: [])
                var definitions: [LoadBalancerDefinition] = []
                if let names = request.names {
                    for identifier in names {
                        if let definition = try db.loadBalancerDefinition(named: ARNs.loadBalancerName(identifier)) {
                            definitions.append(definition)
                        } else {
                            response.failures.append(Failure(arn: identifier, reason: "MISSING"))
                        }
                    }
                } else {
                    definitions = try db.loadBalancerDefinitions()
                }
                for definition in definitions {
                    let attachments = try db.loadBalancerAttachments(named: definition.loadBalancerName)
                    response.loadBalancers.append(
                        LoadBalancerDescription(
                            definition, attachments: attachments, desired: try db.desiredTargets(of: attachments),
                            board: board,
                            reported: try db.targetHealth(reportedBy: definition.loadBalancerName)))
                }
                return response
            }
        },
        "ReportTargetHealth": OperationHandler { (request: ReportTargetHealthRequest, context) in
            let name = ARNs.loadBalancerName(request.loadBalancerName)
            if request.targets.count > ReportTargetHealthRules.maximumTargets {
                throw ECSError.invalidParameter(
                    "targets: give at most \(ReportTargetHealthRules.maximumTargets) targets, got \(request.targets.count)."
                )
            }
            var states: [String: TargetHealth] = [:]
            for (index, target) in request.targets.enumerated() {
                guard let state = TargetHealth(rawValue: target.state) else {
                    throw ECSError.invalidParameter(
                        "targets[\(index)].state: must be initial, healthy or unhealthy, got '\(target.state.prefix(32))'."
                    )
                }
                states[target.id] = state
            }
            let now = context.now
            try await context.store.write { [states] db in
                guard try db.loadBalancerDefinition(named: name) != nil else {
                    throw ECSError.loadBalancerNotFound(name)
                }
                try db.replaceTargetHealth(of: name, with: states, now: now)
            }
            return ReportTargetHealthResponse()
        },
        "DeleteLoadBalancer": OperationHandler { (request: DeleteLoadBalancerRequest, context) in
            let name = ARNs.loadBalancerName(request.loadBalancerName)
            let answer = try await context.store.write { db in
                guard let definition = try db.loadBalancerDefinition(named: name) else {
                    throw ECSError.loadBalancerNotFound(name)
                }
                let users = try db.loadBalancerAttachments(named: name)
                if let user = users.first {
                    throw ECSError(
                        "ResourceInUseException",
                        """
                        loadBalancerName: load balancer \(name) is used by service \(user.serviceName) of cluster \
                        \(user.cluster)\(users.count > 1 ? " and \(users.count - 1) more" : ""); remove it from the service's \
                        loadBalancers or delete the service first.
                        """)
                }
                try db.deleteLoadBalancer(named: name)
                return LoadBalancerResponse(loadBalancer: LoadBalancerDescription(definition: definition, status: .deleted))
            }
            context.logger.info("load balancer deleted", metadata: ["lb.name": "\(name)"])
            return answer
        },
    ]
}

enum ReportTargetHealthRules {
    /// The most targets one report may name: far above what one balancer serves.
    static let maximumTargets = 10_000
}

enum ARNs {
    /// The name in a balancer identifier: the name itself, or the last component of its ARN.
    static func loadBalancerName(_ identifier: String) -> String {
        guard identifier.hasPrefix("arn:"), let arn = ARN(identifier), arn.kind == "loadbalancer" else {
            return identifier
        }
        return arn.resource
    }
}
