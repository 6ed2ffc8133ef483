public import Foundation

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

    public init(host: String = "127.0.0.1", port: Int = 8080,
                dataDirectory: URL = URL(fileURLWithPath: "/var/lib/flotilla/control-plane"),
                accountID: String = "000000000000", region: String = "us-east-1", maxBodyBytes: Int = 1 << 20) {
        self.host = host
        self.port = port
        self.dataDirectory = dataDirectory
        self.accountID = accountID
        self.region = region
        self.maxBodyBytes = maxBodyBytes
    }
}
