import ArgumentParser
import Foundation
import Logging
import NodeAgent

/// `ecs-agent runtime …`: images and containers on this host, without a control plane.
struct RuntimeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runtime",
        abstract: "Drive the namespace runtime directly (debugging).",
        subcommands: [
            ImportImage.self, ListImages.self, RunContainer.self, ListContainers.self, ExecInContainer.self,
            StopContainer.self, RemoveContainer.self, MakeBusyboxImage.self,
        ]
    )
}

/// Options every runtime subcommand shares.
struct RuntimeOptions: ParsableArguments {
    @Option(help: "The agent's state directory (images/ and containers/ live under it).")
    var dataDir: String = "/var/lib/flotilla"

    @Flag(help: "Log runtime events to stderr.")
    var verbose = false

    @Option(help: "The Linux bridge of bridge networking (distinct per agent on one machine).")
    var bridgeName = NetworkConfiguration().bridgeName

    @Option(help: "The bridge's IPv4 subnet (distinct per agent on one machine).")
    var subnet = NetworkConfiguration().subnet

    @Option(help: "Names the nftables table holding the port mappings (distinct per agent on one machine).")
    var nftTablePrefix = NetworkConfiguration().tablePrefix

    @Option(
        help: "The cgroup containers' cgroups are created under, in every hierarchy (as the agent's --cgroup-parent).")
    var cgroupParent = "flotilla"

    func logger() -> Logger {
        var logger = Logger(label: "ecs-agent.runtime") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = verbose ? .debug : .warning
        return logger
    }

    func runtime() throws -> ContainerRuntime {
        try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true)
        var configuration = NetworkConfiguration()
        configuration.bridgeName = bridgeName
        configuration.subnet = subnet
        configuration.tablePrefix = nftTablePrefix
        let networks = try NetworkManager(
            stateDirectory: dataDir + "/network", configuration: configuration,
            logger: logger())
        return try ContainerRuntime(
            dataDirectory: dataDir, networks: networks, cgroupParent: cgroupParent, logger: logger())
    }

    func images() throws -> ImageStore {
        try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true)
        return try ImageStore(root: dataDir + "/images", logger: logger())
    }
}

struct ImportImage: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import", abstract: "Import an OCI layout (directory or tarball) or a `docker save` tarball.")
    @OptionGroup var options: RuntimeOptions
    @Argument(help: "The file or directory to import.") var file: String

    func run() async throws {
        for record in try options.images().importImage(from: file) {
            print("\(record.digest) \(record.references.joined(separator: ","))")
        }
    }
}

struct ListImages: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "images", abstract: "List imported images.")
    @OptionGroup var options: RuntimeOptions

    func run() async throws {
        print(pad("REFERENCE", 32) + " " + pad("DIGEST", 19) + " LAYERS")
        for record in try options.images().images() {
            print(
                pad(record.references.first ?? "<none>", 32) + " " + String(record.digest.prefix(19))
                    + " \(record.layerDirectories.count)")
        }
    }
}

struct ListContainers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ps", abstract: "List containers.")
    @OptionGroup var options: RuntimeOptions

    func run() async throws {
        let runtime = try options.runtime()
        print(
            [pad("ID", 12), pad("NAME", 20), pad("IMAGE", 20), pad("STATUS", 8), pad("PID", 8), "EXIT"]
                .joined(separator: " "))
        for info in await runtime.list() {
            let exit =
                info.exit.map { exit in
                    (exit.exitCode.map(String.init) ?? "?") + (exit.oomKilled ? " (OOM)" : "")
                } ?? ""
            print(
                [
                    String(info.id.prefix(12)), pad(info.spec.name, 20), pad(info.spec.image ?? "-", 20),
                    pad(info.status.rawValue, 8), pad(info.pid.map(String.init) ?? "-", 8), exit,
                ]
                .joined(separator: " "))
        }
    }
}

struct ExecInContainer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exec", abstract: "Run a command inside a running container; exits with its exit code.")
    @OptionGroup var options: RuntimeOptions
    @Option(help: "Seconds before the command is killed.") var timeout: Int = 60
    @Argument(help: "Container name or id.") var container: String
    @Argument(parsing: .captureForPassthrough, help: "The command and its arguments.") var command: [String] = []

    func validate() throws {
        if command.isEmpty { throw ValidationError("exec needs a command") }
    }

    func run() async throws {
        let result = try await options.runtime().exec(container, arguments: command, timeout: .seconds(timeout))
        FileHandle.standardOutput.write(Data(result.standardOutput))
        FileHandle.standardError.write(Data(result.standardError))
        if result.timedOut { FileHandle.standardError.write(Data("exec: timed out after \(timeout) s\n".utf8)) }
        throw ExitCode(result.exit.exitCode ?? 1)
    }
}

struct StopContainer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stop", abstract: "SIGTERM, then SIGKILL after the stop timeout.")
    @OptionGroup var options: RuntimeOptions
    @Option(name: .customLong("time"), help: "Seconds to wait after SIGTERM (default: the container's stopTimeout).")
    var seconds: Int?
    @Argument(help: "Container name or id.") var container: String

    func run() async throws {
        let exit = try await options.runtime().stop(container, timeout: seconds.map { .seconds($0) })
        print(
            "\(container) exited: \(exit.exitCode.map(String.init) ?? "unknown")"
                + (exit.oomKilled ? " (OOM killed)" : ""))
    }
}

struct RemoveContainer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rm", abstract: "Remove a stopped container (its cgroup, network, state and logs).")
    @OptionGroup var options: RuntimeOptions
    @Flag(name: .shortAndLong, help: "Kill it first if it is running.") var force = false
    @Argument(help: "Container names or ids.") var containers: [String]

    func run() async throws {
        let runtime = try options.runtime()
        for container in containers {
            try await runtime.delete(container, force: force)
            print(container)
        }
    }
}

struct MakeBusyboxImage: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "make-busybox-image",
        abstract: "Write a reproducible OCI image tarball of Debian's busybox-static (for tests and benchmarks).")
    @Option(help: "The image reference.") var reference = "flotilla/busybox:1"
    @Argument(help: "The tarball to write.") var output: String

    func run() async throws {
        try BusyboxImage.writeArchive(to: output, reference: reference)
        print(output)
    }
}

/// A user error of the runtime CLI: ArgumentParser prints it as one line (no usage block) and exits non-zero.
struct RuntimeCLIError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}

func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : text.padding(toLength: width, withPad: " ", startingAt: 0)
}
