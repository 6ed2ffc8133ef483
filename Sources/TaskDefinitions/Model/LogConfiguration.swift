/// Where the container's stdout and stderr go.
public struct LogConfiguration: Codable, Hashable, Sendable {
    /// The log driver, e.g. `json-file` or `awslogs`.
    public var logDriver: String
    /// Driver options, such as `max-size` for `json-file`.
    public var options: [String: String]?
    /// Driver options whose values come from secrets.
    public var secretOptions: [Secret]?

    /// Creates a log configuration.
    public init(logDriver: String, options: [String: String]? = nil, secretOptions: [Secret]? = nil) {
        self.logDriver = logDriver
        self.options = options
        self.secretOptions = secretOptions
    }
}
