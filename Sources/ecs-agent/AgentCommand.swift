import ArgumentParser
import DaemonSupport
import Foundation
import HTTPServerLimits
import Logging
import NodeAgent
import Prometheus
import ServiceLifecycle

/// `ecs-agent [options]`: parse config, bootstrap logging and metrics, build the runtime and the daemon, run until
/// SIGTERM/SIGINT (graceful: containers keep running and are re-adopted by the next start).
struct AgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "daemon",
        abstract: "Join a cluster and run its tasks (the default command: `FLOTILLA_JOIN_TOKEN=T ecs-agent --endpoint URL`).")

    private static let environment = ProcessInfo.processInfo.environment

    @Option(
        name: [.customLong("endpoint"), .customLong("control-plane")],
        help: "The control plane's URL: https://, or http:// on loopback only (env FLOTILLA_ENDPOINT).")
    var endpoint: String = environment["FLOTILLA_ENDPOINT"] ?? ""

    @Option(
        help:
            "PEM file of the CA to verify the control plane with (env FLOTILLA_CA_BUNDLE); default: the CA whose hash the join token carries, kept in the state directory after the first contact."
    )
    var caBundle: String = environment["FLOTILLA_CA_BUNDLE"] ?? ""

    @Option(help: "The cluster to join (env FLOTILLA_CLUSTER).")
    var cluster: String = environment["FLOTILLA_CLUSTER"] ?? "default"

    @Option(
        help:
            "A file holding the cluster's join token, from `ecsctl get-join-token` (or the token itself in env FLOTILLA_JOIN_TOKEN; never on the command line, which every process of the host can read)."
    )
    var joinTokenFile: String = environment["FLOTILLA_JOIN_TOKEN_FILE"] ?? ""

    /// The join token, from `--join-token-file` or FLOTILLA_JOIN_TOKEN.
    var joinToken: String {
        if !joinTokenFile.isEmpty {
            return FileManager.default.contents(atPath: joinTokenFile)
                .map { String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) } ?? ""
        }
        return Self.environment["FLOTILLA_JOIN_TOKEN"] ?? ""
    }

    @Option(
        help: "State directory: images, containers, network, the agent's identity and tasks (env FLOTILLA_DATA_DIR).")
    var dataDir: String = environment["FLOTILLA_DATA_DIR"] ?? "/var/lib/flotilla"

    @Option(help: "The ecs.availability-zone attribute (env FLOTILLA_AVAILABILITY_ZONE).")
    var availabilityZone: String = environment["FLOTILLA_AVAILABILITY_ZONE"] ?? ""

    @Option(help: "A custom attribute KEY=VALUE, repeatable (env FLOTILLA_ATTRIBUTES, comma-separated).")
    var attribute: [String] = []

    @Option(
        help:
            "HOST:PORT of the agent endpoint (logs, exec, /metrics); default: the advertise address, port 51678 (env FLOTILLA_AGENT_LISTEN)."
    )
    var listen: String = environment["FLOTILLA_AGENT_LISTEN"] ?? ""

    @Option(
        help:
            "This host's address for network bindings and the agent endpoint; default: the local address of the route to the control plane (env FLOTILLA_ADVERTISE_ADDRESS)."
    )
    var advertiseAddress: String = environment["FLOTILLA_ADVERTISE_ADDRESS"] ?? ""

    @Option(help: "The cgroup containers are created under (env FLOTILLA_CGROUP_PARENT).")
    var cgroupParent: String = environment["FLOTILLA_CGROUP_PARENT"] ?? "flotilla"

    @Option(help: "The Linux bridge of bridge networking (env FLOTILLA_BRIDGE_NAME).")
    var bridgeName: String = environment["FLOTILLA_BRIDGE_NAME"] ?? NetworkConfiguration().bridgeName

    @Option(help: "The bridge's IPv4 subnet (env FLOTILLA_SUBNET).")
    var subnet: String = environment["FLOTILLA_SUBNET"] ?? NetworkConfiguration().subnet

    @Option(help: "Names the nftables table of the port mappings (env FLOTILLA_NFT_TABLE_PREFIX).")
    var nftTablePrefix: String = environment["FLOTILLA_NFT_TABLE_PREFIX"] ?? NetworkConfiguration().tablePrefix

    @Option(help: "LOW-HIGH: where dynamic host ports (hostPort 0) come from (env FLOTILLA_EPHEMERAL_PORTS).")
    var ephemeralPorts: String = environment["FLOTILLA_EPHEMERAL_PORTS"] ?? "32768-60999"

    @Option(
        help:
            "How often a container's health check runs during its startPeriod until it first passes, e.g. 250ms or 1s; a container's flotilla.healthCheck.startInterval label (seconds) overrides it (env FLOTILLA_HEALTH_START_INTERVAL)."
    )
    var healthStartInterval: String = environment["FLOTILLA_HEALTH_START_INTERVAL"] ?? "250ms"

    @Option(help: "Seconds one desired-tasks poll may block, 1-60 (env FLOTILLA_POLL_WAIT).")
    var pollWait: Int = Int(environment["FLOTILLA_POLL_WAIT"] ?? "") ?? 20

    @OptionGroup var listener: ListenerLimitOptions

    @Option(
        help:
            "Bytes one image import's layers may expand to, uncompressed (env FLOTILLA_MAX_IMAGE_BYTES; default 8 GiB)."
    )
    var maxImageBytes: Int64 =
        Int64(environment["FLOTILLA_MAX_IMAGE_BYTES"] ?? "") ?? ImageStore.defaultMaxExpandedBytes

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical (env FLOTILLA_LOG_LEVEL).")
    var logLevel: String = environment["FLOTILLA_LOG_LEVEL"] ?? "info"

    var parsedLimits: Result<HTTPServerLimits, HTTPServerLimits.FlagError> {
        listener.limits(defaults: AgentEndpoint.defaultLimits)
    }

    /// The flags' attributes, else FLOTILLA_ATTRIBUTES'.
    private var attributeTexts: [String] {
        if !attribute.isEmpty { return attribute }
        return (Self.environment["FLOTILLA_ATTRIBUTES"] ?? "").split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    func validate() throws {
        guard let url = URL(string: endpoint), ["http", "https"].contains(url.scheme), url.host?.isEmpty == false else {
            throw ValidationError(
                "--endpoint: expected the control plane's http(s) URL (or FLOTILLA_ENDPOINT), got \(endpoint.isEmpty ? "nothing" : endpoint)"
            )
        }
        if url.scheme == "http", !ListenAddress(host: url.host ?? "", port: 0).isLoopback {
            throw ValidationError(
                "--endpoint: plain http:// only to a control plane on loopback; use its https:// URL, got \(endpoint)")
        }
        if !caBundle.isEmpty, !FileManager.default.isReadableFile(atPath: caBundle) {
            throw ValidationError("--ca-bundle: cannot read \(caBundle)")
        }
        if !joinTokenFile.isEmpty, !FileManager.default.isReadableFile(atPath: joinTokenFile) {
            throw ValidationError("--join-token-file: cannot read \(joinTokenFile)")
        }
        guard !joinToken.isEmpty else {
            throw ValidationError(
                "--join-token-file: required (or FLOTILLA_JOIN_TOKEN); print the token with `ecsctl get-join-token --cluster \(cluster)`"
            )
        }
        guard !cluster.isEmpty else { throw ValidationError("--cluster: must not be empty") }
        guard listen.isEmpty || parsedListen != nil else {
            throw ValidationError("--listen: expected HOST:PORT with a port 1-65535, got \(listen)")
        }
        guard parsedEphemeralPorts != nil else {
            throw ValidationError(
                "--ephemeral-ports: expected LOW-HIGH within 1-65535 with LOW <= HIGH, got \(ephemeralPorts)")
        }
        guard parsedHealthStartInterval != nil else {
            throw ValidationError(
                "--health-start-interval: expected a positive duration like 250ms or 1s, got \(healthStartInterval)")
        }
        guard (1...60).contains(pollWait) else {
            throw ValidationError("--poll-wait: must be 1 to 60 seconds, got \(pollWait)")
        }
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level: unknown level \(logLevel)")
        }
        if case .failure(let error) = parsedLimits { throw ValidationError(error.message) }
        guard maxImageBytes >= 1 << 20 else {
            throw ValidationError("--max-image-bytes: must be at least 1048576, got \(maxImageBytes)")
        }
        for text in attributeTexts {
            do {
                _ = try AgentAttributePair(parsing: text)
            } catch {
                throw ValidationError("\(error)")
            }
        }
    }

    private var parsedEphemeralPorts: ClosedRange<Int>? {
        let bounds = ephemeralPorts.split(separator: "-").compactMap { Int($0) }
        guard bounds.count == 2, bounds[0] >= 1, bounds[1] <= 65535, bounds[0] <= bounds[1] else { return nil }
        return bounds[0]...bounds[1]
    }

    private var parsedHealthStartInterval: Duration? { HTTPServerLimits.parseDuration(healthStartInterval) }

    /// The endpoint's address: a port the control plane can be told, so not 0.
    private var parsedListen: ListenAddress? { ListenAddress(argument: listen).flatMap { $0.port == 0 ? nil : $0 } }

    func run() async throws {
        let registry = Daemon.bootstrap(logLevel: Logger.Level(rawValue: logLevel) ?? .info)
        let logger = Logger(label: "flotilla.agent")
        // Read (parsing copied the environment); from here on no process of this host sees it in ours.
        let joinToken = self.joinToken
        Daemon.scrubEnvironment(["FLOTILLA_JOIN_TOKEN"])

        var network = NetworkConfiguration()
        network.bridgeName = bridgeName
        network.subnet = subnet
        network.tablePrefix = nftTablePrefix
        network.ephemeralPorts = parsedEphemeralPorts!
        var configuration = AgentConfiguration(
            endpoint: URL(string: endpoint)!, cluster: cluster, joinToken: joinToken, dataDirectory: dataDir,
            availabilityZone: availabilityZone.isEmpty ? nil : availabilityZone,
            attributes: try attributeTexts.map { try AgentAttributePair(parsing: $0) },
            advertiseAddress: advertiseAddress.isEmpty ? nil : advertiseAddress,
            cgroupParent: cgroupParent,
            network: network, pollWaitSeconds: pollWait, caBundle: caBundle.isEmpty ? nil : caBundle)
        // The endpoint serves exec: it listens where the control plane sends clients, not on every interface.
        let address = parsedListen ?? ListenAddress(host: configuration.hostAddress ?? "127.0.0.1", port: 51678)
        configuration.healthStartInterval = parsedHealthStartInterval ?? HealthCheckStateMachine.defaultStartInterval
        configuration.listenHost = address.host
        configuration.listenPort = address.port

        try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true)
        let networks = try NetworkManager(stateDirectory: dataDir + "/network", configuration: network, logger: logger)
        let runtime = try ContainerRuntime(
            dataDirectory: dataDir, networks: networks, cgroupParent: cgroupParent, logger: logger)
        let images = try ImageStore(root: dataDir + "/images", maxExpandedBytes: maxImageBytes, logger: logger)
        let daemon = try await AgentDaemon(
            configuration: configuration, runtime: runtime, images: images, logger: logger)
        logger.info(
            "agent starting",
            metadata: [
                "cluster": "\(cluster)", "agent.endpoint": "\(endpoint)", "agent.dataDir": "\(dataDir)",
                "agent.listen": "\(address)",
            ])
        let endpoint = AgentEndpoint(
            host: address.host, port: address.port, secret: await daemon.agentToken,
            directory: daemon.containerDirectory, runtime: runtime, logger: logger,
            metrics: { registry.emitToBuffer() }, limits: try parsedLimits.get())
        do {
            try await Daemon.run([endpoint, daemon], logger: logger)
        } catch let error as AgentError {
            FileHandle.standardError.write(Data("ecs-agent: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }
}
