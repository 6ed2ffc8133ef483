import FlotillaDigest
public import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

extension HTTPTransport {
    /// The CA certificate (PEM) in the chain `url`'s server presents whose hash (`CACertificateHash`) is `caCertHash`:
    /// how an agent that holds only its join token learns to trust its control plane, as `kubeadm join` does with
    /// `--discovery-token-ca-cert-hash`.
    ///
    /// The TLS handshake is ended by the client as soon as it has seen the chain: nothing is sent to the server.
    /// The CA found is trusted for being the one the token names; the caller then makes an `HTTPTransport` that
    /// trusts it alone (`.caBundle`), whose connections verify the server's certificate and name against it as any.
    /// - Throws: `caHashMismatch` when no certificate of the chain has the hash; `unreachable` or `tls` when there
    ///   is no chain to look at.
    public static func discoverCA(
        at url: URL, caCertHash: String, timeout: Duration = .seconds(10)
    ) async throws(HTTPTransportError) -> String {
        guard let endpoint = Endpoint(url), endpoint.isTLS else { throw .invalidURL(url.absoluteString) }
        let seen = Mutex<[NIOSSLCertificate]?>(nil)
        let context: NIOSSLContext
        do {
            context = try NIOSSLContext(configuration: .makeClientConfiguration())
        } catch {
            throw .tls("cannot set up TLS: \(error)")
        }
        let serverName = endpoint.isAddress ? nil : endpoint.host
        do {
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(TimeAmount(timeout))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            NIOSSLClientHandler(
                                context: context, serverHostname: serverName,
                                customVerificationCallback: { chain, promise in
                                    seen.withLock { $0 = chain }
                                    promise.succeed(.failed)
                                }))
                    }
                }
                .connect(host: endpoint.host, port: endpoint.port).get()
            // The handshake fails at the callback and closes the channel; bounded by `timeout` in case it does not.
            let closed = channel.closeFuture
            let guardTask = channel.eventLoop.scheduleTask(in: TimeAmount(timeout)) { channel.close(promise: nil) }
            try? await closed.get()
            guardTask.cancel()
        } catch {
            throw HTTPTransportError.from(error)
        }
        guard let chain = seen.withLock({ $0 }), !chain.isEmpty else {
            throw .tls("the server at \(endpoint.authority) presented no certificate")
        }
        for certificate in chain {
            guard let spki = try? certificate.extractPublicKey().toSPKIBytes(),
                CACertificateHash.of(subjectPublicKeyInfo: spki) == caCertHash,
                let der = try? certificate.toDERBytes()
            else { continue }
            return pem(der: der)
        }
        throw .caHashMismatch(expected: caCertHash)
    }

    /// A DER certificate as PEM text.
    static func pem(der: [UInt8]) -> String {
        let base64 = Data(der).base64EncodedString()
        var lines = ["-----BEGIN CERTIFICATE-----"]
        var index = base64.startIndex
        while index < base64.endIndex {
            let end = base64.index(index, offsetBy: 64, limitedBy: base64.endIndex) ?? base64.endIndex
            lines.append(String(base64[index..<end]))
            index = end
        }
        lines.append("-----END CERTIFICATE-----")
        return lines.joined(separator: "\n") + "\n"
    }
}

extension HTTPTransport {
    /// The hash (`CACertificateHash`) of the first certificate of a PEM file; nil when it holds none.
    public static func caCertHash(ofPEMFile path: String) -> String? {
        guard let first = try? certificates(inBundle: path).first,
            let spki = try? first.extractPublicKey().toSPKIBytes()
        else { return nil }
        return CACertificateHash.of(subjectPublicKeyInfo: spki)
    }
}
