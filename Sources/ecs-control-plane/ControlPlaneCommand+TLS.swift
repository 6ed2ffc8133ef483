import ClusterPKI
import ControlPlane
import Foundation
import HTTPServerLimits
import Logging
import NIOSSL

extension ControlPlaneCommand {
    /// The API's TLS context: from `--tls-cert`/`--tls-key`, or from the data directory's cluster CA (created on the
    /// first start, logged once with its hash), which issues this start's server certificate; nil with
    /// `--insecure-plain-http` (logged loudly). Sets the configuration's scheme and the CA hash join tokens carry.
    func serverTLS(configuration: inout ControlPlaneConfiguration, logger: Logger) throws -> NIOSSLContext? {
        if insecurePlainHttp {
            logger.warning(
                "INSECURE: --insecure-plain-http: the API is plain HTTP on \(listen); keys' signatures travel in clear text and no client can verify this server"
            )
            return nil
        }
        configuration.servesTLS = true
        if !tlsCert.isEmpty {
            logger.info("serving TLS with the given certificate", metadata: ["tls.certificate": "\(tlsCert)"])
            return try ServerTLS.context(certificateFile: tlsCert, privateKeyFile: tlsKey)
        }
        let files = ClusterCAFiles(directory: configuration.dataDirectory)
        try FileManager.default.createDirectory(
            at: configuration.dataDirectory, withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700])
        let (ca, created) = try files.loadOrCreate()
        let hash = try ca.hash
        configuration.caCertificateHash = hash
        var extra = tlsSan
        if !advertiseUrl.isEmpty, let host = URL(string: advertiseUrl)?.host { extra.append(host) }
        let names = ServerNames.forListener(host: configuration.host, extra: extra)
        let server = try files.writeServerCertificate(from: ca, names: names)
        if created {
            logger.notice(
                "cluster CA created; clients trust it with ecsctl --ca-bundle \(files.certificate.path) (or AWS_CA_BUNDLE), agents through the CA hash their join tokens carry",
                metadata: ["tls.ca": "\(files.certificate.path)", "tls.ca.hash": "\(hash)"])
        } else {
            logger.info(
                "serving TLS from the cluster CA",
                metadata: ["tls.ca": "\(files.certificate.path)", "tls.ca.hash": "\(hash)"])
        }
        logger.debug("server certificate issued", metadata: ["tls.names": "\(names.joined(separator: ","))"])
        return try ServerTLS.context(certificateFile: server.certificate.path, privateKeyFile: server.privateKey.path)
    }
}
