public import Foundation

/// Why credentials or a region could not be resolved; `description` is one line naming the file or variable.
public enum AWSProfileError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A profile named by `--profile` or `AWS_PROFILE`/`AWS_DEFAULT_PROFILE` is in neither file.
    case profileNotFound(String)
    /// A credentials or config file that does not parse.
    case malformedFile(path: String, line: Int, problem: String)
    /// An access key without its secret (or the reverse), in the environment or a file.
    case partialCredentials(source: String, missing: String)

    /// The AWS CLI's words where it has them.
    public var description: String {
        switch self {
        case .profileNotFound(let name): "The config profile (\(name)) could not be found"
        case .malformedFile(let path, let line, let problem):
            "Unable to parse config file: \(path), line \(line): \(problem)"
        case .partialCredentials(let source, let missing): "Partial credentials found in \(source), missing: \(missing)"
        }
    }
}

/// Resolves credentials and a region the way the AWS CLI does, from inputs only (environment and a file reader).
public struct AWSProfileResolver {
    /// Resolves credentials and region as the AWS CLI does.
    ///
    /// Credentials: an explicit `profile` (`--profile`) wins and ignores the environment's keys; else
    /// `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` (and `AWS_SESSION_TOKEN`); else the profile named by `AWS_PROFILE`
    /// (or `AWS_DEFAULT_PROFILE`, or `default`) from the shared credentials file (`AWS_SHARED_CREDENTIALS_FILE` or
    /// `~/.aws/credentials`, sections `[name]`) and then the config file (`AWS_CONFIG_FILE` or `~/.aws/config`,
    /// sections `[profile name]`, and `[default]` or `[profile default]`). Region: `AWS_REGION`,
    /// `AWS_DEFAULT_REGION`, then the profile's `region` in the config file.
    ///
    /// A profile that was named (explicitly or by the environment) but is in neither file throws
    /// `.profileNotFound`; a missing `default` is no error (nil credentials). `readFile` answers nil for a file that
    /// does not exist; `~` is `HOME` from `environment`.
    public static func resolve(
        profile: String?, environment: [String: String], readFile: (String) -> Data?
    ) throws(AWSProfileError) -> (credentials: AWSCredentials?, region: String?) {
        let namedProfile =
            nonEmpty(profile) ?? nonEmpty(environment["AWS_PROFILE"])
            ?? nonEmpty(environment["AWS_DEFAULT_PROFILE"])
        let profileName = namedProfile ?? "default"
        let home = environment["HOME"]
        func load(_ variable: String, _ fallback: String) throws(AWSProfileError) -> AWSConfigFile? {
            guard let path = expand(nonEmpty(environment[variable]) ?? fallback, home: home),
                let data = readFile(path)
            else { return nil }
            return try AWSConfigFile(parsing: String(decoding: data, as: UTF8.self), path: path)
        }
        let credentialsFile = try load("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials")
        let configFile = try load("AWS_CONFIG_FILE", "~/.aws/config")
        let credentialsSection = credentialsFile?.sections[profileName]
        let configSection =
            configFile?.sections["profile \(profileName)"]
            ?? (profileName == "default" ? configFile?.sections["default"] : nil)
        if namedProfile != nil && credentialsSection == nil && configSection == nil {
            throw .profileNotFound(profileName)
        }
        let region =
            nonEmpty(environment["AWS_REGION"]) ?? nonEmpty(environment["AWS_DEFAULT_REGION"])
            ?? nonEmpty(configSection?["region"])

        if nonEmpty(profile) == nil,
            let credentials = try keys(
                from: environment, accessKey: "AWS_ACCESS_KEY_ID", secretKey: "AWS_SECRET_ACCESS_KEY",
                token: "AWS_SESSION_TOKEN", source: "env")
        {
            return (credentials, region)
        }
        for (section, source) in [(credentialsSection, "shared-credentials-file"), (configSection, "config-file")] {
            if let section,
                let credentials = try keys(
                    from: section, accessKey: "aws_access_key_id", secretKey: "aws_secret_access_key",
                    token: "aws_session_token", source: source)
            {
                return (credentials, region)
            }
        }
        return (nil, region)
    }

    /// The CA bundle as the AWS CLI finds it (the `--ca-bundle` flag is the caller's): `AWS_CA_BUNDLE`, else the
    /// `ca_bundle` of the profile (chosen as `resolve` chooses it) in the config file; `~` expanded; nil for none.
    public static func caBundle(
        profile: String?, environment: [String: String], readFile: (String) -> Data?
    ) throws(AWSProfileError) -> String? {
        let home = environment["HOME"]
        if let path = nonEmpty(environment["AWS_CA_BUNDLE"]) { return expand(path, home: home) ?? path }
        let profileName =
            nonEmpty(profile) ?? nonEmpty(environment["AWS_PROFILE"]) ?? nonEmpty(environment["AWS_DEFAULT_PROFILE"])
            ?? "default"
        guard let path = expand(nonEmpty(environment["AWS_CONFIG_FILE"]) ?? "~/.aws/config", home: home),
            let data = readFile(path)
        else { return nil }
        let file = try AWSConfigFile(parsing: String(decoding: data, as: UTF8.self), path: path)
        let section =
            file.sections["profile \(profileName)"] ?? (profileName == "default" ? file.sections["default"] : nil)
        return nonEmpty(section?["ca_bundle"]).map { expand($0, home: home) ?? $0 }
    }

    private static func keys(
        from values: [String: String], accessKey: String, secretKey: String, token: String, source: String
    ) throws(AWSProfileError) -> AWSCredentials? {
        let id = nonEmpty(values[accessKey])
        let secret = nonEmpty(values[secretKey])
        switch (id, secret) {
        case (nil, nil): return nil
        case (nil, _): throw .partialCredentials(source: source, missing: accessKey)
        case (_, nil): throw .partialCredentials(source: source, missing: secretKey)
        case (let id?, let secret?):
            return AWSCredentials(accessKeyID: id, secretAccessKey: secret, sessionToken: nonEmpty(values[token]))
        }
    }

    private static func expand(_ path: String, home: String?) -> String? {
        guard path.hasPrefix("~/") || path == "~" else { return path }
        guard let home, !home.isEmpty else { return nil }
        return home + path.dropFirst()
    }

    private static func nonEmpty(_ value: String?) -> String? {
        guard let value, !value.isEmpty else { return nil }
        return value
    }
}

/// Writes one profile's keys into the text of a shared credentials file.
public enum AWSCredentialsFile {
    /// `existing` with the section `[profile]` holding `credentials`: its `aws_access_key_id`,
    /// `aws_secret_access_key` and `aws_session_token` replaced (the token line removed when `credentials` has
    /// none) or added after the section's last key; the section appended when there is none. Every other line
    /// (other profiles, other keys, comments) is kept as it was.
    /// - Important: the file holds secrets. A caller that creates it must create it with mode 0600 (and its
    ///   directory 0700), as the AWS CLI does; one that rewrites it keeps its mode.
    public static func upserting(profile: String, credentials: AWSCredentials, into existing: String) -> String {
        var wanted: [(key: String, value: String?)] = [
            ("aws_access_key_id", credentials.accessKeyID),
            ("aws_secret_access_key", credentials.secretAccessKey),
            ("aws_session_token", credentials.sessionToken),
        ]
        var lines = existing.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).map(String.init)
        if lines.last == "" { lines.removeLast() }
        func sectionName(_ line: String) -> String? {
            let trimmed = line.trimmingWhitespace()
            guard trimmed.hasPrefix("["), trimmed.hasSuffix("]"), trimmed.count >= 2 else { return nil }
            return String(trimmed.dropFirst().dropLast()).trimmingWhitespace()
        }
        guard let header = lines.firstIndex(where: { sectionName($0) == profile }) else {
            if !lines.isEmpty && lines.last?.trimmingWhitespace().isEmpty == false { lines.append("") }
            lines.append("[\(profile)]")
            lines += wanted.compactMap { entry in entry.value.map { "\(entry.key) = \($0)" } }
            return lines.joined(separator: "\n") + "\n"
        }
        var end = lines[(header + 1)...].firstIndex(where: { sectionName($0) != nil }) ?? lines.endIndex
        var index = header + 1
        var lastKeyLine = header
        while index < end {
            let trimmed = lines[index].trimmingWhitespace()
            let key = trimmed.firstIndex(where: { $0 == "=" || $0 == ":" }).map {
                String(trimmed[..<$0]).trimmingWhitespace().lowercased()
            }
            if !trimmed.hasPrefix("#"), !trimmed.hasPrefix(";"), let key,
                let slot = wanted.firstIndex(where: { $0.key == key })
            {
                if let value = wanted[slot].value {
                    lines[index] = "\(key) = \(value)"
                    lastKeyLine = index
                    index += 1
                } else {
                    lines.remove(at: index)
                    end -= 1
                }
                wanted.remove(at: slot)
                continue
            }
            if !trimmed.isEmpty && !trimmed.hasPrefix("#") && !trimmed.hasPrefix(";") { lastKeyLine = index }
            index += 1
        }
        let added = wanted.compactMap { entry in entry.value.map { "\(entry.key) = \($0)" } }
        lines.insert(contentsOf: added, at: lastKeyLine + 1)
        return lines.joined(separator: "\n") + "\n"
    }
}
