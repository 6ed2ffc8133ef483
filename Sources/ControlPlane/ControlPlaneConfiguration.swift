public import Foundation
public import HTTPServerLimits

/// What the control plane needs to know about where and as whom it runs.
public struct ControlPlaneConfiguration: Sendable {
    /// The address the API listens on.
    public var host: String
    public var port: Int
    /// Where `flotilla.sqlite` lives.
    public var dataDirectory: URL
    /// The account id in every ARN.
    public var accountID: String
    /// The region of ARNs when a request is not SigV4-signed.
    public var region: String
    /// Requests with a larger body get `RequestEntityTooLargeException` (ECS's own limit is 1 MiB too).
    public var maxBodyBytes: Int
    /// An agent silent for longer is marked `agentConnected: false` by `ContactMonitor`.
    public var agentGracePeriod: Duration
    /// The longest a `PollDesiredTasks` call blocks; also capped at half the grace period, so a waiting agent never
    /// looks silent.
    public var maxPollWait: Duration
    /// The URL agents are told to use (`DiscoverPollEndpoint`, `Register`); nil answers the address the request came to.
    public var advertisedEndpoint: String?
    /// The API listener's header, body and idle timeouts and its connection cap.
    public var limits: HTTPServerLimits
    /// How long an instance credential works; its agent rotates it (`RotateCredential`) well before.
    public var instanceCredentialLifetime: Duration
    /// Whether the API serves TLS: the scheme of the endpoint it answers when `advertisedEndpoint` is nil.
    public var servesTLS: Bool
    /// `sha256:<hex>` of the cluster CA that signed the API's certificate (`CACertificateHash`), appended to the join
    /// tokens it makes; nil when it serves plain HTTP or an operator's certificate (`--tls-cert`).
    public var caCertificateHash: String?
    /// How long a rotated instance credential keeps working after its successor is issued.
    public static let rotationGrace: Duration = .seconds(300)

    public init(
        host: String = "127.0.0.1", port: Int = 8080,
        dataDirectory: URL = URL(fileURLWithPath: "/var/lib/flotilla/control-plane"),
        accountID: String = "000000000000", region: String = "us-east-1", maxBodyBytes: Int = 1 << 20,
        agentGracePeriod: Duration = .seconds(30), maxPollWait: Duration = .seconds(60),
        advertisedEndpoint: String? = nil, limits: HTTPServerLimits = HTTPServerLimits(),
        instanceCredentialLifetime: Duration = .seconds(12 * 3600), caCertificateHash: String? = nil,
        servesTLS: Bool = false
    ) {
        self.servesTLS = servesTLS
        self.caCertificateHash = caCertificateHash
        self.host = host
        self.port = port
        self.dataDirectory = dataDirectory
        self.accountID = accountID
        self.region = region
        self.maxBodyBytes = maxBodyBytes
        self.agentGracePeriod = agentGracePeriod
        self.maxPollWait = maxPollWait
        self.advertisedEndpoint = advertisedEndpoint
        self.limits = limits
        self.instanceCredentialLifetime = instanceCredentialLifetime
    }
}
