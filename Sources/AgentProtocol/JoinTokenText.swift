/// A join token as users hold it: `<id>.<secret>`, and from a control plane serving TLS with its own CA,
/// `<id>.<secret>.sha256:<hex>` — the CA's hash (`CACertificateHash`), so `ecs-agent --join-token-file F` verifies
/// the control plane with nothing else (kubeadm's `--discovery-token-ca-cert-hash`, carried in the token).
///
/// The hash is not secret and the control plane never needs it back: `Register` is sent `<id>.<secret>` alone.
public enum JoinTokenText {
    /// `token` with `caCertHash` appended (unchanged when nil).
    public static func joining(_ token: String, caCertHash: String?) -> String {
        caCertHash.map { "\(token).\($0)" } ?? token
    }

    /// Splits a held token into what `Register` is sent and the CA hash it carries (nil when none).
    public static func split(_ text: String) -> (token: String, caCertHash: String?) {
        guard let range = text.firstRange(of: ".sha256:") else { return (text, nil) }
        return (String(text[..<range.lowerBound]), String(text[text.index(after: range.lowerBound)...]))
    }
}
