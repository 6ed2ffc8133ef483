// The agent endpoint's wire shapes, shared by the agent (NodeAgent's `AgentEndpoint`, which serves them) and its
// clients (FlotillaClient's `AgentClient`, behind `ecsctl exec` and `ecsctl logs`): the stream URLs and the bearer
// token come from the control plane's `ExecuteCommand` and `GetContainerLogStream`.

/// `POST /v1/tasks/{taskId}/containers/{name}/exec`: `{"command": ["sh", "-c", "echo hi"], "timeoutSeconds": 30}`.
public struct AgentExecRequest: Codable, Hashable, Sendable {
    public var command: [String]
    /// Seconds the command may run before it is killed; `defaultTimeoutSeconds` when absent.
    public var timeoutSeconds: Int?

    /// The timeout of a request that names none.
    public static let defaultTimeoutSeconds = 30

    public init(command: [String], timeoutSeconds: Int? = nil) {
        self.command = command
        self.timeoutSeconds = timeoutSeconds
    }
}

/// The exec answer: `{"exitCode": 0, "stdout": "hi\n", "stderr": "", "timedOut": false, ...}`.
public struct AgentExecResult: Codable, Hashable, Sendable {
    public var exitCode: Int
    public var stdout: String
    public var stderr: String
    /// The command ran past its timeout and was killed.
    public var timedOut: Bool
    /// The output was longer than the agent keeps (1 MiB per stream) and was cut. Every agent of this version sends
    /// both; optional for the ones before them.
    public var stdoutTruncated: Bool?
    public var stderrTruncated: Bool?

    public init(
        exitCode: Int, stdout: String, stderr: String, timedOut: Bool, stdoutTruncated: Bool?, stderrTruncated: Bool?
    ) {
        self.exitCode = exitCode
        self.stdout = stdout
        self.stderr = stderr
        self.timedOut = timedOut
        self.stdoutTruncated = stdoutTruncated
        self.stderrTruncated = stderrTruncated
    }
}

/// `GET /v1/tasks/{taskId}/containers/{name}/logs?follow=true|false&tail=N`: a container's output, the last `tail`
/// lines of each file (all when absent), kept open as it grows with `follow`.
public struct AgentLogsRequest: Hashable, Sendable {
    public var follow: Bool
    public var tail: Int?

    public init(follow: Bool = false, tail: Int? = nil) {
        self.follow = follow
        self.tail = tail
    }

    /// The query's parameters in order, as a client sends them: `follow` always, `tail` when set.
    public var queryItems: [(name: String, value: String)] {
        var items = [(name: "follow", value: follow ? "true" : "false")]
        if let tail { items.append((name: "tail", value: String(tail))) }
        return items
    }

    /// The request a query names (`parameter` looks one up by name); a value out of shape (or a `tail` above
    /// `maxTail`) throws the message naming it.
    public init(query parameter: (String) -> String?, maxTail: Int) throws(AgentParameterError) {
        switch parameter("follow") {
        case nil, "false": follow = false
        case "true": follow = true
        case let other?: throw AgentParameterError("follow: must be true or false, got \"\(other.prefix(20))\".")
        }
        if let text = parameter("tail") {
            guard let lines = Int(text), (0...maxTail).contains(lines) else {
                throw AgentParameterError(
                    "tail: must be a whole number of lines from 0 to \(maxTail), got \"\(text.prefix(20))\".")
            }
            tail = lines
        }
    }
}

/// A request parameter of the agent endpoint that is out of shape: the message names the field.
public struct AgentParameterError: Error, Hashable, Sendable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}
