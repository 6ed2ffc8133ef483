/// The hash that names a cluster CA the way kubeadm's `--discovery-token-ca-cert-hash` does: `sha256:<64 hex>` of the
/// DER SubjectPublicKeyInfo of the CA certificate (the key, not the certificate: a CA re-signed with the same key
/// keeps its hash).
///
/// Join tokens carry it; an agent trusts the first chain whose CA has this hash, then stores that CA. One home for the
/// format: the control plane computes it with swift-certificates, the clients with swift-nio-ssl, both through here.
public enum CACertificateHash {
    /// `sha256:<hex>` of `subjectPublicKeyInfo` (DER).
    public static func of(subjectPublicKeyInfo: some Collection<UInt8>) -> String {
        SHA256.digest(subjectPublicKeyInfo)
    }

    /// Whether `text` is `sha256:` followed by 64 lowercase hex digits.
    public static func isValid(_ text: some StringProtocol) -> Bool {
        guard text.hasPrefix("sha256:") else { return false }
        let hex = text.dropFirst("sha256:".count)
        return hex.utf8.count == 64 && hex.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }
}
