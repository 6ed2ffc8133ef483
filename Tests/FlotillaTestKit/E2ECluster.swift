import FlotillaClient
public import Foundation
public import TaskDefinitions
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A whole local deployment on real processes: a `NetnsLab`, the control plane on its bridge address, and one
/// `ecs-agent` per `NetnsHost`, each host with the busybox image imported; the cluster is created and every agent
/// joins it with the cluster's join token.
public final class E2ECluster: Sendable {
    public let lab: NetnsLab
    public let controlPlane: ControlPlaneProcess
    public let agents: [AgentProcess]
    public let cluster: String
    /// The run's scratch directory (data dirs, logs, the image archive).
    public let directory: String

    /// Builds everything; on failure removes what it built and rethrows.
    public init(
        hosts: Int, cluster: String = "e2e", agentGracePeriod: String = "30s",
        controlPlaneArguments: [String] = [], binaryDirectory: String = HostCommand.debugBinaries
    ) async throws {
        lab = try NetnsLab()
        self.cluster = cluster
        directory =
            FileManager.default.temporaryDirectory.appendingPathComponent(
                "fl-e2e-\(lab.run)-\(UUID().uuidString.prefix(8))"
            ).path
        var built: [AgentProcess] = []
        var plane: ControlPlaneProcess?
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let controlPlane = try await ControlPlaneProcess(
                address: lab.gatewayAddress, dataDirectory: URL(fileURLWithPath: directory + "/control-plane"),
                arguments: ["--agent-grace-period", agentGracePeriod] + controlPlaneArguments, logLevel: "info",
                binaryDirectory: binaryDirectory)
            plane = controlPlane
            try await controlPlane.ecs("CreateCluster", ["clusterName": cluster])
            let token = try await controlPlane.joinToken(cluster: cluster)
            let archive = directory + "/busybox.tar"
            try HostCommand.check(["\(binaryDirectory)/ecs-agent", "runtime", "make-busybox-image", archive])
            for index in 1...hosts {
                let host = try lab.addHost(index)
                let agent = try AgentProcess(
                    host: host, endpoint: controlPlane.endpoint, cluster: cluster, joinToken: token,
                    dataDirectory: "\(directory)/agent-\(index)", binaryDirectory: binaryDirectory)
                built.append(agent)
                try agent.importImage(archive)
                try agent.start()
            }
        } catch {
            for agent in built { agent.destroy() }
            plane?.daemon.kill9()
            lab.tearDown()
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
        controlPlane = plane!
        agents = built
    }

    /// Runs `body` on a fresh cluster and tears it down afterwards, also when `body` throws.
    public static func with<Result>(
        hosts: Int, agentGracePeriod: String = "30s", controlPlaneArguments: [String] = [],
        _ body: (E2ECluster) async throws -> Result
    ) async throws -> Result {
        let cluster = try await E2ECluster(
            hosts: hosts, agentGracePeriod: agentGracePeriod,
            controlPlaneArguments: controlPlaneArguments)
        do {
            let result = try await body(cluster)
            cluster.tearDown()
            return result
        } catch {
            cluster.tearDown()
            throw error
        }
    }

    /// Stops every agent and the control plane, removes every container, cgroup, namespace, the bridge and the files.
    /// Set FLOTILLA_E2E_KEEP=1 to keep the logs (the path is printed).
    public func tearDown() {
        for agent in agents { agent.daemon.kill9() }
        controlPlane.daemon.kill9()
        let keep = ProcessInfo.processInfo.environment["FLOTILLA_E2E_KEEP"] == "1"
        if keep { print("e2e: logs kept in \(directory)") }
        for agent in agents { agent.destroy(keepingLogs: keep) }
        lab.tearDown()
        if !keep { try? FileManager.default.removeItem(atPath: directory) }
    }

    /// The logs of every process, for a failure message.
    public func logTails(lines: Int = 30) -> String {
        (["== control plane\n" + controlPlane.daemon.logTail(lines: lines)]
            + agents.map { "== agent \($0.host.name)\n" + $0.daemon.logTail(lines: lines) }).joined(separator: "\n")
    }

    // MARK: - ECS operations the tests use

    @discardableResult
    public func ecs(_ operation: String, _ body: [String: Any] = [:]) async throws -> JSONValue {
        var body = body
        if body["cluster"] == nil { body["cluster"] = cluster }
        return try await controlPlane.ecs(operation, body)
    }

    /// Registers a task definition file of `examples/taskdefs/` (optionally changed by `edit`); returns family:revision.
    @discardableResult
    public func registerExample(_ file: String, edit: (inout [String: Any]) -> Void = { _ in }) async throws -> String {
        let url = ControlPlaneProcess.repositoryRoot.appendingPathComponent("examples/taskdefs/\(file)")
        var definition = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        edit(&definition)
        let answer = try await controlPlane.ecs("RegisterTaskDefinition", definition)
        let family = answer["taskDefinition"]?["family"]?.stringValue ?? ""
        let revision = answer["taskDefinition"]?["revision"]?.intValue ?? 0
        return "\(family):\(revision)"
    }

    /// Every task of the cluster (ListTasks by desired status, then DescribeTasks), optionally of one service.
    public func tasks(service: String? = nil, desiredStatus: String = "RUNNING") async throws -> [JSONValue] {
        var arns: [String] = []
        var nextToken: String?
        repeat {
            var request: [String: Any] = ["desiredStatus": desiredStatus, "maxResults": 100]
            if let service { request["serviceName"] = service }
            if let nextToken { request["nextToken"] = nextToken }
            let page = try await ecs("ListTasks", request)
            arns += page["taskArns"]?.arrayValue?.compactMap(\.stringValue) ?? []
            nextToken = page["nextToken"]?.stringValue
        } while nextToken != nil && arns.count < 10_000
        var tasks: [JSONValue] = []
        for start in stride(from: 0, to: arns.count, by: 100) {
            let answer = try await ecs("DescribeTasks", ["tasks": Array(arns[start..<min(start + 100, arns.count)])])
            tasks += answer["tasks"]?.arrayValue ?? []
        }
        return tasks
    }

    /// The service as DescribeServices shows it.
    public func service(_ name: String) async throws -> JSONValue {
        let answer = try await ecs("DescribeServices", ["services": [name]])
        guard let service = answer["services"]?[0] else {
            throw ClusterHarnessError.unexpected("no service \(name): \(answer)")
        }
        return service
    }

    /// The container instances of the cluster (DescribeContainerInstances of every ListContainerInstances ARN).
    public func containerInstances() async throws -> [JSONValue] {
        let arns =
            try await ecs("ListContainerInstances")["containerInstanceArns"]?.arrayValue?.compactMap(\.stringValue)
            ?? []
        guard !arns.isEmpty else { return [] }
        return try await ecs("DescribeContainerInstances", ["containerInstances": arns])["containerInstances"]?
            .arrayValue ?? []
    }

    /// The agent whose container instance is `containerInstanceArn`: agents register with availability zone
    /// `zone-<host index>`, shown in the instance's `ecs.availability-zone` attribute.
    public func agent(ofInstance containerInstanceArn: String, in instances: [JSONValue]) -> AgentProcess? {
        guard
            let instance = instances.first(where: { $0["containerInstanceArn"]?.stringValue == containerInstanceArn }),
            let zone = instance["attributes"]?.arrayValue?
                .first(where: { $0["name"]?.stringValue == "ecs.availability-zone" })?["value"]?.stringValue
        else {
            return nil
        }
        return agents.first { "zone-\($0.host.index)" == zone }
    }

    /// The agent running `task` and its runtime container, found by the task id in the container's name.
    public func container(of task: JSONValue) -> (agent: AgentProcess, container: RuntimeContainer)? {
        for agent in agents {
            if let container = agent.runningContainers().first(where: { $0.belongs(toTask: task.taskArn) }) {
                return (agent, container)
            }
        }
        return nil
    }
}

// MARK: - Reading tasks

extension JSONValue {
    /// A task's ARN.
    public var taskArn: String { self["taskArn"]?.stringValue ?? "" }
    public var lastStatus: String { self["lastStatus"]?.stringValue ?? "" }
    public var healthStatus: String { self["healthStatus"]?.stringValue ?? "UNKNOWN" }
    /// Host ports of the first container's network bindings for `containerPort`.
    public func hostPort(containerPort: Int) -> Int? {
        for container in self["containers"]?.arrayValue ?? [] {
            for binding in container["networkBindings"]?.arrayValue ?? []
            where binding["containerPort"]?.intValue == containerPort {
                return binding["hostPort"]?.intValue
            }
        }
        return nil
    }
}

/// One HTTP GET with a short timeout; the body when it answered 200, else nil. For addresses of the run only.
public func httpGet(_ url: String, timeout: TimeInterval = 2) async -> String? {
    let request = URLRequest(url: URL(string: url)!)
    guard let response = try? await TestPKI.transport.send(request, timeout: .milliseconds(Int64(timeout * 1000))),
        response.statusCode == 200
    else { return nil }
    return String(decoding: response.body, as: UTF8.self)
}

public enum ClusterHarnessError: Error, CustomStringConvertible {
    /// A process did not become ready; the tail of its log.
    case notReady(String, String)
    case unexpected(String)

    public var description: String {
        switch self {
        case .notReady(let what, let log): "\(what) did not become ready; its log ends with:\n\(log)"
        case .unexpected(let message): message
        }
    }
}
