import Crypto
public import Foundation

/// Seals the secrets the store must keep readable (access keys' secrets, which SigV4 needs in the clear to check a
/// signature) with AES-256-GCM under a master key that is not in the database file: `master.key` in the data
/// directory by default (0600), or a file of the operator's choosing (`--master-key-file`, e.g. on a mount the
/// database's backups do not include). A copy of `flotilla.sqlite` alone gives away no secret.
///
/// Each sealed value is bound to its row (the key id as additional authenticated data), so a sealed secret copied
/// onto another row does not open.
public struct SecretBox: Sendable {
    private let key: SymmetricKey

    /// A box with a fresh random key that is never written anywhere (tests, in-memory stores).
    public static func ephemeral() -> SecretBox { SecretBox(key: SymmetricKey(size: .bits256)) }

    private init(key: SymmetricKey) { self.key = key }

    /// Opens the master key at `path`, creating it (32 random bytes, mode 0600) when there is no file yet.
    ///
    /// - Throws: `SecretBox.KeyFileError`, one line naming the file and the problem (wrong size, readable by
    ///   others, unreadable).
    public static func open(keyFile path: String) throws(KeyFileError) -> SecretBox {
        let manager = FileManager.default
        if !manager.fileExists(atPath: path) {
            let key = SymmetricKey(size: .bits256)
            let bytes = key.withUnsafeBytes { Data($0) }
            guard manager.createFile(atPath: path, contents: bytes, attributes: [.posixPermissions: 0o600]) else {
                throw KeyFileError(path: path, problem: "cannot be created")
            }
            return SecretBox(key: key)
        }
        let attributes = try? manager.attributesOfItem(atPath: path)
        if let mode = (attributes?[.posixPermissions] as? NSNumber)?.uint16Value, mode & 0o077 != 0 {
            throw KeyFileError(
                path: path,
                problem: "is readable by others (mode \(String(mode, radix: 8))); chmod 600 it")
        }
        guard let bytes = manager.contents(atPath: path) else {
            throw KeyFileError(path: path, problem: "cannot be read")
        }
        guard bytes.count == 32 else {
            throw KeyFileError(path: path, problem: "must hold 32 bytes, holds \(bytes.count)")
        }
        return SecretBox(key: SymmetricKey(data: bytes))
    }

    /// `secret` sealed for the row `context` (nonce, ciphertext and tag in one value).
    func seal(_ secret: String, context: String) throws -> Data {
        // `combined` is present for the default 12-byte nonce.
        try AES.GCM.seal(Data(secret.utf8), using: key, authenticating: Data(context.utf8)).combined!
    }

    /// The secret `seal(_:context:)` sealed for the same `context` with the same master key.
    func open(_ sealed: Data, context: String) throws -> String {
        let box = try AES.GCM.SealedBox(combined: sealed)
        let plain = try AES.GCM.open(box, using: key, authenticating: Data(context.utf8))
        return String(decoding: plain, as: UTF8.self)
    }

    /// The master key file cannot be used: the file and the problem, as one line for stderr.
    public struct KeyFileError: Error, CustomStringConvertible {
        public var path: String
        public var problem: String
        public var description: String { "\(path): \(problem)" }
    }
}
