/// Where the container's stdout and stderr go.
public struct LogConfiguration: Codable, Hashable, Sendable {
    /// The log driver, e.g. `json-file` or `awslogs`.
    public var logDriver: String
    public var options: [String: String]?
    public var secretOptions: [Secret]?

    public init(logDriver: String, options: [String: String]? = nil, secretOptions: [Secret]? = nil) {
        self.logDriver = logDriver
        self.options = options
        self.secretOptions = secretOptions
    }
}
