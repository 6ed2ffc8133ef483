import ArgumentParser
import FlotillaClient
import Foundation
import TaskDefinitions

/// `ecsctl logs`: a task container's output (FlotillaV1 GetContainerLogStream, then the agent's logs URL), followed
/// as it is written with `--follow` until the container stops or Ctrl-C.
struct Logs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logs", abstract: "Prints a task container's output (stdout, then stderr); --follow streams it.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var scope: ClusterOptions
    @Option(help: "The task's ID or ARN.") var task: String
    @Option(help: "The container's name (needed when the task has several).") var container: String?
    @Flag(
        name: [.customLong("follow"), .customShort("f")], help: "Keep printing new output until the container stops.")
    var follow = false
    @Option(help: "Start with the last N lines of each stream.") var tail: Int?

    func validate() throws {
        if let tail, !(0...100_000).contains(tail) {
            throw ValidationError("--tail must be between 0 and 100000, got \(tail)")
        }
    }

    func run() async throws {
        let configuration = try global.configuration(cluster: scope.cluster)
        var body: [String: JSONValue] = ["cluster": .string(configuration.cluster), "task": .string(task)]
        body.set("container", container)
        let answer = try await global.client(configuration).call(.getContainerLogStream, .object(body))
        guard let url = answer["streamUrl"]?.stringValue.flatMap(URL.init(string:)),
            let token = answer["tokenValue"]?.stringValue
        else {
            throw ECSClientError.malformedResponse(
                statusCode: 200, reason: "GetContainerLogStream answered no streamUrl and tokenValue")
        }
        for try await chunk in AgentClient().logs(url: url, token: token, follow: follow, tail: tail) {
            FileHandle.standardOutput.write(chunk)
        }
    }
}
