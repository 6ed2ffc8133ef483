public import Crypto
import FlotillaDigest
public import Foundation
import SwiftASN1
#if canImport(Glibc)
import Glibc
#endif
public import X509

/// A cluster's certificate authority: an ECDSA P-256 key and its self-signed certificate, which every Flotilla
/// client of the cluster trusts (ecsctl's `--ca-bundle`, the agents through the join token's CA hash).
///
/// It signs the control plane's own server certificate at every start (for the names and addresses it is reached
/// by) and, later, the certificates of the agents' endpoints.
public struct ClusterCA: Sendable {
    public let certificate: Certificate
    let privateKey: P256.Signing.PrivateKey

    /// How long a CA lives: 10 years, as kubeadm's.
    public static let lifetime: TimeInterval = 10 * 365 * 86_400
    /// How long a server certificate lives: one year; the control plane issues a new one at every start.
    public static let serverCertificateLifetime: TimeInterval = 365 * 86_400

    /// A new CA named `commonName`, valid from an hour before `now` (clock skew between hosts) for `lifetime`.
    public static func create(commonName: String = "flotilla-cluster-ca", now: Date = Date()) throws -> ClusterCA {
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName {
            OrganizationName("Flotilla")
            CommonName(commonName)
        }
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(lifetime),
            issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            },
            issuerPrivateKey: .init(key))
        return ClusterCA(certificate: certificate, privateKey: key)
    }

    /// The CA from its PEM certificate and PEM (PKCS#8 or SEC1) private key; throws when they do not belong together.
    public init(certificatePEM: String, privateKeyPEM: String) throws {
        let certificate = try Certificate(pemEncoded: certificatePEM)
        let key = try P256.Signing.PrivateKey(pemRepresentation: privateKeyPEM)
        guard Certificate.PublicKey(key.publicKey) == certificate.publicKey else {
            throw ClusterPKIError.keyMismatch
        }
        self.init(certificate: certificate, privateKey: key)
    }

    init(certificate: Certificate, privateKey: P256.Signing.PrivateKey) {
        self.certificate = certificate
        self.privateKey = privateKey
    }

    /// The CA certificate as PEM, ending with a newline (so PEM texts concatenate): what clients put in their CA
    /// bundle.
    public var certificatePEM: String {
        get throws { try certificate.serializeAsPEM().pemString + "\n" }
    }

    /// The CA's private key as PEM (PKCS#8). Only the CA's own files hold it (0600).
    public var privateKeyPEM: String { privateKey.pemRepresentation + "\n" }

    /// `sha256:<hex>` of the CA's SubjectPublicKeyInfo (`CACertificateHash`): what join tokens carry.
    public var hash: String {
        get throws {
            var serializer = DER.Serializer()
            try serializer.serialize(certificate.publicKey)
            return CACertificateHash.of(subjectPublicKeyInfo: serializer.serializedBytes)
        }
    }

    /// A server certificate for `names` (DNS names and IP addresses, v4 or v6) with a new P-256 key, signed by this
    /// CA, valid from an hour before `now` for `lifetime`.
    public func issueServerCertificate(
        names: [String], now: Date = Date(), lifetime: TimeInterval = ClusterCA.serverCertificateLifetime
    ) throws -> IssuedCertificate {
        let key = P256.Signing.PrivateKey()
        var alternativeNames: [GeneralName] = []
        for name in Set(names).sorted() where !name.isEmpty {
            if let address = IPAddressBytes(name) {
                alternativeNames.append(.ipAddress(ASN1OctetString(contentBytes: ArraySlice(address.bytes))))
            } else {
                alternativeNames.append(.dnsName(name))
            }
        }
        let subject = try DistinguishedName {
            OrganizationName("Flotilla")
            CommonName(names.first ?? "flotilla")
        }
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(lifetime),
            issuer: self.certificate.subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames(alternativeNames)
            },
            issuerPrivateKey: .init(privateKey))
        return IssuedCertificate(
            certificatePEM: try certificate.serializeAsPEM().pemString + "\n", privateKeyPEM: key.pemRepresentation + "\n")
    }
}

/// A certificate this CA issued and its private key, both PEM.
public struct IssuedCertificate: Sendable, Hashable {
    public var certificatePEM: String
    public var privateKeyPEM: String
}

/// Why a CA or certificate could not be used.
public enum ClusterPKIError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The private key is not the one of the certificate.
    case keyMismatch
    /// A file of the CA could not be read or written.
    case file(path: String, problem: String)

    public var description: String {
        switch self {
        case .keyMismatch: "the CA's private key does not belong to its certificate"
        case .file(let path, let problem): "\(path): \(problem)"
        }
    }
}

/// The network-order bytes of a literal IPv4 or IPv6 address, for an iPAddress SAN.
struct IPAddressBytes {
    var bytes: [UInt8]

    init?(_ text: String) {
        let text = text.hasPrefix("[") && text.hasSuffix("]") ? String(text.dropFirst().dropLast()) : text
        var v4 = in_addr()
        var v6 = in6_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            bytes = withUnsafeBytes(of: &v4) { Array($0) }
        } else if inet_pton(AF_INET6, text, &v6) == 1 {
            bytes = withUnsafeBytes(of: &v6) { Array($0) }
        } else {
            return nil
        }
    }
}
