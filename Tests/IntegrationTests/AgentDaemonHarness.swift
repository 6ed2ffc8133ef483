import FlotillaTestKit
import ECSVocabulary
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import TaskDefinitions
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// One `ecs-agent` daemon process against a control plane, on the host's network namespace with a data directory,
/// bridge, subnet, nftables table and listen port of its own, so parallel suites never collide.
/// stderr (its log) goes to a file the test can read.
final class AgentDaemonProcess: Sendable {
    let root: String
    let endpoint: String
    let joinToken: String
    let listenPort: Int
    let daemon: DaemonProcess
    var dataDirectory: String { root + "/data" }

    static let bridge = "fldmn0"
    static let subnet = "172.31.222.0/24"
    static let table = "fldmn"

    init(endpoint: String, joinToken: String) throws {
        root =
            FileManager.default.temporaryDirectory.appendingPathComponent(
                "flotilla-agentd-\(UUID().uuidString.prefix(8))"
            ).path
        try FileManager.default.createDirectory(atPath: root + "/data", withIntermediateDirectories: true)
        self.endpoint = endpoint
        self.joinToken = joinToken
        let listenPort = try freePort()
        self.listenPort = listenPort
        daemon = DaemonProcess(
            arguments: [ecsAgentBinary.path]
                + Self.arguments(endpoint: endpoint, listenPort: listenPort, dataDirectory: root + "/data"),
            environment: ProcessInfo.processInfo.environment.merging(["FLOTILLA_JOIN_TOKEN": joinToken]) { $1 },
            logFile: root + "/agent.log")
    }

    var runtimeOptions: [String] { Self.runtimeOptions(dataDirectory: dataDirectory) }

    static func runtimeOptions(dataDirectory: String) -> [String] {
        ["--data-dir", dataDirectory, "--bridge-name", bridge, "--subnet", subnet, "--nft-table-prefix", table]
    }

    /// Dynamic host ports of this suite's own: another suite's NetworkManager could DNAT the same default port. Below
    /// the kernel's ephemeral range (32768-60999), so no socket of another test can be given one of them.
    static let ephemeralPorts = "23500-23599"

    static func arguments(endpoint: String, listenPort: Int, dataDirectory: String) -> [String] {
        [
            "--endpoint", endpoint, "--cluster", "default",
            "--availability-zone", "az-test-1", "--attribute", "rack=r7", "--attribute", "disk=ssd",
            "--listen", "127.0.0.1:\(listenPort)", "--advertise-address", "127.0.0.1", "--cgroup-parent", "flotilla",
            "--poll-wait", "5", "--log-level", "debug", "--ephemeral-ports", ephemeralPorts,
        ]
            + runtimeOptions(dataDirectory: dataDirectory)
    }

    /// Imports flotilla/busybox:1 into the data directory with `ecs-agent runtime`.
    func importBusybox() async throws {
        let tarball = root + "/busybox.tar"
        let made = try await HostCommand.runToCompletion([
            ecsAgentBinary.path, "runtime", "make-busybox-image", tarball,
        ])
        #expect(made.status == 0, "\(made.stderr)")
        let imported = try await HostCommand.runToCompletion([
            ecsAgentBinary.path, "runtime", "import", tarball, "--data-dir", dataDirectory,
        ])
        #expect(imported.status == 0, "\(imported.stderr)")
    }

    /// Starts the daemon (appending to the log).
    func start() throws { try daemon.start() }

    func send(_ signal: Int32) { daemon.send(signal) }

    /// Waits (at most `bound`) for the process to exit; its status, or nil.
    func waitForExit(within bound: Duration = .seconds(30)) async -> Int32? { await daemon.waitForExit(within: bound) }

    var log: String { daemon.log }

    /// The agent process, while it runs.
    var pid: Int32? { daemon.pid }

    /// Waits (bounded: 30 s) until the log holds `text` `count` times; false at once when the daemon exited.
    func waitForLog(_ text: String, count: Int = 1) async throws -> Bool {
        await eventually { log.components(separatedBy: text).count - 1 >= count || !daemon.isRunning }
            && log.components(separatedBy: text).count - 1 >= count
    }

    /// The endpoint secret the agent keeps in its identity and registered (`agentToken`).
    var endpointSecret: String {
        get throws {
            let identity = try JSONDecoder().decode(
                JSONValue.self, from: Data(contentsOf: URL(fileURLWithPath: dataDirectory + "/agent/identity.json")))
            return identity["agentToken"]?.stringValue ?? ""
        }
    }

    /// A request to the agent endpoint on loopback, with `bearer` as its token when given.
    func endpoint(
        _ method: String, _ path: String, bearer: String? = nil,
        body: String? = nil
    ) async throws -> (status: Int, body: String) {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(listenPort)\(path)")!, timeoutInterval: 20)
        request.httpMethod = method
        if let bearer { request.setValue("Bearer \(bearer)", forHTTPHeaderField: "Authorization") }
        if let body {
            request.httpBody = Data(body.utf8)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }

    /// The runtime's containers as state.json records them: (name, status, pid).
    var containers: [(name: String, status: String, pid: Int32?)] {
        let directory = dataDirectory + "/containers"
        let ids = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return ids.compactMap { id in
            guard let data = FileManager.default.contents(atPath: "\(directory)/\(id)/state.json"),
                let state = try? JSONDecoder().decode(JSONValue.self, from: data)
            else { return nil }
            return (
                state["spec"]?["name"]?.stringValue ?? "", state["status"]?.stringValue ?? "",
                state["pid"]?.intValue.map(Int32.init)
            )
        }
    }

    /// Kills the daemon, force-removes every container it left, and takes away its bridge, table and directory.
    func cleanUp() async {
        daemon.kill9()
        if let ps = try? await HostCommand.runToCompletion([ecsAgentBinary.path, "runtime", "ps"] + runtimeOptions) {
            for line in ps.stdout.split(separator: "\n").dropFirst() {
                if let id = line.split(separator: " ").first {
                    _ = try? await HostCommand.runToCompletion(
                        [ecsAgentBinary.path, "runtime", "rm", "--force", String(id)] + runtimeOptions)
                }
            }
        }
        _ = try? await HostCommand.runToCompletion(["/usr/sbin/ip", "link", "delete", Self.bridge])
        _ = try? await HostCommand.runToCompletion(["/usr/sbin/nft", "delete", "table", "ip", Self.table])
        try? FileManager.default.removeItem(atPath: root)
    }
}

/// A control plane with the `default` cluster, and ECS calls on it that return JSON.
struct AgentDaemonControlPlane {
    let process: ControlPlaneProcess

    static func start(arguments: [String] = []) async throws -> AgentDaemonControlPlane {
        let process = try await ControlPlaneProcess(arguments: arguments)
        let plane = AgentDaemonControlPlane(process: process)
        _ = try await plane.ecs("CreateCluster", #"{"clusterName": "default"}"#)
        return plane
    }

    /// Runs `body`, then cleans up `agent` and stops this control plane, also when `body` throws.
    func run(_ agent: AgentDaemonProcess, _ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch {
            await agent.cleanUp()
            try await process.stop()
            throw error
        }
        await agent.cleanUp()
        try await process.stop()
    }

    /// An ECS call that must succeed; its answer.
    func ecs(_ operation: String, _ body: String = "{}") async throws -> JSONValue {
        let (status, data) = try await process.call(operation, body)
        let answer = try JSONDecoder().decode(JSONValue.self, from: data)
        #expect(status == 200, "\(operation): \(String(decoding: data, as: UTF8.self))")
        return answer
    }

    /// The cluster's join token (`FlotillaAgentV1.GetJoinToken`).
    func joinToken() async throws -> String {
        let (_, data) = try await process.post(TargetPrefix.agent.target("GetJoinToken"), #"{"cluster": "default"}"#)
        return try #require(try JSONDecoder().decode(JSONValue.self, from: data)["joinToken"]?.stringValue)
    }

    /// The one task's description.
    func task(_ arn: String) async throws -> JSONValue? {
        try await ecs("DescribeTasks", #"{"cluster": "default", "tasks": ["\#(arn)"]}"#)["tasks"]?[0]
    }

    /// Polls DescribeTasks (bounded: 60 s) until the task's lastStatus is `status`; its last description.
    func waitForTask(_ arn: String, lastStatus status: String) async throws -> JSONValue? {
        var last: JSONValue?
        _ = try await eventually(within: .seconds(60), every: .milliseconds(100)) {
            last = try await task(arn)
            return last?["lastStatus"]?.stringValue == status
        }
        return last
    }

    /// RunTask of `family` (count 1); the task ARN.
    func runTask(_ family: String) async throws -> String {
        let answer = try await ecs("RunTask", #"{"cluster": "default", "taskDefinition": "\#(family)"}"#)
        return try #require(answer["tasks"]?[0]?["taskArn"]?.stringValue, "RunTask: \(answer)")
    }
}

/// GET http://127.0.0.1:port/ (bounded: 10 s of tries); the body, or "".
func loopbackGet(port: Int) async -> String {
    await eventually(within: .seconds(10), every: .milliseconds(200)) { await httpGet("http://127.0.0.1:\(port)/") }
        ?? ""
}

/// Whether the process `pid` exists (and is not a zombie).
func processIsAlive(_ pid: Int32) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let close = stat.lastIndex(of: ")")
    else { return false }
    return !stat[stat.index(after: close)...].hasPrefix(" Z")
}
