import ArgumentParser
import DaemonSupport
import FlotillaClient
import Foundation
import LoadBalancer
import Logging

/// Command-line flags of `ecs-lb`; with `--config`, the JSON file supplies what it names and flags the rest.
struct LoadBalancerOptions: ParsableArguments {
    @Option(help: "Balancer name (a metric dimension).")
    var name = "ecs-lb"

    @Option(help: "Listener address, host:port.")
    var listen: ListenAddress?

    @Option(name: .customLong("target"), help: "A target host:port; repeat for more.")
    var targets: [ListenAddress] = []

    @Option(help: "round-robin or least-outstanding.")
    var algorithm: AlgorithmFlag = AlgorithmFlag(algorithm: .roundRobin)

    @Option(name: .customLong("health-check"), help: "tcp, or http:PATH (e.g. http:/healthz).")
    var healthCheck: HealthCheckFlag = HealthCheckFlag(kind: .tcp)

    @Option(name: .customLong("health-interval"), help: "Seconds between health checks.")
    var healthInterval: Double = 5

    @Option(name: .customLong("health-timeout"), help: "Seconds before a health check fails.")
    var healthTimeout: Double = 2

    @Option(name: .customLong("healthy-threshold"))
    var healthyThreshold = 2

    @Option(name: .customLong("unhealthy-threshold"))
    var unhealthyThreshold = 2

    @Option(name: .customLong("deregistration-delay"), help: "Seconds a removed target's connections may go on.")
    var deregistrationDelay: Double = 30

    @Option(
        name: .customLong("max-connections"),
        help: "Client connections open at once; more are closed at once, before any byte.")
    var maxConnections: Int = LoadBalancerConfiguration.defaultMaxConnections

    @Option(
        name: .customLong("idle-timeout"),
        help: "Seconds a connection may move no byte either way before it is closed (NLB's 350).")
    var idleTimeout: Double = 350

    @Option(help: "JSON file with the settings and targets; SIGHUP reloads its targets.")
    var config: String?

    @Option(
        name: .customLong("control-plane"),
        help: "The control plane's URL: serve --load-balancer-name as it defines it, polling its targets.")
    var controlPlane: String?

    @Option(
        name: .customLong("load-balancer-name"), help: "The control plane's balancer to serve (with --control-plane).")
    var loadBalancerName: String?

    @Option(name: .customLong("poll-interval"), help: "Seconds between two reads of the control plane's targets.")
    var pollInterval: Double = 1

    @Option(name: .customLong("metrics-listen"), help: "host:port serving Prometheus /metrics.")
    var metricsListen: ListenAddress?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: LogLevelFlag = LogLevelFlag(level: .info)

    func validate() throws {
        if self.maxConnections < 1 {
            throw ValidationError("--max-connections: must be at least 1, got \(self.maxConnections)")
        }
        if !(self.idleTimeout > 0) {
            throw ValidationError("--idle-timeout: must be positive, got \(self.idleTimeout)")
        }
        if let controlPlane {
            guard let url = URL(string: controlPlane), ["http", "https"].contains(url.scheme ?? "") else {
                throw ValidationError("--control-plane: expected an http:// or https:// URL, got \(controlPlane)")
            }
            if url.scheme == "http", !ListenAddress(host: url.host ?? "", port: 0).isLoopback {
                throw ValidationError(
                    "--control-plane: plain http:// only to a control plane on loopback; use its https:// URL, got \(controlPlane)")
            }
            if self.loadBalancerName == nil {
                throw ValidationError("--load-balancer-name: required with --control-plane")
            }
            if self.config != nil { throw ValidationError("--config: not with --control-plane") }
            if !(self.pollInterval > 0) { throw ValidationError("--poll-interval: must be positive") }
        } else if self.loadBalancerName != nil {
            throw ValidationError("--load-balancer-name: only with --control-plane")
        } else if self.config == nil && self.listen == nil {
            throw ValidationError("--listen: required without --config or --control-plane")
        }
    }

    /// Where targets come from: the control plane, the file, else the fixed flags.
    func targetSource() throws -> any TargetSource {
        if let controlPlane, let url = URL(string: controlPlane), let loadBalancerName {
            // Signed with the key the AWS CLI would find (environment, AWS_PROFILE, ~/.aws): an agent-scope key does.
            let found: ClientConfiguration
            do {
                found = try ClientConfiguration.resolve(endpoint: controlPlane, cluster: nil, region: nil)
            } catch {
                throw ValidationError("--control-plane: no usable credentials: \(error)")
            }
            var transport = HTTPTransport.systemTrust
            do {
                if let path = found.caBundle { transport = try HTTPTransport(trust: .caBundle(path: path)) }
            } catch {
                throw ValidationError("--control-plane: \(error) (AWS_CA_BUNDLE or the profile's ca_bundle)")
            }
            return ControlPlaneTargetSource(
                client: ECSClient(
                    endpoint: url, region: found.region, credentials: found.credentials, timeout: 5,
                    transport: transport),
                loadBalancerName: loadBalancerName, listenerOverride: self.listen)
        }
        if let config { return FileTargetSource(path: config, defaults: self) }
        return FixedTargetSource(settings: try self.settings(targets: self.targets))
    }

    /// The balancer configuration the flags describe, with `targets`.
    func settings(targets: [ListenAddress], overriding file: ConfigFile? = nil) throws -> TargetSettings {
        guard let listen = file?.listen ?? self.listen else { throw ValidationError("listen: required") }
        let check = file?.healthCheck ?? self.healthCheck
        let configuration = LoadBalancerConfiguration(
            name: file?.name ?? self.name,
            listenerHost: listen.host,
            listenerPort: listen.port,
            algorithm: (file?.algorithm ?? self.algorithm).algorithm,
            healthCheck: TargetHealthCheck(
                kind: check.kind,
                interval: .seconds(file?.healthIntervalSeconds ?? self.healthInterval),
                timeout: .seconds(file?.healthTimeoutSeconds ?? self.healthTimeout),
                healthyThreshold: file?.healthyThreshold ?? self.healthyThreshold,
                unhealthyThreshold: file?.unhealthyThreshold ?? self.unhealthyThreshold),
            deregistrationDelay: .seconds(file?.deregistrationDelaySeconds ?? self.deregistrationDelay))
        return TargetSettings(
            configuration: configuration,
            targets: targets.map { Target(id: $0.description, host: $0.host, port: $0.port) })
    }
}

/// `tcp` or `http:PATH`.
struct HealthCheckFlag: ExpressibleByArgument, Codable, Hashable, Sendable {
    var kind: TargetHealthCheck.Kind

    init(kind: TargetHealthCheck.Kind) { self.kind = kind }

    init?(argument: String) {
        if argument == "tcp" {
            self.kind = .tcp
        } else if argument.hasPrefix("http:") {
            self.kind = .http(path: String(argument.dropFirst("http:".count)))
        } else {
            return nil
        }
    }

    init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let value = HealthCheckFlag(argument: text) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "must be tcp or http:PATH, got '\(text)'"))
        }
        self = value
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self.kind {
        case .tcp: try container.encode("tcp")
        case .http(let path): try container.encode("http:\(path)")
        }
    }
}

/// `round-robin` or `least-outstanding`.
struct AlgorithmFlag: ExpressibleByArgument, Codable, Hashable, Sendable {
    var algorithm: BalancingAlgorithm

    init(algorithm: BalancingAlgorithm) { self.algorithm = algorithm }

    init?(argument: String) {
        guard let algorithm = BalancingAlgorithm(rawValue: argument) else { return nil }
        self.algorithm = algorithm
    }

    init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let algorithm = BalancingAlgorithm(rawValue: text) else {
            throw DecodingError.dataCorrupted(
                .init(
                    codingPath: decoder.codingPath,
                    debugDescription: "must be round-robin or least-outstanding, got '\(text)'"))
        }
        self.algorithm = algorithm
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(self.algorithm.rawValue)
    }
}

/// A swift-log level by name.
struct LogLevelFlag: ExpressibleByArgument, Sendable {
    var level: Logger.Level

    init(level: Logger.Level) { self.level = level }

    init?(argument: String) {
        guard let level = Logger.Level(rawValue: argument) else { return nil }
        self.level = level
    }
}
