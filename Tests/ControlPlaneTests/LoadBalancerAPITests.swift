@testable import ControlPlane
import ECSProtocol
import FlotillaTestKit
import Foundation
import HummingbirdTesting
import LoadBalancer
import TaskDefinitions
import Testing

/// `FlotillaV1.CreateLoadBalancer`, `DescribeLoadBalancers`, `DeleteLoadBalancer` and services' `loadBalancers`,
/// with no balancer running (the embedded service is off: status EXTERNAL).
@Suite("Load balancers: API", .timeLimit(.minutes(10)))
struct LoadBalancerAPITests {
    @Test("ReportTargetHealth stores an outside balancer's verdicts; bad reports are refused naming the field, whole")
    func reportTargetHealth() async throws {
        try await BalancingControlPlane.run(embedded: false) { client, harness in
            try await client.flotillaOK("CreateLoadBalancer", #"{"loadBalancerName": "web", "listenerPort": 8000}"#)
            // When ecs-lb reports two verdicts
            try await client.flotillaOK(
                "ReportTargetHealth",
                """
                {"loadBalancerName": "web", "targets": [{"id": "arn:task/a", "state": "healthy"}, {"id": "arn:task/b", "state": "initial"}]}
                """)
            // Then the store holds them
            #expect(
                try await harness.store.read { db in try db.targetHealth(reportedBy: "web") }
                    == ["arn:task/a": .healthy, "arn:task/b": .initial])
            // When a report has a state ELB does not know, then it is refused naming the entry, and nothing changes
            let bad = try await client.flotilla(
                "ReportTargetHealth",
                """
                {"loadBalancerName": "web", "targets": [{"id": "arn:task/a", "state": "unhealthy"}, {"id": "arn:task/b", "state": "sick"}]}
                """)
            #expect(bad.errorType == "InvalidParameterException")
            #expect(bad.message.hasPrefix("targets[1].state:"))
            #expect(
                try await harness.store.read { db in try db.targetHealth(reportedBy: "web") }
                    == ["arn:task/a": .healthy, "arn:task/b": .initial])
            // When the next report leaves a target out, then its verdict is forgotten
            try await client.flotillaOK(
                "ReportTargetHealth",
                #"{"loadBalancerName": "web", "targets": [{"id": "arn:task/a", "state": "unhealthy"}]}"#)
            #expect(
                try await harness.store.read { db in try db.targetHealth(reportedBy: "web") } == [
                    "arn:task/a": .unhealthy
                ])
            // And a report for a balancer that does not exist is refused as ECS refuses a missing resource
            let missing = try await client.flotilla(
                "ReportTargetHealth", #"{"loadBalancerName": "nope", "targets": []}"#)
            #expect(missing.errorType == "LoadBalancerNotFoundException")
        }
    }

    @Test("Create fills ELB-like defaults, Describe shows it, Delete removes it")
    func createDescribeDelete() async throws {
        try await BalancingControlPlane.run(embedded: false) { client, _ in
            // When a balancer is created with only a name and a port
            let created = try await client.flotillaOK(
                "CreateLoadBalancer", #"{"loadBalancerName": "web", "listenerPort": 8000}"#)
            // Then it answers the definition with the defaults filled in
            let balancer = try #require(created["loadBalancer"])
            #expect(balancer["loadBalancerName"]?.stringValue == "web")
            #expect(balancer["loadBalancerArn"]?.stringValue == "arn:aws:ecs:us-east-1:000000000000:loadbalancer/web")
            #expect(balancer["listenerAddress"]?.stringValue == "0.0.0.0")
            #expect(balancer["listenerPort"]?.intValue == 8000)
            #expect(balancer["algorithm"]?.stringValue == "round-robin")
            #expect(balancer["healthCheck"]?["protocol"]?.stringValue == "TCP")
            #expect(balancer["healthCheck"]?["intervalSeconds"]?.intValue == 10)
            #expect(balancer["healthCheck"]?["healthyThreshold"]?.intValue == 3)
            #expect(balancer["healthCheck"]?["unhealthyThreshold"]?.intValue == 2)
            #expect(balancer["deregistrationDelaySeconds"]?.intValue == 300)

            // When a second one with an HTTP check is created and both are described
            try await client.flotillaOK(
                "CreateLoadBalancer",
                """
                {"loadBalancerName": "api", "listenerPort": 8001, "algorithm": "least-connections",
                 "healthCheck": {"path": "/healthz", "intervalSeconds": 5, "timeoutSeconds": 2}}
                """)
            let all = try await client.flotillaOK("DescribeLoadBalancers")
            // Then both are listed by name, with no targets, served by no embedded balancer here
            let names = all["loadBalancers"]?.arrayValue?.compactMap { $0["loadBalancerName"]?.stringValue }
            #expect(names == ["api", "web"])
            let api = try await client.describeBalancer("api")
            #expect(api["healthCheck"]?["protocol"]?.stringValue == "HTTP")
            #expect(api["healthCheck"]?["path"]?.stringValue == "/healthz")
            #expect(api["algorithm"]?.stringValue == "least-connections")
            #expect(api["status"]?.stringValue == "EXTERNAL")
            #expect(api["targets"]?.arrayValue?.isEmpty == true)

            // When one is deleted
            let deleted = try await client.flotillaOK("DeleteLoadBalancer", #"{"loadBalancerName": "web"}"#)
            #expect(deleted["loadBalancer"]?["status"]?.stringValue == "DELETED")
            // Then describing it reports it missing, and deleting it again is an error naming the field
            let after = try await client.flotillaOK("DescribeLoadBalancers", #"{"names": ["web", "api"]}"#)
            #expect(after["loadBalancers"]?.arrayValue?.count == 1)
            #expect(after["failures"]?[0]?["arn"]?.stringValue == "web")
            #expect(after["failures"]?[0]?["reason"]?.stringValue == "MISSING")
            let again = try await client.flotilla("DeleteLoadBalancer", #"{"loadBalancerName": "web"}"#)
            #expect(again.errorType == "LoadBalancerNotFoundException")
            #expect(again.message.hasPrefix("loadBalancerName:"))
        }
    }

    @Test("A stored definition runs with the library configuration it describes")
    func definitionConfiguration() throws {
        // Given a least-connections balancer with an HTTP check
        let request = CreateLoadBalancerRequest(
            loadBalancerName: "api", listenerPort: 8001, listenerAddress: "::1", algorithm: "least-connections",
            healthCheck: LoadBalancerHealthCheck(
                protocol: nil, path: "/healthz", intervalSeconds: 0.5, timeoutSeconds: nil,
                healthyThreshold: 2, unhealthyThreshold: 4),
            deregistrationDelaySeconds: 7)
        // When it becomes a definition and a configuration
        let definition = try LoadBalancerRules.definition(from: request, arn: "arn", now: testNow)
        let configuration = LoadBalancerConfiguration(definition)
        // Then every setting carries over
        #expect(configuration.name == "api")
        #expect(configuration.listenerHost == "::1")
        #expect(configuration.listenerPort == 8001)
        #expect(configuration.algorithm == .leastOutstandingConnections)
        #expect(configuration.healthCheck.kind == .http(path: "/healthz"))
        #expect(configuration.healthCheck.interval == .milliseconds(500))
        #expect(configuration.healthCheck.timeout == .milliseconds(500))
        #expect(configuration.healthCheck.healthyThreshold == 2)
        #expect(configuration.healthCheck.unhealthyThreshold == 4)
        #expect(configuration.deregistrationDelay == .seconds(7))
        #expect(throws: Never.self) { try configuration.validate() }
    }

    @Test(
        "Bad CreateLoadBalancer requests are refused with an error naming the field",
        arguments: [
            (#"{"loadBalancerName": "web", "listenerPort": 0}"#, "listenerPort: must be between 1 and 65535, got 0"),
            (
                #"{"loadBalancerName": "web", "listenerPort": 70000}"#,
                "listenerPort: must be between 1 and 65535, got 70000"
            ),
            (#"{"loadBalancerName": "-web", "listenerPort": 8000}"#, "loadBalancerName: must be 1 to 32"),
            (
                #"{"loadBalancerName": "web", "listenerPort": 8000, "listenerAddress": "example.com"}"#,
                "listenerAddress: must be an IPv4 or IPv6 address"
            ),
            (
                #"{"loadBalancerName": "web", "listenerPort": 8000, "algorithm": "fastest"}"#,
                "algorithm: must be round-robin or least-connections"
            ),
            (
                #"{"loadBalancerName": "web", "listenerPort": 8000, "healthCheck": {"protocol": "UDP"}}"#,
                "healthCheck.protocol: must be TCP or HTTP"
            ),
            (
                #"{"loadBalancerName": "web", "listenerPort": 8000, "healthCheck": {"path": "health"}}"#,
                "healthCheck.path: must start with '/'"
            ),
            (
                #"{"loadBalancerName": "web", "listenerPort": 8000, "healthCheck": {"protocol": "TCP", "path": "/"}}"#,
                "healthCheck.path: only an HTTP health check takes a path"
            ),
            (
                #"{"loadBalancerName": "web", "listenerPort": 8000, "healthCheck": {"intervalSeconds": 5, "timeoutSeconds": 6}}"#,
                "healthCheck.timeoutSeconds: must not exceed intervalSeconds"
            ),
            (
                #"{"loadBalancerName": "web", "listenerPort": 8000, "healthCheck": {"intervalSeconds": 0}}"#,
                "healthCheck.intervalSeconds: must be between 0.1 and 300"
            ),
            (
                #"{"loadBalancerName": "web", "listenerPort": 8000, "healthCheck": {"healthyThreshold": 0}}"#,
                "healthCheck.healthyThreshold: must be between 1 and 10, got 0"
            ),
            (
                #"{"loadBalancerName": "web", "listenerPort": 8000, "healthCheck": {"unhealthyThreshold": 11}}"#,
                "healthCheck.unhealthyThreshold: must be between 1 and 10, got 11"
            ),
            (
                #"{"loadBalancerName": "web", "listenerPort": 8000, "deregistrationDelaySeconds": -1}"#,
                "deregistrationDelaySeconds: must be between 0 and 3600"
            ),
            (#"{"loadBalancerName": "web"}"#, "listenerPort: is required"),
            (#"{"loadBalancerName": "web", "listenerPort": "80"}"#, "listenerPort: expected an integer"),
        ])
    func badCreate(_ body: String, _ message: String) async throws {
        try await BalancingControlPlane.run(embedded: false) { client, _ in
            // When
            let reply = try await client.flotilla("CreateLoadBalancer", body)
            // Then it is a client error naming the field, and nothing was stored
            #expect(reply.status == 400)
            #expect(reply.message.contains(message), "\(reply.message)")
            let all = try await client.flotillaOK("DescribeLoadBalancers")
            #expect(all["loadBalancers"]?.arrayValue?.isEmpty == true)
        }
    }

    @Test("Every bad field is reported in one error")
    func everyIssueReported() async throws {
        try await BalancingControlPlane.run(embedded: false) { client, _ in
            let reply = try await client.flotilla(
                "CreateLoadBalancer",
                """
                {"loadBalancerName": "web", "listenerPort": 0, "algorithm": "x", "healthCheck": {"healthyThreshold": 20}}
                """)
            #expect(reply.errorType == "InvalidParameterException")
            #expect(reply.message.contains("listenerPort:"))
            #expect(reply.message.contains("algorithm:"))
            #expect(reply.message.contains("healthCheck.healthyThreshold:"))
        }
    }

    @Test("A duplicate name or a listener port another balancer holds is refused")
    func duplicates() async throws {
        try await BalancingControlPlane.run(embedded: false) { client, _ in
            try await client.flotillaOK("CreateLoadBalancer", #"{"loadBalancerName": "web", "listenerPort": 8000}"#)
            // When the same name comes again
            let sameName = try await client.flotilla(
                "CreateLoadBalancer", #"{"loadBalancerName": "web", "listenerPort": 8001}"#)
            #expect(sameName.errorType == "DuplicateLoadBalancerNameException")
            #expect(sameName.message.contains("loadBalancerName: a load balancer named web already exists"))
            // When another name asks for the same port
            let samePort = try await client.flotilla(
                "CreateLoadBalancer", #"{"loadBalancerName": "api", "listenerPort": 8000}"#)
            #expect(samePort.errorType == "InvalidParameterException")
            #expect(samePort.message.contains("listenerPort: 8000 is already the listener port of load balancer web"))
        }
    }

    @Test(
        "CreateService checks its loadBalancers against the store and the task definition",
        arguments: [
            (
                #"{"loadBalancerName": "nope", "containerName": "web", "containerPort": 80}"#,
                "loadBalancers[0].loadBalancerName: load balancer nope does not exist"
            ),
            (
                #"{"loadBalancerName": "web", "containerName": "db", "containerPort": 80}"#,
                "loadBalancers[0].containerName: the container db does not exist in the task definition"
            ),
            (
                #"{"loadBalancerName": "web", "containerName": "web", "containerPort": 8080}"#,
                "loadBalancers[0].containerPort: the container web did not have a tcp container port 8080 defined"
            ),
            (
                #"{"loadBalancerName": "web", "containerName": "web"}"#,
                "loadBalancers[0].containerPort: must be an integer"
            ),
            (#"{"containerName": "web", "containerPort": 80}"#, "loadBalancers[0].loadBalancerName: is required"),
            (
                #"{"targetGroupArn": "arn:aws:elasticloadbalancing:x", "containerName": "web", "containerPort": 80}"#,
                "loadBalancers[0].targetGroupArn:"
            ),
        ])
    func serviceAttachmentErrors(_ entry: String, _ message: String) async throws {
        try await BalancingControlPlane.run(embedded: false) { client, _ in
            try await client.createCluster()
            _ = try await client.registerWeb()
            try await client.flotillaOK("CreateLoadBalancer", #"{"loadBalancerName": "web", "listenerPort": 8000}"#)
            // When
            let reply = try await client.ecs(
                "CreateService",
                """
                {"serviceName": "web", "taskDefinition": "web", "desiredCount": 1, "loadBalancers": [\(entry)]}
                """)
            // Then
            #expect(reply.errorType == "InvalidParameterException")
            #expect(reply.message.contains(message), "\(reply.message)")
            let services = try await client.ok("ListServices")
            #expect(services["serviceArns"]?.arrayValue?.isEmpty == true)
        }
    }

    @Test("A balancer a service uses cannot be deleted; UpdateService checks its loadBalancers too")
    func deleteWhileUsed() async throws {
        try await BalancingControlPlane.run(embedded: false) { client, _ in
            // Given service web attached to balancer web
            _ = try await client.balancedService(port: 8000)
            let describe = try await client.describeBalancer("web")
            #expect(describe["services"]?[0]?["serviceName"]?.stringValue == "web")
            #expect(describe["services"]?[0]?["containerPort"]?.intValue == 80)
            // When the balancer is deleted
            let refused = try await client.flotilla("DeleteLoadBalancer", #"{"loadBalancerName": "web"}"#)
            // Then it is refused, naming the service
            #expect(refused.errorType == "ResourceInUseException")
            #expect(refused.message.contains("service web of cluster default"))
            // When UpdateService names a container port the task definition lacks
            let badUpdate = try await client.ecs(
                "UpdateService",
                """
                {"service": "web", "loadBalancers": [{"loadBalancerName": "web", "containerName": "web", "containerPort": 81}]}
                """)
            #expect(badUpdate.errorType == "InvalidParameterException")
            #expect(badUpdate.message.contains("loadBalancers[0].containerPort"))
            // When the service drops the balancer, it can be deleted
            try await client.ok("UpdateService", #"{"service": "web", "loadBalancers": []}"#)
            try await client.flotillaOK("DeleteLoadBalancer", #"{"loadBalancerName": "web"}"#)
        }
    }

    @Test("A deleted (INACTIVE) service no longer holds its balancer")
    func deletedServiceReleases() async throws {
        try await BalancingControlPlane.run(embedded: false) { client, _ in
            _ = try await client.balancedService(port: 8000)
            try await client.ok("DeleteService", #"{"service": "web"}"#)
            try await client.flotillaOK("DeleteLoadBalancer", #"{"loadBalancerName": "web"}"#)
        }
    }
}
