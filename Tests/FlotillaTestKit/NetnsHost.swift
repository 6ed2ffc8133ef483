import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The network of one e2e run: a host-side bridge `fl-e2e-<k>` on the test subnet 10.213.<k>.0/24 (the bridge is
/// .1), and one network namespace per "host" hanging off it. Several runs (parallel suites, a benchmark) each take a
/// free `k`; names carry `k`, so they never collide, and a run whose owner died leaves pieces the next run removes.
///
/// - Important: call `tearDown()` when done (the `with` helpers do, even after a failure). Traffic of a test goes
///   only to the bridge address and to addresses of these namespaces.
public final class NetnsLab: Sendable {
    /// The run number: the third octet of the subnet and the suffix of every name.
    public let run: Int
    /// `fl-e2e-<run>`: the bridge, and the prefix of the namespaces.
    public let name: String
    /// The bridge's address: the control plane listens here so every host reaches it.
    public var gatewayAddress: String { "10.213.\(run).1" }
    public var subnet: String { "10.213.\(run).0/24" }

    static let lockDirectory = "/run/flotilla-e2e"

    /// Takes a free run number (a lock file holding our pid, created exclusively; a lock whose pid is dead is taken
    /// over after removing what that run left) and makes the bridge with the gateway address.
    public init() throws {
        try FileManager.default.createDirectory(atPath: Self.lockDirectory, withIntermediateDirectories: true)
        var chosen: Int?
        for candidate in (1...250).shuffled() where Self.lock(candidate) {
            chosen = candidate
            break
        }
        guard let run = chosen else {
            throw HostCommandError(
                arguments: ["lock", Self.lockDirectory],
                result: HostCommandResult(status: 1, stdout: "", stderr: "no free run number"))
        }
        self.run = run
        name = "fl-e2e-\(run)"
        Self.removeLeftovers(of: run)
        do {
            try HostCommand.check(["ip", "link", "add", "name", name, "type", "bridge"])
            try HostCommand.check(["ip", "address", "add", "\(gatewayAddress)/24", "dev", name])
            try HostCommand.check(["ip", "link", "set", "dev", name, "up"])
        } catch {
            tearDown()
            throw error
        }
    }

    /// Adds host `index` (1, 2, ...): namespace `fl-e2e-<run>-<index>` at 10.213.<run>.(10 + index).
    public func addHost(_ index: Int) throws -> NetnsHost {
        let host = NetnsHost(lab: self, index: index)
        do {
            try host.create()
        } catch {
            host.remove()
            throw error
        }
        return host
    }

    /// Removes every namespace of this run, the bridge, and the lock. Processes inside must be gone already (the
    /// agent harness stops them first); what is left of a namespace is removed anyway.
    public func tearDown() {
        Self.removeLeftovers(of: run)
        unlink("\(Self.lockDirectory)/\(run).lock")
    }

    // MARK: - Locks and leftovers

    /// Creates `<run>.lock` with our pid; an existing lock is taken over when its pid no longer runs.
    private static func lock(_ run: Int) -> Bool {
        let path = "\(lockDirectory)/\(run).lock"
        for _ in 0..<2 {
            let fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o644)
            if fd >= 0 {
                let text = "\(getpid())\n"
                _ = text.withCString { write(fd, $0, strlen($0)) }
                close(fd)
                return true
            }
            guard errno == EEXIST,
                let owner = (try? String(contentsOfFile: path, encoding: .utf8))
                    .flatMap({ Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) })
            else { return false }
            if kill(owner, 0) == 0 || errno == EPERM { return false }  // its owner still runs
            unlink(path)
        }
        return false
    }

    /// Everything of run `run` whose owner may have been killed (a test process ended with SIGKILL leaves its daemons
    /// and containers running): processes whose command line names `fl-e2e-<run>-` (the run's control plane and agents:
    /// their data directories and namespaces carry it), the containers in the cgroups of its hosts (`fl-e2e-<run>-*`,
    /// each agent's `--cgroup-parent`), namespaces `fl-e2e-<run>-*` (processes inside killed first), the hosts' veths
    /// `fle2e<run>h*` (a veth whose namespace is still pinned would keep its name) and the bridge `fl-e2e-<run>`.
    static func removeLeftovers(of run: Int) {
        let prefix = "fl-e2e-\(run)-"
        HostCommand.ignoringFailure(["pkill", "-KILL", "-f", prefix])
        for root in AgentProcess.cgroupRoots {
            let parents = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
            for parent in parents where parent.hasPrefix(prefix) {
                let containers = (try? FileManager.default.contentsOfDirectory(atPath: "\(root)/\(parent)")) ?? []
                for container in containers {
                    let procs = (try? String(contentsOfFile: "\(root)/\(parent)/\(container)/cgroup.procs", encoding: .utf8))
                    for pid in (procs ?? "").split(separator: "\n").compactMap({ Int32($0) }) { kill(pid, SIGKILL) }
                }
            }
        }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/run/netns")) ?? []
        for namespace in names where namespace.hasPrefix(prefix) && Int(namespace.dropFirst(prefix.count)) != nil {
            NetnsHost.killProcesses(inNamespace: namespace)
            HostCommand.ignoringFailure(["ip", "netns", "delete", namespace])
        }
        let links = (try? FileManager.default.contentsOfDirectory(atPath: "/sys/class/net")) ?? []
        for link in links where link.hasPrefix("fle2e\(run)h") {
            HostCommand.ignoringFailure(["ip", "link", "delete", "dev", link])
        }
        HostCommand.ignoringFailure(["ip", "link", "delete", "dev", "fl-e2e-\(run)"])
    }
}

/// One "host" of an e2e run: a network namespace with `eth0` (a veth whose other end is on the run's bridge) at
/// 10.213.<run>.(10 + index)/24, `lo` up and a default route via the bridge.
///
/// Programs run inside with `nsenter --net=/run/netns/<name>` (see `command(_:)`), not `ip netns exec`: the latter
/// also unshares the mount namespace and remounts /sys, which hides /sys/fs/cgroup (the runtime finds no cgroup
/// hierarchy) and keeps the runtime's bind-mounted container namespaces (/run/flotilla/netns) from the host and from
/// the next agent process.
public struct NetnsHost: Sendable, Hashable {
    public let run: Int
    public let index: Int
    /// `fl-e2e-<run>-<index>`.
    public let name: String
    /// The host's address on the test subnet: agents advertise it, bindings answer on it.
    public let address: String
    /// The root-namespace end of the veth; `cutOff()` takes it down.
    public let hostInterface: String
    let bridge: String
    let gateway: String

    init(lab: NetnsLab, index: Int) {
        run = lab.run
        self.index = index
        name = "\(lab.name)-\(index)"
        address = "10.213.\(lab.run).\(10 + index)"
        hostInterface = "fle2e\(lab.run)h\(index)"
        bridge = lab.name
        gateway = lab.gatewayAddress
    }

    /// The file of the namespace, for `nsenter --net=`.
    public var namespacePath: String { "/run/netns/\(name)" }

    func create() throws {
        try HostCommand.check(["ip", "netns", "add", name])
        try HostCommand.check([
            "ip", "link", "add", "name", hostInterface, "type", "veth", "peer", "name", "eth0",
            "netns", name,
        ])
        try HostCommand.check(["ip", "link", "set", "dev", hostInterface, "master", bridge, "up"])
        try HostCommand.check(
            command(["ip", "-batch", "-"]),
            input: """
                link set dev lo up
                address add \(address)/24 dev eth0
                link set dev eth0 up
                route add default via \(gateway)

                """)
    }

    /// `arguments` run inside this host's network namespace (and only that namespace).
    public func command(_ arguments: [String]) -> [String] {
        ["/usr/bin/nsenter", "--net=\(namespacePath)"] + [HostCommand.resolve(arguments[0])] + arguments.dropFirst()
    }

    /// Runs `arguments` inside the host to completion.
    public func run(_ arguments: [String]) throws -> HostCommandResult {
        try HostCommand.run(command(arguments))
    }

    /// Takes the host off the network: its veth end on the bridge goes down (the namespace and everything in it keep
    /// running, unreachable).
    public func cutOff() throws {
        try HostCommand.check(["ip", "link", "set", "dev", hostInterface, "down"])
    }

    /// Brings the host back after `cutOff()`.
    public func reconnect() throws {
        try HostCommand.check(["ip", "link", "set", "dev", hostInterface, "up"])
    }

    /// Kills what runs in the namespace, then deletes it (the veth pair goes with it).
    public func remove() {
        Self.killProcesses(inNamespace: name)
        HostCommand.ignoringFailure(["ip", "netns", "delete", name])
        HostCommand.ignoringFailure(["ip", "link", "delete", "dev", hostInterface])
    }

    /// SIGKILLs every process in the namespace (`ip netns pids`), agents and containers alike.
    static func killProcesses(inNamespace name: String) {
        guard let pids = try? HostCommand.run(["ip", "netns", "pids", name]) else { return }
        for pid in pids.stdout.split(separator: "\n").compactMap({ Int32($0) }) { kill(pid, SIGKILL) }
    }
}
