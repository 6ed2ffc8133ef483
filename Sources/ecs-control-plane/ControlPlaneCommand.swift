import ArgumentParser
import ClusterPKI
import ControlPlane
import ECSProtocol
import DaemonSupport
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import HTTPServerLimits
import LoadBalancer
import Logging
import NIOSSL
import Prometheus
import ServiceLifecycle

/// `ecs-control-plane`: parse config, bootstrap logging and metrics, open the store, serve until SIGTERM.
@main
struct ControlPlaneCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ecs-control-plane",
        abstract: "The Flotilla control plane: the ECS API over one SQLite store."
    )

    @Option(help: "HOST:PORT to listen on (env FLOTILLA_LISTEN).")
    var listen: String = ProcessInfo.processInfo.environment["FLOTILLA_LISTEN"] ?? "127.0.0.1:8080"

    @Option(help: "Directory of flotilla.sqlite (env FLOTILLA_DATA_DIR).")
    var dataDir: String = ProcessInfo.processInfo.environment["FLOTILLA_DATA_DIR"] ?? "/var/lib/flotilla/control-plane"

    @Option(help: "Account id in ARNs (env FLOTILLA_ACCOUNT_ID).")
    var accountId: String = ProcessInfo.processInfo.environment["FLOTILLA_ACCOUNT_ID"] ?? "000000000000"

    @Option(help: "Region of ARNs for unsigned requests (env FLOTILLA_REGION).")
    var region: String = ProcessInfo.processInfo.environment["FLOTILLA_REGION"] ?? "us-east-1"

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical (env FLOTILLA_LOG_LEVEL).")
    var logLevel: String = ProcessInfo.processInfo.environment["FLOTILLA_LOG_LEVEL"] ?? "info"

    @Option(help: "An agent silent this long is marked disconnected, e.g. 30s or 2m (env FLOTILLA_AGENT_GRACE_PERIOD).")
    var agentGracePeriod: String = ProcessInfo.processInfo.environment["FLOTILLA_AGENT_GRACE_PERIOD"] ?? "30s"

    @Option(help: "URL agents are told to use, when not the address they reached (env FLOTILLA_ADVERTISE_URL).")
    var advertiseUrl: String = ProcessInfo.processInfo.environment["FLOTILLA_ADVERTISE_URL"] ?? ""

    @Option(
        help:
            "Longest time between reconciler passes when nothing changes, e.g. 1s or 500ms (env FLOTILLA_RECONCILE_INTERVAL)."
    )
    var reconcileInterval: String = ProcessInfo.processInfo.environment["FLOTILLA_RECONCILE_INTERVAL"] ?? "1s"

    @OptionGroup var listener: ListenerLimitOptions

    @Option(
        help:
            "Access key id of an administrator key to accept from the first start on, with its secret in FLOTILLA_ADMIN_SECRET_ACCESS_KEY or --admin-secret-access-key-file (env FLOTILLA_ADMIN_ACCESS_KEY_ID). Without it, the first start makes a key and writes it to DATA_DIR/admin-credentials."
    )
    var adminAccessKeyId: String = ProcessInfo.processInfo.environment["FLOTILLA_ADMIN_ACCESS_KEY_ID"] ?? ""

    @Option(help: "File holding the secret of --admin-access-key-id (one line; never give the secret itself in argv).")
    var adminSecretAccessKeyFile: String = ""

    @Option(
        help:
            "The master key that seals secrets in the store: 32 bytes, mode 0600, created when missing (default DATA_DIR/master.key; env FLOTILLA_MASTER_KEY_FILE)."
    )
    var masterKeyFile: String = ProcessInfo.processInfo.environment["FLOTILLA_MASTER_KEY_FILE"] ?? ""

    @Option(
        help:
            "How long an agent's instance credential works, e.g. 12h or 30m; agents rotate theirs after two thirds of it (env FLOTILLA_INSTANCE_CREDENTIAL_TTL)."
    )
    var instanceCredentialTtl: String = ProcessInfo.processInfo.environment["FLOTILLA_INSTANCE_CREDENTIAL_TTL"] ?? "12h"

    @Option(
        help:
            "PEM certificate chain to serve HTTPS with (the server's first), with --tls-key (env FLOTILLA_TLS_CERT). Without both, the control plane serves a certificate from its own cluster CA (DATA_DIR/ca.pem)."
    )
    var tlsCert: String = ProcessInfo.processInfo.environment["FLOTILLA_TLS_CERT"] ?? ""

    @Option(help: "PEM private key of --tls-cert (env FLOTILLA_TLS_KEY).")
    var tlsKey: String = ProcessInfo.processInfo.environment["FLOTILLA_TLS_KEY"] ?? ""

    @Option(
        help:
            "One more DNS name or address for the certificate the cluster CA issues to this control plane (repeatable; the host name, the --listen host, the --advertise-url host and loopback are always in it)."
    )
    var tlsSan: [String] = []

    @Flag(
        help:
            "Serve plain HTTP instead of HTTPS. Refused unless --listen is a loopback address; for local experiments and benchmarks only."
    )
    var insecurePlainHttp = false

    @Flag(
        help:
            "Check no signature: every caller is an administrator. Refused unless --listen is a loopback address; for local experiments only."
    )
    var insecureNoAuth = false

    @Flag(
        help:
            "Do not run the load balancers in this process (run ecs-lb --control-plane URL --load-balancer-name NAME).")
    var noEmbeddedLoadBalancer = false

    @Option(
        help:
            "Client connections each embedded balancer holds at once; more are closed before any byte, as ecs-lb --max-connections (env FLOTILLA_BALANCER_MAX_CONNECTIONS)."
    )
    var balancerMaxConnections: Int =
        ProcessInfo.processInfo.environment["FLOTILLA_BALANCER_MAX_CONNECTIONS"].flatMap { Int($0) }
        ?? LoadBalancerConfiguration.defaultMaxConnections

    @Option(
        help:
            "Seconds an embedded balancer's connection may move no byte either way before it is closed, as ecs-lb --idle-timeout (env FLOTILLA_BALANCER_IDLE_TIMEOUT)."
    )
    var balancerIdleTimeout: Double =
        ProcessInfo.processInfo.environment["FLOTILLA_BALANCER_IDLE_TIMEOUT"].flatMap { Double($0) }
        ?? Double(LoadBalancerConfiguration.defaultIdleTimeout.components.seconds)

    mutating func validate() throws {
        guard let grace = parsedGracePeriod, grace >= .seconds(2) else {
            throw ValidationError(
                "--agent-grace-period: expected a duration of at least 2s like 30s or 2m, got \(agentGracePeriod)")
        }
        if !advertiseUrl.isEmpty, !(advertiseUrl.hasPrefix("http://") || advertiseUrl.hasPrefix("https://")) {
            throw ValidationError("--advertise-url: expected an http:// or https:// URL, got \(advertiseUrl)")
        }
        guard let interval = parsedReconcileInterval, interval >= .milliseconds(10), interval <= .seconds(60) else {
            throw ValidationError(
                "--reconcile-interval: expected a duration from 10ms to 60s like 1s or 500ms, got \(reconcileInterval)")
        }
        guard ListenAddress(argument: listen) != nil else {
            throw ValidationError("--listen: expected HOST:PORT with a port 0-65535, got \(listen)")
        }
        guard accountId.count == 12, accountId.allSatisfy(\.isNumber) else {
            throw ValidationError("--account-id: expected 12 digits, got \(accountId)")
        }
        guard !region.isEmpty, region.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }) else {
            throw ValidationError("--region: expected a region name like us-east-1, got \(region)")
        }
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level: unknown level \(logLevel)")
        }
        if case .failure(let error) = parsedLimits { throw ValidationError(error.message) }
        if balancerMaxConnections < 1 {
            throw ValidationError("--balancer-max-connections: must be at least 1, got \(balancerMaxConnections)")
        }
        guard let lifetime = parsedCredentialLifetime, lifetime >= .seconds(10), lifetime <= .seconds(7 * 86400) else {
            throw ValidationError(
                "--instance-credential-ttl: expected a duration from 10s to 168h like 12h, got \(instanceCredentialTtl)")
        }
        if insecureNoAuth, !ListenAddress(argument: listen)!.isLoopback {
            throw ValidationError(
                "--insecure-no-auth: only for a control plane listening on loopback (127.0.0.1, ::1 or localhost), not \(listen)")
        }
        if insecurePlainHttp, !ListenAddress(argument: listen)!.isLoopback {
            throw ValidationError(
                "--insecure-plain-http: only for a control plane listening on loopback (127.0.0.1, ::1 or localhost), not \(listen)")
        }
        if tlsCert.isEmpty != tlsKey.isEmpty {
            throw ValidationError("--tls-cert and --tls-key: give both or neither")
        }
        if insecurePlainHttp, !tlsCert.isEmpty {
            throw ValidationError("--insecure-plain-http: serves no TLS, so --tls-cert has no use with it")
        }
        if insecureNoAuth, !adminAccessKeyId.isEmpty {
            throw ValidationError("--insecure-no-auth: checks no key, so --admin-access-key-id has no use with it")
        }
        if !adminAccessKeyId.isEmpty {
            guard AccessKeyRules.isKeyID(adminAccessKeyId) else {
                throw ValidationError(
                    "--admin-access-key-id: expected 1 to 128 letters, digits or underscores, got \(adminAccessKeyId)")
            }
            _ = try adminSecret()
        } else if !adminSecretAccessKeyFile.isEmpty {
            throw ValidationError("--admin-secret-access-key-file: give --admin-access-key-id with it")
        }
        if !(balancerIdleTimeout > 0) {
            throw ValidationError(
                "--balancer-idle-timeout: must be a positive number of seconds, got \(balancerIdleTimeout)")
        }
    }

    var parsedLimits: Result<HTTPServerLimits, HTTPServerLimits.FlagError> {
        listener.limits(defaults: HTTPServerLimits())
    }

    /// The secret of `--admin-access-key-id`: from its file, else from FLOTILLA_ADMIN_SECRET_ACCESS_KEY.
    func adminSecret() throws -> String {
        let secret: String
        if !adminSecretAccessKeyFile.isEmpty {
            guard let data = FileManager.default.contents(atPath: adminSecretAccessKeyFile) else {
                throw ValidationError("--admin-secret-access-key-file: cannot read \(adminSecretAccessKeyFile)")
            }
            secret = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        } else if let value = ProcessInfo.processInfo.environment["FLOTILLA_ADMIN_SECRET_ACCESS_KEY"] {
            secret = value
        } else {
            throw ValidationError(
                "--admin-access-key-id: give its secret in FLOTILLA_ADMIN_SECRET_ACCESS_KEY or --admin-secret-access-key-file")
        }
        guard AccessKeyRules.isSecret(secret) else {
            throw ValidationError(
                "--admin-access-key-id: its secret must be 1 to 128 printable characters without spaces")
        }
        return secret
    }

    var parsedGracePeriod: Duration? { HTTPServerLimits.parseDuration(agentGracePeriod) }
    var parsedCredentialLifetime: Duration? { HTTPServerLimits.parseDuration(instanceCredentialTtl) }
    var parsedReconcileInterval: Duration? { HTTPServerLimits.parseDuration(reconcileInterval) }

    func run() async throws {
        let registry = Daemon.bootstrap(logLevel: Logger.Level(rawValue: logLevel) ?? .info)
        let logger = Logger(label: "flotilla.control-plane")

        let address = ListenAddress(argument: listen)!
        let (host, port) = (address.host, address.port)
        var configuration = ControlPlaneConfiguration(
            host: host, port: port, dataDirectory: URL(fileURLWithPath: dataDir), accountID: accountId, region: region,
            agentGracePeriod: parsedGracePeriod!, advertisedEndpoint: advertiseUrl.isEmpty ? nil : advertiseUrl,
            limits: try parsedLimits.get(), instanceCredentialLifetime: parsedCredentialLifetime!)
        // Everything this process creates (the store, its log, keys) is the service user's alone.
        umask(0o077)
        let givenSecret = adminAccessKeyId.isEmpty ? nil : try adminSecret()
        Daemon.scrubEnvironment(["FLOTILLA_ADMIN_SECRET_ACCESS_KEY"])
        // A data dir that cannot hold the store (unwritable, corrupt, not SQLite) is one line and status 1; so is a
        // master key that cannot be used.
        let store: ControlPlaneStore
        let authentication: APIAuthentication
        let box: SecretBox
        do {
            store = try ControlPlaneStore.open(directory: configuration.dataDirectory)
            // Agents' endpoint secrets are sealed with it even when no signature is checked.
            box = try SecretBox.open(
                keyFile: masterKeyFile.isEmpty
                    ? configuration.dataDirectory.appendingPathComponent("master.key").path : masterKeyFile)
            if insecureNoAuth {
                authentication = .insecureNoAuth
            } else {
                let ring = try await AccessKeyRing.load(store: store, box: box)
                try await AdministratorKey.ensure(
                    ring: ring, store: store,
                    given: givenSecret.map { (adminAccessKeyId, $0) },
                    dataDirectory: configuration.dataDirectory, logger: logger)
                authentication = .sigV4(ring)
            }
        } catch {
            FileHandle.standardError.write(Data("ecs-control-plane: \(error)\n".utf8))
            throw ExitCode.failure
        }
        // After the store: a data dir that cannot hold it fails first, before anything is logged.
        let tls: NIOSSLContext?
        do {
            tls = try serverTLS(configuration: &configuration, logger: logger)
        } catch {
            FileHandle.standardError.write(Data("ecs-control-plane: \(error)\n".utf8))
            throw ExitCode.failure
        }
        if insecureNoAuth {
            logger.warning(
                "INSECURE: --insecure-no-auth: this control plane checks no signature; anyone who reaches \(listen) is an administrator"
            )
        }
        logger.info(
            "control plane starting",
            metadata: [
                "http.listen": "\(listen)", "store.path": "\(dataDir)/flotilla.sqlite", "region": "\(region)",
                "auth": "\(insecureNoAuth ? "none" : "sigv4")", "tls": "\(tls == nil ? "none" : "on")",
            ])
        let loadBalancers = LoadBalancerStatusBoard()
        let application = ControlPlaneApplication.make(
            api: ECSAPI(
                store: store, configuration: configuration, authentication: authentication, secretBox: box,
                loadBalancers: loadBalancers),
            metrics: { registry.emitToBuffer() },
            tls: tls,
            logger: logger
        )
        // The monitor after the application: shut down first, it releases blocked agent polls.
        var services: [any Service] = [
            application,
            ReconcilerService(store: store, interval: parsedReconcileInterval!, logger: logger),
            ContactMonitor(store: store, gracePeriod: configuration.agentGracePeriod, logger: logger),
        ]
        if !noEmbeddedLoadBalancer {
            services.append(
                EmbeddedLoadBalancers(
                    store: store, board: loadBalancers, maxConnections: balancerMaxConnections,
                    idleTimeout: .seconds(balancerIdleTimeout), logger: logger))
        }
        try await Daemon.run(services, logger: logger)
        do {
            try store.close()
        } catch {
            logger.error(
                "store not closed cleanly; it recovers from its write-ahead log on the next start",
                metadata: [
                    "error": "\(error)"
                ])
        }
        logger.info("control plane stopped")
    }
}
