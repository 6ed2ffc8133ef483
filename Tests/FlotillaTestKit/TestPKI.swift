import ClusterPKI
public import FlotillaClient
public import Foundation

/// The test run's one cluster CA: every control plane the test kit starts gets it in its data directory (`ca.pem`,
/// `ca-key.pem`) before its first start, so it serves HTTPS from it, and every test client trusts it — `transport`,
/// ecsctl and the awscli through `caBundle` (`AWS_CA_BUNDLE`). Made once per test process, in a 0700 temp directory.
public enum TestPKI {
    private static let made: (directory: URL, ca: ClusterCA, hash: String) = {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("flotilla-test-ca-\(ProcessInfo.processInfo.processIdentifier)")
        // The CA key never needs to outlive the run; a fresh one per run means no key is ever committed.
        try? FileManager.default.createDirectory(
            at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        do {
            let (ca, _) = try ClusterCAFiles(directory: directory).loadOrCreate()
            return (directory, ca, try ca.hash)
        } catch {
            fatalError("the test CA cannot be made in \(directory.path): \(error)")
        }
    }()

    /// The CA certificate's PEM file: what clients are given as their CA bundle.
    public static var caBundle: String { ClusterCAFiles(directory: made.directory).certificate.path }

    /// `sha256:<hex>` of the CA (what join tokens carry).
    public static var caCertHash: String { made.hash }

    /// Copies the CA (certificate and key, 0600) into a control plane's data directory (created 0700 if missing).
    public static func install(into dataDirectory: URL) throws {
        try FileManager.default.createDirectory(
            at: dataDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let source = ClusterCAFiles(directory: made.directory)
        let target = ClusterCAFiles(directory: dataDirectory)
        for (from, to) in [(source.certificate, target.certificate), (source.privateKey, target.privateKey)] {
            guard !FileManager.default.fileExists(atPath: to.path) else { continue }
            let data = try Data(contentsOf: from)
            guard FileManager.default.createFile(atPath: to.path, contents: data, attributes: [.posixPermissions: 0o600])
            else { throw CocoaError(.fileWriteNoPermission) }
        }
    }

    /// A transport trusting the test CA alone; plain `http://` goes anywhere (agent endpoints in network namespaces
    /// still serve it).
    public static let transport: HTTPTransport = {
        do {
            return try HTTPTransport(trust: .caBundle(path: caBundle), allowsPlainHTTPBeyondLoopback: true)
        } catch {
            fatalError("the test CA bundle cannot be used: \(error)")
        }
    }()
}
