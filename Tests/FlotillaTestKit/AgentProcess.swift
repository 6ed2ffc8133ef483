import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The built `ecs-agent` daemon running inside one `NetnsHost`, with its own data directory and cgroup parent, and
/// the runtime containers it leaves in that data directory (read from the runtime's state files, so the harness
/// never takes a container over from the agent).
public final class AgentProcess: Sendable {
    public let host: NetnsHost
    public let dataDirectory: String
    public let cgroupParent: String
    public let daemon: DaemonProcess
    let binaryDirectory: String
    /// The agent endpoint's port: no `--listen` is given, so the agent listens on its advertise address, port
    /// 51678, as it does by default.
    public static let endpointPort = 51678

    /// Prepares (does not start) `ecs-agent --endpoint … --cluster … --join-token …` inside `host`.
    public init(
        host: NetnsHost, endpoint: String, cluster: String, joinToken: String, dataDirectory: String,
        extraArguments: [String] = [], binaryDirectory: String = HostCommand.debugBinaries
    ) throws {
        self.host = host
        self.dataDirectory = dataDirectory
        self.binaryDirectory = binaryDirectory
        cgroupParent = host.name
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        daemon = DaemonProcess(
            arguments: host.command(
                [
                    "\(binaryDirectory)/ecs-agent", "--endpoint", endpoint, "--cluster", cluster,
                    "--data-dir", dataDirectory, "--cgroup-parent", cgroupParent,
                    "--advertise-address", host.address,
                    "--availability-zone", "zone-\(host.index)",
                ] + extraArguments),
            environment: [
                "PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "FLOTILLA_LOG_LEVEL": "debug", "FLOTILLA_JOIN_TOKEN": joinToken,
            ],
            logFile: dataDirectory + "/agent.log")
    }

    public func start() throws { try daemon.start() }

    /// `http://<address>:51678`, the agent endpoint.
    public var endpoint: String { "http://\(host.address):\(Self.endpointPort)" }

    // MARK: - Runtime CLI on this host's data directory

    /// `ecs-agent runtime SUBCOMMAND --data-dir <dir> ARGS…` inside the host.
    public func runtime(_ subcommand: String, _ arguments: [String] = []) throws -> HostCommandResult {
        try host.run(["\(binaryDirectory)/ecs-agent", "runtime", subcommand, "--data-dir", dataDirectory] + arguments)
    }

    /// Imports an image archive (`ecs-agent runtime import`) into this host's store.
    public func importImage(_ archive: String) throws {
        let result = try runtime("import", [archive])
        guard result.succeeded else {
            throw HostCommandError(arguments: ["ecs-agent", "runtime", "import", archive], result: result)
        }
    }

    /// The runtime containers in the data directory, as their state files say, oldest first.
    public func containers() -> [RuntimeContainer] {
        let directory = dataDirectory + "/containers"
        let ids = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return ids.compactMap { id in
            guard let data = FileManager.default.contents(atPath: "\(directory)/\(id)/state.json") else { return nil }
            return try? JSONDecoder().decode(RuntimeContainer.self, from: data)
        }.sorted { $0.createdAt < $1.createdAt }
    }

    /// The containers whose init process runs now.
    public func runningContainers() -> [RuntimeContainer] { containers().filter(\.isAlive) }

    /// Kills and removes every container of this host (`runtime rm --force`), for teardown.
    public func removeAllContainers() {
        let ids = containers().map(\.id)
        if !ids.isEmpty { _ = try? runtime("rm", ["--force"] + ids) }
    }

    /// The agent's resident set size in KiB (VmRSS), nil when it does not run.
    public func residentKiB() -> Int? {
        guard let pid = daemon.pid, let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
        else { return nil }
        return Int(line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first ?? "")
    }

    /// Stops the agent (SIGKILL), removes its containers and (unless `keepingLogs`) its data directory.
    public func destroy(keepingLogs: Bool = false) {
        daemon.kill9()
        removeAllContainers()
        for parent in Self.cgroupRoots.map({ "\($0)/\(cgroupParent)" }) {
            // Empty container cgroups a killed agent left (their processes are gone with `rm --force`).
            for child in (try? FileManager.default.contentsOfDirectory(atPath: parent)) ?? [] {
                rmdir("\(parent)/\(child)")
            }
            rmdir(parent)
        }
        if !keepingLogs { try? FileManager.default.removeItem(atPath: dataDirectory) }
    }

    /// The directories a container cgroup of this host's parent may be in (v1 controllers or the unified tree).
    static let cgroupRoots = [
        "/sys/fs/cgroup/pids", "/sys/fs/cgroup/memory", "/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpuacct",
        "/sys/fs/cgroup/devices", "/sys/fs/cgroup",
    ]

    /// Container cgroups under this agent's `--cgroup-parent`, by name (runtime container ids).
    public func containerCgroups() -> Set<String> {
        var names = Set<String>()
        for root in Self.cgroupRoots {
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: "\(root)/\(cgroupParent)")) ?? []
            names.formUnion(entries.filter { $0.count == 64 })
        }
        return names
    }
}

/// A runtime container as its `state.json` records it (the fields the e2e reads).
public struct RuntimeContainer: Decodable, Sendable, Hashable {
    public struct Spec: Decodable, Sendable, Hashable { public var name: String }
    public var id: String
    public var spec: Spec
    /// created, running or stopped.
    public var status: String
    public var pid: Int32?
    public var createdAt: Double
    public var startedAt: Double?

    /// Running by its state file and its init process exists.
    public var isAlive: Bool {
        guard status == "running", let pid else { return false }
        return kill(pid, 0) == 0
    }

    /// The container's command: the first child of its init (`/proc/<pid>/task/<pid>/children`), nil when none.
    public var commandPID: Int32? {
        guard let pid, let children = try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8)
        else {
            return nil
        }
        return children.split(separator: " ").first.flatMap {
            Int32($0.trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }

    /// Whether this container belongs to the ECS task `taskArn` (the agent names containers after the task id).
    public func belongs(toTask taskArn: String) -> Bool {
        spec.name.contains(String(taskArn.split(separator: "/").last ?? ""))
    }
}
