import FlotillaTestKit
import Foundation
import TaskDefinitions
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Issue 6 on real tasks: the control plane's embedded balancer in front of service web, whose replicas run on
/// three agents in their own network namespaces.
@Suite("E2E: the embedded balancer in front of a service", .enabled(if: getuid() == 0), .serialized, .timeLimit(.minutes(8)))
struct E2EBalancerTests {
    /// Creates load balancer `web` on a free loopback port (HTTP health check of `/` every second) and service web
    /// behind it; returns the listener's URL once every replica is a target.
    func webBehindBalancer(_ cluster: E2ECluster, replicas: Int) async throws -> String {
        let port = try freePort(on: "127.0.0.1")
        try await cluster.controlPlane.call("FlotillaV1.CreateLoadBalancer", [
            "loadBalancerName": "web", "listenerPort": port, "listenerAddress": "127.0.0.1", "algorithm": "round-robin",
            "healthCheck": ["protocol": "HTTP", "path": "/", "intervalSeconds": 1, "timeoutSeconds": 1,
                            "healthyThreshold": 1, "unhealthyThreshold": 1],
            "deregistrationDelaySeconds": 1,
        ])
        try await cluster.createWebService(desiredCount: replicas, loadBalancer: "web")
        let tasks = try await cluster.waitForSteadyService(count: replicas)
        let bindings = Set(tasks.compactMap { task in
            task.hostPort(containerPort: 80).flatMap { port in cluster.container(of: task).map { "\($0.agent.host.address):\(port)" } }
        })
        #expect(bindings.count == replicas)
        let targeted = try await eventually(within: .seconds(30)) {
            try await cluster.healthyTargets("web").isSuperset(of: bindings) ? true : nil
        }
        #expect(targeted == true, "the balancer's targets never covered the service's tasks:\n\(cluster.logTails())")
        return "http://127.0.0.1:\(port)/"
    }

    @Test func connectionsSpreadAcrossEveryReplica() async throws {
        try await withE2ECluster { cluster in
            // Given web (6 replicas, each serving its own page) behind balancer web
            let url = try await webBehindBalancer(cluster, replicas: 6)
            // When 60 requests go to the listener, one connection each
            var pages: [String: Int] = [:]
            var failed = 0
            for _ in 0..<60 {
                if let page = await httpGet(url, timeout: 5) { pages[page, default: 0] += 1 } else { failed += 1 }
            }
            // Then none fails and every replica served some
            #expect(failed == 0)
            #expect(pages.count == 6, "pages served: \(pages)")
        }
    }

    @Test func killedReplicaGetsNoNewConnectionOnceItsCheckFails() async throws {
        try await withE2ECluster { cluster in
            // Given web (3 replicas) behind balancer web
            let url = try await webBehindBalancer(cluster, replicas: 3)
            let tasks = try await cluster.healthyTasks()
            let victim = try #require(cluster.container(of: tasks[0]))
            let victimPage = try #require(await cluster.page(of: tasks[0]))
            let victimTarget = "\(victim.agent.host.address):\(try #require(tasks[0].hostPort(containerPort: 80)))"
            // When that replica's process is killed
            kill(try #require(victim.container.commandPID), SIGKILL)
            // Then the balancer drops its target
            let dropped = try await eventually(within: .seconds(30)) {
                try await cluster.healthyTargets("web").contains(victimTarget) ? nil : true
            }
            #expect(dropped == true, "the killed replica stayed a healthy target:\n\(cluster.logTails())")
            // And afterwards every request succeeds, none served by the killed replica
            for _ in 0..<30 {
                let page = await httpGet(url, timeout: 5)
                #expect(page != nil)
                #expect(page != victimPage)
            }
            // And the service replaces the task behind the balancer
            try await cluster.waitForSteadyService(count: 3)
        }
    }
}

extension E2ECluster {
    /// `host:port` of the targets of balancer `name` that DescribeLoadBalancers shows as healthy.
    func healthyTargets(_ name: String) async throws -> Set<String> {
        let answer = try await controlPlane.call("FlotillaV1.DescribeLoadBalancers", ["names": [name]])
        let targets = answer["loadBalancers"]?[0]?["targets"]?.arrayValue ?? []
        return Set(targets.compactMap { target -> String? in
            guard target["targetHealth"]?["state"]?.stringValue == "healthy", let host = target["host"]?.stringValue,
                  let port = target["port"]?.intValue else { return nil }
            return "\(host):\(port)"
        })
    }
}
