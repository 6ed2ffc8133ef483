/// An image in the store: its manifest digest, the names it answers to, its config and its unpacked layers.
public struct ImageRecord: Codable, Hashable, Sendable {
    /// The manifest digest, `sha256:…`.
    public var digest: String
    /// Fully qualified `name:tag` references, e.g. `flotilla/busybox:1`.
    public var references: [String]
    /// The parts of the image config a container needs.
    public var config: ImageConfig
    /// Unpacked layer directories, lowest (base) first; absolute paths; overlayfs lowerdirs, read-only use.
    public var layerDirectories: [String]

    public init(digest: String, references: [String], config: ImageConfig, layerDirectories: [String]) {
        self.digest = digest
        self.references = references
        self.config = config
        self.layerDirectories = layerDirectories
    }
}

/// The runtime part of an OCI image config (`config` object): what a container starts with by default.
public struct ImageConfig: Codable, Hashable, Sendable {
    /// `KEY=value` entries, in image order.
    public var env: [String]
    public var entrypoint: [String]?
    public var cmd: [String]?
    public var workingDir: String?
    public var user: String?
    /// `port/protocol`, e.g. `80/tcp`, sorted.
    public var exposedPorts: [String]

    public init(
        env: [String] = [], entrypoint: [String]? = nil, cmd: [String]? = nil,
        workingDir: String? = nil, user: String? = nil, exposedPorts: [String] = []
    ) {
        self.env = env
        self.entrypoint = entrypoint
        self.cmd = cmd
        self.workingDir = workingDir
        self.user = user
        self.exposedPorts = exposedPorts
    }
}

/// What to exec in a container: the image config merged with the container definition.
public struct ProcessSettings: Hashable, Sendable {
    /// argv; `arguments[0]` is the program.
    public var arguments: [String]
    /// `KEY=value` entries.
    public var environment: [String]
    /// Absolute path inside the container.
    public var workingDirectory: String
    /// `user`, `uid`, `user:group` or `uid:gid`, as Docker accepts; nil = root.
    public var user: String?

    public init(arguments: [String], environment: [String], workingDirectory: String, user: String?) {
        self.arguments = arguments
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.user = user
    }
}

extension ImageConfig {
    /// The PATH Docker gives a container whose image sets none.
    public static let defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    /// Merges the image config with a container definition the way Docker does.
    ///
    /// - `entryPoint` replaces the image's Entrypoint, and also drops the image's Cmd (Docker resets Cmd when the
    ///   entrypoint is overridden); `command` replaces the image's Cmd. argv = entrypoint + cmd.
    /// - Environment is merged by key: the image's entries in image order, each replaced by the definition's value
    ///   for the same key; then the definition's new keys, sorted. PATH defaults to ``defaultPath``.
    /// - `workingDirectory` and `user` replace the image's; the working directory defaults to `/`.
    public func merged(
        entryPoint: [String]?, command: [String]?, environment: [String: String],
        workingDirectory: String?, user: String?
    ) -> ProcessSettings {
        let effectiveEntrypoint = entryPoint ?? self.entrypoint ?? []
        let effectiveCommand = command ?? (entryPoint == nil ? self.cmd ?? [] : [])

        var merged: [String] = []
        var seen: Set<String> = []
        for entry in env {
            let key = String(entry.prefix { $0 != "=" })
            guard !seen.contains(key) else { continue }
            seen.insert(key)
            if let value = environment[key] { merged.append("\(key)=\(value)") } else { merged.append(entry) }
        }
        for key in environment.keys.sorted() where !seen.contains(key) {
            seen.insert(key)
            merged.append("\(key)=\(environment[key]!)")
        }
        if !seen.contains("PATH") { merged.insert("PATH=\(Self.defaultPath)", at: 0) }

        let directory = [workingDirectory, self.workingDir].compactMap { $0 }.first { !$0.isEmpty } ?? "/"
        let effectiveUser = [user, self.user].compactMap { $0 }.first { !$0.isEmpty }
        return ProcessSettings(
            arguments: effectiveEntrypoint + effectiveCommand, environment: merged,
            workingDirectory: directory, user: effectiveUser)
    }
}
