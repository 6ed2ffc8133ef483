public import Foundation
public import SigV4
import TaskDefinitions

/// Where ecsctl sends its calls and which cluster it means, resolved from flags, environment and config files.
///
/// Precedence, first found wins: the flag, the environment (`FLOTILLA_ENDPOINT`, `FLOTILLA_CLUSTER`), the user's
/// config file (`~/.config/flotilla/config.json`, or `$XDG_CONFIG_HOME/flotilla/config.json`), the system config
/// file (`/etc/flotilla/ecsctl.json`), then the defaults `https://127.0.0.1:8080` (the control plane serves TLS unless
/// told otherwise) and `default`.
/// Each config file is `{"endpoint": "...", "cluster": "..."}`; either key may be missing.
///
/// Credentials and the region come as the AWS CLI finds them (`AWSProfileResolver`): `--profile`, else
/// `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`, else the `AWS_PROFILE` (or `default`) profile of `~/.aws/credentials`
/// and `~/.aws/config`; so does the CA bundle `https://` endpoints are verified against (`--ca-bundle`, else
/// `AWS_CA_BUNDLE`, else the profile's `ca_bundle`; none: the system's trust store). A plain `http://` endpoint must
/// be loopback.
public struct ClientConfiguration: Hashable, Sendable {
    public static let defaultEndpoint = URL(string: "https://127.0.0.1:8080")!
    public static let defaultCluster = "default"
    public static let systemConfigPath = "/etc/flotilla/ecsctl.json"

    public var endpoint: URL
    public var cluster: String
    /// The region requests are signed for, when the user named one (`--region`, `AWS_REGION`, `AWS_DEFAULT_REGION`,
    /// the profile's `region`).
    public var region: String?
    /// The access key requests are signed with; nil when none was found (the control plane then refuses them).
    public var credentials: AWSCredentials?
    /// The PEM file of the CAs an `https://` endpoint's certificate must chain to; nil: the system's trust store.
    public var caBundle: String?

    public init(
        endpoint: URL = ClientConfiguration.defaultEndpoint, cluster: String = ClientConfiguration.defaultCluster,
        region: String? = nil, credentials: AWSCredentials? = nil, caBundle: String? = nil
    ) {
        self.endpoint = endpoint
        self.cluster = cluster
        self.region = region
        self.credentials = credentials
        self.caBundle = caBundle
    }

    /// Why a configuration could not be resolved.
    public enum Error: Swift.Error, Hashable, Sendable, CustomStringConvertible {
        case invalidEndpoint(String, source: String)
        case invalidConfigFile(path: String, reason: String)
        /// The AWS credentials or config files, or the environment's keys, could not be used.
        case credentials(AWSProfileError)

        public var description: String {
            switch self {
            case .invalidEndpoint(let value, let source):
                return "\(source): '\(value)' is not an http:// or https:// URL"
            case .invalidConfigFile(let path, let reason):
                return "\(path): \(reason)"
            case .credentials(let error):
                return "\(error)"
            }
        }
    }

    /// The config files consulted, highest precedence first.
    public static func configFilePaths(environment: [String: String]) -> [String] {
        var paths: [String] = []
        if let xdg = environment["XDG_CONFIG_HOME"], !xdg.isEmpty {
            paths.append("\(xdg)/flotilla/config.json")
        } else if let home = environment["HOME"], !home.isEmpty {
            paths.append("\(home)/.config/flotilla/config.json")
        }
        paths.append(systemConfigPath)
        return paths
    }

    /// Resolves the configuration. Pure: the environment and the file reader are inputs.
    ///
    /// - Parameters:
    ///   - endpoint: the `--endpoint`/`--endpoint-url` flag.
    ///   - cluster: the `--cluster` flag.
    ///   - region: the `--region` flag.
    ///   - profile: the `--profile` flag.
    ///   - caBundle: the `--ca-bundle` flag.
    ///   - readFile: the contents of a path, or nil when there is no such file.
    public static func resolve(
        endpoint: String?, cluster: String?, region: String?, profile: String? = nil, caBundle: String? = nil,
        environment: [String: String],
        readFile: (String) -> Data?
    ) throws(Error) -> ClientConfiguration {
        var files: [(path: String, endpoint: String?, cluster: String?)] = []
        for path in configFilePaths(environment: environment) {
            guard let data = readFile(path) else { continue }
            files.append(try parseConfigFile(data, path: path))
        }

        let endpointChoice: (value: String, source: String)? =
            endpoint.map { ($0, "--endpoint") }
            ?? environment["FLOTILLA_ENDPOINT"].flatMap { $0.isEmpty ? nil : ($0, "FLOTILLA_ENDPOINT") }
            ?? files.lazy.compactMap { file in file.endpoint.map { ($0, "\(file.path): endpoint") } }.first
        var resolved = ClientConfiguration()
        if let endpointChoice {
            resolved.endpoint = try parseEndpoint(endpointChoice.value, source: endpointChoice.source)
        }
        resolved.cluster =
            cluster
            ?? environment["FLOTILLA_CLUSTER"].flatMap { $0.isEmpty ? nil : $0 }
            ?? files.lazy.compactMap(\.cluster).first
            ?? defaultCluster
        let aws: (credentials: AWSCredentials?, region: String?)
        do {
            aws = try AWSProfileResolver.resolve(profile: profile, environment: environment, readFile: readFile)
            if let caBundle, !caBundle.isEmpty {
                resolved.caBundle = caBundle
            } else {
                resolved.caBundle = try AWSProfileResolver.caBundle(
                    profile: profile, environment: environment, readFile: readFile)
            }
        } catch {
            throw .credentials(error)
        }
        resolved.region = region ?? aws.region
        resolved.credentials = aws.credentials
        return resolved
    }

    /// Resolves the configuration from this process's environment and the real config files.
    public static func resolve(
        endpoint: String?, cluster: String?, region: String?, profile: String? = nil, caBundle: String? = nil
    ) throws(Error) -> ClientConfiguration {
        try resolve(
            endpoint: endpoint, cluster: cluster, region: region, profile: profile, caBundle: caBundle,
            environment: ProcessInfo.processInfo.environment,
            readFile: { FileManager.default.contents(atPath: $0) })
    }

    /// An endpoint URL: `http(s)://host[:port]`; a bare `host:port` means http.
    public static func parseEndpoint(_ value: String, source: String) throws(Error) -> URL {
        let text = value.contains("://") ? value : "http://\(value)"
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = url.host, !host.isEmpty
        else {
            throw .invalidEndpoint(value, source: source)
        }
        return url
    }

    private static func parseConfigFile(
        _ data: Data, path: String
    ) throws(Error)
        -> (path: String, endpoint: String?, cluster: String?)
    {
        guard let document = try? JSONDecoder().decode(JSONValue.self, from: data) else {
            throw .invalidConfigFile(path: path, reason: "not valid JSON")
        }
        guard case .object(let members) = document else {
            throw .invalidConfigFile(
                path: path,
                reason: #"must be a JSON object like {"endpoint": "https://127.0.0.1:8080", "cluster": "default"}"#)
        }
        var values: [String: String] = [:]
        for key in ["endpoint", "cluster"] {
            guard let value = members[key], value != .null else { continue }
            guard let text = value.stringValue, !text.isEmpty else {
                throw .invalidConfigFile(path: path, reason: "\(key): must be a non-empty string")
            }
            values[key] = text
        }
        return (path, values["endpoint"], values["cluster"])
    }
}
