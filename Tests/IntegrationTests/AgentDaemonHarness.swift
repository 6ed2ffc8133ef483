import FlotillaTestKit
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
final class AgentDaemonProcess: @unchecked Sendable {
    // @unchecked Sendable: `process` is replaced only by `start()`, which the test calls sequentially; Process is
    // thread-safe for signalling and waiting.
    let root: String
    let endpoint: String
    let joinToken: String
    let listenPort: Int
    var process: Process?
    var dataDirectory: String { root + "/data" }
    var logPath: String { root + "/agent.log" }

    static let bridge = "fldmn0"
    static let subnet = "172.31.222.0/24"
    static let table = "fldmn"

    init(endpoint: String, joinToken: String) throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("flotilla-agentd-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: root + "/data", withIntermediateDirectories: true)
        self.endpoint = endpoint
        self.joinToken = joinToken
        listenPort = try ControlPlaneProcess.freeLoopbackPort()
    }

    var runtimeOptions: [String] {
        ["--data-dir", dataDirectory, "--bridge-name", Self.bridge, "--subnet", Self.subnet,
         "--nft-table-prefix", Self.table]
    }

    /// Dynamic host ports of this suite's own: another suite's NetworkManager could DNAT the same default port. Below
    /// the kernel's ephemeral range (32768-60999), so no socket of another test can be given one of them.
    static let ephemeralPorts = "23500-23599"

    var arguments: [String] {
        ["--endpoint", endpoint, "--cluster", "default", "--join-token", joinToken,
         "--availability-zone", "az-test-1", "--attribute", "rack=r7", "--attribute", "disk=ssd",
         "--listen", "127.0.0.1:\(listenPort)", "--advertise-address", "127.0.0.1", "--cgroup-parent", "flotilla",
         "--poll-wait", "5", "--log-level", "debug", "--ephemeral-ports", Self.ephemeralPorts] + runtimeOptions
    }

    /// Imports flotilla/busybox:1 into the data directory with `ecs-agent runtime`.
    func importBusybox() async throws {
        let tarball = root + "/busybox.tar"
        let made = try await runProcess(ecsAgentBinary, ["runtime", "make-busybox-image", tarball])
        #expect(made.status == 0, "\(made.stderr)")
        let imported = try await runProcess(ecsAgentBinary, ["runtime", "import", tarball, "--data-dir", dataDirectory])
        #expect(imported.status == 0, "\(imported.stderr)")
    }

    /// Starts the daemon (appending to the log).
    func start() throws {
        if !FileManager.default.fileExists(atPath: logPath) {
            _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        }
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        log.seekToEndOfFile()
        let process = Process()
        process.executableURL = ecsAgentBinary
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        self.process = process
    }

    func send(_ signal: Int32) {
        if let process { kill(process.processIdentifier, signal) }
    }

    /// Waits (at most `seconds`, polling every 50 ms) for the process to exit; its status, or nil.
    func waitForExit(seconds: Int = 30) async throws -> Int32? {
        guard let process else { return nil }
        for _ in 0..<(seconds * 20) {
            if !process.isRunning { return process.terminationStatus }
            try await Task.sleep(for: .milliseconds(50))
        }
        return nil
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Waits (bounded: 600 × 50 ms) until the log holds `text` `count` times.
    func waitForLog(_ text: String, count: Int = 1) async throws -> Bool {
        for _ in 0..<600 {
            if log.components(separatedBy: text).count - 1 >= count { return true }
            if process?.isRunning == false { return false }
            try await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    /// A request to the agent endpoint on loopback; `authorized` sends the token the agent keeps in its identity.
    func endpoint(_ method: String, _ path: String, authorized: Bool = false,
                  body: String? = nil) async throws -> (status: Int, body: String) {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(listenPort)\(path)")!, timeoutInterval: 20)
        request.httpMethod = method
        if authorized {
            let identity = try JSONDecoder().decode(JSONValue.self, from: Data(contentsOf: URL(fileURLWithPath: dataDirectory + "/agent/identity.json")))
            request.setValue("Bearer \(identity["agentToken"]?.stringValue ?? "")", forHTTPHeaderField: "Authorization")
        }
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
                  let state = try? JSONDecoder().decode(JSONValue.self, from: data) else { return nil }
            return (state["spec"]?["name"]?.stringValue ?? "", state["status"]?.stringValue ?? "",
                    state["pid"]?.intValue.map(Int32.init))
        }
    }

    /// Kills the daemon, force-removes every container it left, and takes away its bridge, table and directory.
    func cleanUp() async {
        if let process, process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        if let ps = try? await runProcess(ecsAgentBinary, ["runtime", "ps"] + runtimeOptions) {
            for line in ps.stdout.split(separator: "\n").dropFirst() {
                if let id = line.split(separator: " ").first {
                    _ = try? await runProcess(ecsAgentBinary, ["runtime", "rm", "--force", String(id)] + runtimeOptions)
                }
            }
        }
        _ = try? await runProcess(URL(fileURLWithPath: "/usr/sbin/ip"), ["link", "delete", Self.bridge])
        _ = try? await runProcess(URL(fileURLWithPath: "/usr/sbin/nft"), ["delete", "table", "ip", Self.table])
        try? FileManager.default.removeItem(atPath: root)
    }
}

/// A control plane with the `default` cluster, and ECS calls on it that return JSON.
struct AgentDaemonControlPlane {
    let process: ControlPlaneProcess

    static func start() async throws -> AgentDaemonControlPlane {
        let process = try await ControlPlaneProcess()
        let plane = AgentDaemonControlPlane(process: process)
        _ = try await plane.ecs("CreateCluster", #"{"clusterName": "default"}"#)
        return plane
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
        var request = URLRequest(url: URL(string: process.endpoint)!)
        request.httpMethod = "POST"
        request.setValue("FlotillaAgentV1.GetJoinToken", forHTTPHeaderField: "X-Amz-Target")
        request.setValue("application/x-amz-json-1.1", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(#"{"cluster": "default"}"#.utf8)
        let (data, _) = try await URLSession.shared.data(for: request)
        return try #require(try JSONDecoder().decode(JSONValue.self, from: data)["joinToken"]?.stringValue)
    }

    /// The one task's description.
    func task(_ arn: String) async throws -> JSONValue? {
        try await ecs("DescribeTasks", #"{"cluster": "default", "tasks": ["\#(arn)"]}"#)["tasks"]?[0]
    }

    /// Polls DescribeTasks (bounded: 600 × 100 ms) until the task's lastStatus is `status`; its last description.
    func waitForTask(_ arn: String, lastStatus status: String) async throws -> JSONValue? {
        var last: JSONValue?
        for _ in 0..<600 {
            last = try await task(arn)
            if last?["lastStatus"]?.stringValue == status { return last }
            try await Task.sleep(for: .milliseconds(100))
        }
        return last
    }

    /// RunTask of `family` (count 1); the task ARN.
    func runTask(_ family: String) async throws -> String {
        let answer = try await ecs("RunTask", #"{"cluster": "default", "taskDefinition": "\#(family)"}"#)
        return try #require(answer["tasks"]?[0]?["taskArn"]?.stringValue, "RunTask: \(answer)")
    }
}

/// GET http://127.0.0.1:port/ with curl (bounded: 50 tries, 200 ms apart); the body, or "".
func loopbackGet(port: Int) async throws -> String {
    for _ in 0..<50 {
        let output = try await runProcess(URL(fileURLWithPath: "/usr/bin/curl"),
                                          ["-s", "--max-time", "2", "http://127.0.0.1:\(port)/"])
        if output.status == 0, !output.stdout.isEmpty { return output.stdout }
        try await Task.sleep(for: .milliseconds(200))
    }
    return ""
}

/// Whether the process `pid` exists (and is not a zombie).
func processIsAlive(_ pid: Int32) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")") else { return false }
    return !stat[stat.index(after: close)...].hasPrefix(" Z")
}
