/// Which certificate authorities an `HTTPTransport` trusts for `https://`.
public enum TLSTrust: Sendable, Hashable {
    /// The system's trust store (`/etc/ssl/certs`): for endpoints with publicly issued certificates.
    case system
    /// Only the CAs of a PEM file: ecsctl's `--ca-bundle`, `AWS_CA_BUNDLE` or a profile's `ca_bundle`; the agent's
    /// stored copy of its cluster's CA.
    case caBundle(path: String)

    /// How error messages name it.
    var source: String {
        switch self {
        case .system: "a CA of the system's trust store (give the cluster's CA with --ca-bundle or AWS_CA_BUNDLE)"
        case .caBundle(let path): "the CA in the CA bundle \(path)"
        }
    }
}
