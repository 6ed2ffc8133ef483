public import Foundation

/// Why the HTTP transport got no answer: each case's `description` is one line naming the problem.
public enum HTTPTransportError: Error, Hashable, Sendable, CustomStringConvertible {
    /// No connection: refused, unknown host, connect timeout.
    case unreachable(String)
    /// The server's certificate chain does not lead to a CA the client trusts (`trustSource` says which).
    case untrustedCertificate(trustSource: String)
    /// The certificate is valid but not for the host or address the client connected to.
    case wrongHost(String)
    /// Another TLS failure (protocol version, handshake aborted).
    case tls(String)
    /// No whole answer within the request's timeout.
    case timedOut
    /// The answer's body was larger than the transport takes.
    case responseTooLarge(limit: Int)
    /// The server closed the connection before its answer was complete.
    case connectionClosed
    /// `http://` to an address beyond loopback: the request would travel in clear text.
    case plainHTTPRefused(host: String)
    /// The URL is not `http(s)://host[:port]/...`.
    case invalidURL(String)
    /// The CA bundle could not be used.
    case caBundle(path: String, problem: String)
    /// No certificate of the server's chain has the expected CA hash.
    case caHashMismatch(expected: String)

    public var description: String {
        switch self {
        case .unreachable(let reason): reason
        case .untrustedCertificate(let source): "the server's certificate is not signed by \(source)"
        case .wrongHost(let host): "the server's certificate is not issued for \(host)"
        case .tls(let reason): "TLS failed: \(reason)"
        case .timedOut: "timed out"
        case .responseTooLarge(let limit): "the answer is larger than \(limit) bytes"
        case .connectionClosed: "the connection was closed before an answer came"
        case .plainHTTPRefused(let host):
            "refusing plain http:// to \(host), which is not loopback: use https://"
        case .invalidURL(let url): "\(url) is not an http:// or https:// URL with a host"
        case .caBundle(let path, let problem): "the CA bundle \(path): \(problem)"
        case .caHashMismatch(let expected):
            "the server's certificate chain has no CA with the hash \(expected) (wrong control plane, or a wrong or stale join token)"
        }
    }
}
