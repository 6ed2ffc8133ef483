import ClusterPKI
import Foundation
import SwiftASN1
import Testing
import X509

@Suite(.timeLimit(.minutes(10)))
struct ClusterCATests {
    @Test func aServerCertificateIsSignedByTheCAForItsNamesAndAddresses() throws {
        // Given a new CA
        let ca = try ClusterCA.create()
        // When it issues a server certificate for a name, an IPv4 and an IPv6 address
        let issued = try ca.issueServerCertificate(names: ["cp.example", "10.1.2.3", "::1"])
        let certificate = try Certificate(pemEncoded: issued.certificatePEM)
        // Then the CA signed it, it is no CA itself, and its alternative names are those three
        #expect(certificate.issuer == ca.certificate.subject)
        #expect(ca.certificate.publicKey.isValidSignature(certificate.signature, for: certificate))
        #expect(try certificate.extensions.basicConstraints == .notCertificateAuthority)
        let names = try #require(try certificate.extensions.subjectAlternativeNames)
        #expect(names.contains(.dnsName("cp.example")))
        #expect(names.contains(.ipAddress(ASN1OctetString(contentBytes: [10, 1, 2, 3]))))
        #expect(names.contains(.ipAddress(ASN1OctetString(contentBytes: ArraySlice([UInt8](repeating: 0, count: 15) + [1])))))
        #expect(try ca.certificate.extensions.basicConstraints == .isCertificateAuthority(maxPathLength: 0))
    }

    @Test func theCAIsWrittenOnceKeptAcrossLoadsAndItsHashIsOfItsKey() throws {
        // Given an empty directory
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cluster-ca-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let files = ClusterCAFiles(directory: directory)
        // When the CA is loaded twice
        let first = try files.loadOrCreate()
        let second = try files.loadOrCreate()
        // Then it was created once, both are the same CA, the files are 0600, and the hash is sha256:<64 hex>
        #expect(first.created && !second.created)
        #expect(try first.ca.hash == second.ca.hash)
        #expect(try first.ca.hash.hasPrefix("sha256:") && first.ca.hash.count == 7 + 64)
        for url in [files.certificate, files.privateKey] {
            let mode = try FileManager.default.attributesOfItem(atPath: url.path)[.posixPermissions] as? NSNumber
            #expect(mode?.intValue == 0o600, "\(url.lastPathComponent)")
        }
        // And another CA's key with this certificate is refused
        #expect(throws: ClusterPKIError.keyMismatch) {
            try ClusterCA(certificatePEM: try first.ca.certificatePEM, privateKeyPEM: try ClusterCA.create().privateKeyPEM)
        }
    }
}

extension ClusterCATests {
    @Test func theServerChainFileHoldsTheServerCertificateThenTheCA() throws {
        // Given a CA in a directory
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cluster-ca-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let files = ClusterCAFiles(directory: directory)
        let (ca, _) = try files.loadOrCreate()
        // When it writes a server certificate
        let written = try files.writeServerCertificate(from: ca, names: ["localhost"])
        // Then the file is two whole PEM certificates, the server's first and the CA's second
        let text = try String(contentsOf: written.certificate, encoding: .utf8)
        let certificates = try text.components(separatedBy: "-----END CERTIFICATE-----\n").filter { !$0.isEmpty }
            .map { try Certificate(pemEncoded: $0 + "-----END CERTIFICATE-----") }
        #expect(certificates.count == 2)
        #expect(certificates.last == ca.certificate)
        #expect(certificates.first?.issuer == ca.certificate.subject)
    }
}
