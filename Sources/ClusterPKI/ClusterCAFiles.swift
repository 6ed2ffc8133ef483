public import Foundation

/// Where a control plane keeps its CA and server certificate, in its data directory (0700), each file 0600:
/// `ca.pem` (the CA certificate, what clients trust), `ca-key.pem` (its key), `server.pem` (the server certificate
/// followed by the CA's, so a client that knows only the CA's hash finds the CA in the chain) and `server-key.pem`.
public struct ClusterCAFiles: Sendable {
    public let directory: URL

    public init(directory: URL) {
        self.directory = directory
    }

    public var certificate: URL { directory.appendingPathComponent("ca.pem") }
    public var privateKey: URL { directory.appendingPathComponent("ca-key.pem") }
    public var serverCertificate: URL { directory.appendingPathComponent("server.pem") }
    public var serverPrivateKey: URL { directory.appendingPathComponent("server-key.pem") }

    /// The CA of the data directory, created (and written) when there is none yet; `created` says which.
    ///
    /// An operator may put a CA of their own (`ca.pem` and `ca-key.pem`, P-256) there before the first start.
    public func loadOrCreate(now: Date = Date()) throws -> (ca: ClusterCA, created: Bool) {
        let manager = FileManager.default
        if manager.fileExists(atPath: certificate.path) || manager.fileExists(atPath: privateKey.path) {
            return (try ClusterCA(certificatePEM: read(certificate), privateKeyPEM: read(privateKey)), false)
        }
        let ca = try ClusterCA.create(now: now)
        // The key first: a certificate without its key would make the next start fail, not make a new CA.
        try write(ca.privateKeyPEM, to: privateKey)
        try write(try ca.certificatePEM, to: certificate)
        return (ca, true)
    }

    /// Issues a server certificate for `names` from `ca` and writes it (with the CA's certificate after it) and its
    /// key; answers the paths.
    public func writeServerCertificate(
        from ca: ClusterCA, names: [String], now: Date = Date()
    ) throws -> (certificate: URL, privateKey: URL) {
        let issued = try ca.issueServerCertificate(names: names, now: now)
        try write(issued.privateKeyPEM, to: serverPrivateKey)
        try write(issued.certificatePEM + (try ca.certificatePEM), to: serverCertificate)
        return (serverCertificate, serverPrivateKey)
    }

    private func read(_ url: URL) throws -> String {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw ClusterPKIError.file(path: url.path, problem: "cannot be read")
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// Replaces `url` with `text`, created 0600 (never readable by others, not even for an instant).
    private func write(_ text: String, to url: URL) throws {
        try? FileManager.default.removeItem(at: url)
        guard
            FileManager.default.createFile(
                atPath: url.path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600])
        else {
            throw ClusterPKIError.file(path: url.path, problem: "cannot be written")
        }
    }
}
