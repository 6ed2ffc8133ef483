import AgentProtocol
import ArgumentParser
import FlotillaClient
import Foundation
import TaskDefinitions

/// `ecsctl exec`: runs a command in a task's running container (ECS ExecuteCommand, then the agent's exec URL)
/// and exits with the command's exit code.
struct Exec: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exec", abstract: "Runs a command in a running container of a task and prints its output.",
        discussion: "Example: ecsctl exec --cluster demo --task 3f2a... -- sh -c 'ls /'")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var scope: ClusterOptions
    @Option(help: "The task's ID or ARN.") var task: String
    @Option(help: "The container's name (needed when the task has several).") var container: String?
    @Option(help: "Seconds the command may run before it is killed (1-3600).") var timeout: Int = 60
    @Argument(parsing: .captureForPassthrough, help: "The command and its arguments, after --.") var command: [String] =
        []

    /// The command without the `--` that separates it.
    var arguments: [String] { command.first == "--" ? Array(command.dropFirst()) : command }

    func validate() throws {
        if arguments.isEmpty { throw ValidationError("a command is required after --, e.g. -- sh -c 'echo hi'") }
        if !(1...3600).contains(timeout) {
            throw ValidationError("--timeout must be between 1 and 3600, got \(timeout)")
        }
    }

    func run() async throws {
        let configuration = try global.configuration(cluster: scope.cluster)
        var body: [String: JSONValue] = [
            "cluster": .string(configuration.cluster), "task": .string(task),
            "command": .string(Self.shellLine(arguments)), "interactive": .bool(true),
        ]
        body.set("container", container)
        let answer = try await global.client(configuration).call(.executeCommand, .object(body))
        guard let url = answer["session"]?["streamUrl"]?.stringValue.flatMap(URL.init(string:)),
            let token = answer["session"]?["tokenValue"]?.stringValue
        else {
            throw ECSClientError.malformedResponse(
                statusCode: 200, reason: "ExecuteCommand answered no session streamUrl and tokenValue")
        }
        let result = try await AgentClient().exec(url: url, token: token, command: arguments, timeoutSeconds: timeout)
        FileHandle.standardOutput.write(Data(result.stdout.utf8))
        FileHandle.standardError.write(Data(result.stderr.utf8))
        if result.timedOut {
            FileHandle.standardError.write(
                Data("ecsctl: the command ran past --timeout \(timeout) s and was killed\n".utf8))
        }
        if result.stdoutTruncated == true || result.stderrTruncated == true {
            FileHandle.standardError.write(Data("ecsctl: the output was cut at the agent's limit\n".utf8))
        }
        if result.exitCode != 0 { throw ExitCode(Int32(truncatingIfNeeded: result.exitCode)) }
    }

    /// The command as one shell line (ECS's ExecuteCommand takes a string): each argument single-quoted when needed.
    static func shellLine(_ arguments: [String]) -> String {
        arguments.map { argument in
            let plain =
                !argument.isEmpty && argument.allSatisfy { $0.isLetter || $0.isNumber || "-_./=:,@%+".contains($0) }
            return plain ? argument : "'" + argument.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
        }.joined(separator: " ")
    }
}
