import ArgumentParser
import FlotillaClient
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import SigV4
import TaskDefinitions

/// `ecsctl create-access-key`: a new key for a person or a daemon. Its secret is shown this once; `--profile-out`
/// writes it as a profile of `~/.aws/credentials` (mode 0600) instead of printing it, ready for `--profile`.
struct CreateAccessKey: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create-access-key",
        abstract: "Creates an access key (admin, read-only or agent) and prints its id and secret (shown only now).")

    @OptionGroup var global: GlobalOptions

    @Option(help: "A name for the key: 1 to 64 letters, digits or +=,.@_- characters, unique.")
    var name: String

    @Option(help: "admin (everything), read-only (describe and list) or agent (the agent protocol and balancers).")
    var scope: String = "admin"

    @Option(
        help:
            "Write the key to this profile of the AWS shared credentials file (AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials) instead of printing the secret."
    )
    var profileOut: String?

    func run() async throws {
        let configuration = try global.configuration()
        // Where the profile goes is checked before the key exists: no key is made that cannot be written down.
        let file = try profileOut.map { _ in try CredentialsFileWriter.path() }
        let answer = try await global.client(configuration)
            .call(.createAccessKey, .object(["name": .string(name), "scope": .string(scope)]))
        let key = answer["accessKey"] ?? .null
        guard let profileOut, let file else {
            global.emit(answer) { _ in
                """
                AccessKeyId:     \(key["accessKeyId"]?.stringValue ?? "")
                SecretAccessKey: \(key["secretAccessKey"]?.stringValue ?? "")
                Scope:           \(key["scope"]?.stringValue ?? "")

                """
            }
            return
        }
        let credentials = AWSCredentials(
            accessKeyID: key["accessKeyId"]?.stringValue ?? "", secretAccessKey: key["secretAccessKey"]?.stringValue ?? "")
        try CredentialsFileWriter.upsert(profile: profileOut, credentials: credentials, at: file)
        print("\(credentials.accessKeyID) written to \(file) as profile \(profileOut)")
    }
}

/// `ecsctl list-access-keys`: every key with its scope (never a secret).
struct ListAccessKeys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list-access-keys", abstract: "Lists the access keys, their names and scopes (no secrets).")

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let configuration = try global.configuration()
        let answer = try await global.client(configuration).call(.listAccessKeys)
        global.emit(answer) { answer in
            var table = TextTable(headers: ["ACCESS KEY ID", "NAME", "SCOPE", "INSTANCE", "CREATED"])
            for key in answer["accessKeys"]?.arrayValue ?? [] {
                table.append([
                    key["accessKeyId"]?.stringValue ?? "", key["name"]?.stringValue ?? "",
                    key["scope"]?.stringValue ?? "", ECSText.shortName(key["containerInstanceArn"]?.stringValue ?? ""),
                    ECSText.timestamp(key["createDate"]),
                ])
            }
            return table.render()
        }
    }
}

/// `ecsctl delete-access-key`: the key is refused from the next call on.
struct DeleteAccessKey: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete-access-key", abstract: "Deletes an access key; calls signed with it are refused at once.")

    @OptionGroup var global: GlobalOptions

    @Option(help: "The access key id (from list-access-keys).")
    var accessKeyId: String

    func run() async throws {
        let configuration = try global.configuration()
        let answer = try await global.client(configuration)
            .call(.deleteAccessKey, .object(["accessKeyId": .string(accessKeyId)]))
        global.emit(answer) { "\($0["accessKey"]?["accessKeyId"]?.stringValue ?? "") deleted\n" }
    }
}

/// Adds or replaces one profile of the AWS shared credentials file, keeping the rest; the file stays 0600.
enum CredentialsFileWriter {
    /// The shared credentials file (`AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/credentials`): a regular file or none.
    static func path() throws -> String {
        let environment = ProcessInfo.processInfo.environment
        let path =
            environment["AWS_SHARED_CREDENTIALS_FILE"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (environment["HOME"] ?? NSHomeDirectory()) + "/.aws/credentials"
        var status = stat()
        if lstat(path, &status) == 0, status.st_mode & S_IFMT != S_IFREG {
            throw ValidationError("--profile-out: \(path) is not a regular file; set AWS_SHARED_CREDENTIALS_FILE to one")
        }
        return path
    }

    /// Writes `credentials` as `profile` into the file at `path` (a temporary file renamed over it, mode 0600).
    static func upsert(profile: String, credentials: AWSCredentials, at path: String) throws {
        let existing = FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) } ?? ""
        let text = AWSCredentialsFile.upserting(profile: profile, credentials: credentials, into: existing)
        let directory = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let temporary = path + ".tmp"
        guard
            FileManager.default.createFile(
                atPath: temporary, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600])
        else {
            throw ValidationError("--profile-out: cannot write \(temporary)")
        }
        guard rename(temporary, path) == 0 else {
            throw ValidationError("--profile-out: cannot replace \(path): \(String(cString: strerror(errno)))")
        }
    }
}
