import ArgumentParser
import FlotillaClient
import Foundation

/// `ecsctl`: Flotilla's command line, mirroring `aws ecs` verbs and flags.
@main
struct Ecsctl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ecsctl",
        abstract: "Drive a Flotilla cluster the way `aws ecs` drives ECS.",
        discussion: """
            The endpoint comes from --endpoint-url (or --endpoint), else FLOTILLA_ENDPOINT, else the "endpoint" of \
            ~/.config/flotilla/config.json or /etc/flotilla/ecsctl.json, else https://127.0.0.1:8080.
            """,
        subcommands: [
            CreateCluster.self, DescribeClusters.self, ListClusters.self, DeleteCluster.self,
            RegisterTaskDefinition.self, DescribeTaskDefinition.self, ListTaskDefinitions.self,
            ListTaskDefinitionFamilies.self, DeregisterTaskDefinition.self,
            CreateService.self, UpdateService.self, DescribeServices.self, ListServices.self, DeleteService.self,
            RunTask.self, StartTask.self, StopTask.self, DescribeTasks.self, ListTasks.self,
            ListContainerInstances.self, DescribeContainerInstances.self, UpdateContainerInstancesState.self,
            ListAttributes.self, PutAttributes.self, DeleteAttributes.self,
            TagResource.self, UntagResource.self, ListTagsForResource.self,
            CreateJoinToken.self, ListJoinTokens.self, DeleteJoinToken.self, GetJoinToken.self, RotateJoinToken.self,
            Exec.self, Logs.self, Wait.self,
            CreateLoadBalancer.self, DescribeLoadBalancers.self, DeleteLoadBalancer.self,
            CreateAccessKey.self, ListAccessKeys.self, DeleteAccessKey.self,
        ]
    )

    /// Runs the command; every failure ends as ONE line on stderr and the awscli's exit status
    /// (254: the API refused, 255: no answer or bad configuration, 252: bad arguments).
    static func main() async {
        do {
            var command = try parseAsRoot(verbFirst(Array(CommandLine.arguments.dropFirst())))
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as ECSClientError {
            fail(error.description, status: error.type == nil ? 255 : 254)
        } catch let error as ClientConfiguration.Error {
            fail(error.description, status: 255)
        } catch let error as HTTPTransportError {
            fail(error.description, status: 255)
        } catch let error as ArgumentDocument.Error {
            fail(error.description, status: 252)
        } catch {
            let status = exitCode(for: error)
            let message = message(for: error)
            if status == .success || message.isEmpty {
                exit(withError: error)  // --help, --version, or an ExitCode with nothing to say
            }
            fail(message, status: 252)
        }
    }

    /// Global options taking a value, which the awscli also accepts before the verb.
    static let leadingOptions: Set<String> = [
        "--endpoint-url", "--endpoint", "--region", "--profile", "--ca-bundle", "--output",
    ]

    /// `ecsctl --endpoint-url URL list-clusters` as `ecsctl list-clusters --endpoint-url URL`: global options given
    /// before the verb move after it, where each verb declares them. The verb of a group is two words
    /// (`wait services-stable`).
    static func verbFirst(_ arguments: [String]) -> [String] {
        var leading: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if leadingOptions.contains(argument), index + 1 < arguments.count {
                leading += arguments[index...index + 1]
                index += 2
            } else if let equals = argument.firstIndex(of: "="), leadingOptions.contains(String(argument[..<equals])) {
                leading.append(argument)
                index += 1
            } else {
                break
            }
        }
        guard index < arguments.count, !leading.isEmpty else { return arguments }
        var verbEnd = index + 1
        if let group = configuration.subcommands.first(where: { $0.configuration.commandName == arguments[index] }),
            !group.configuration.subcommands.isEmpty, verbEnd < arguments.count
        {
            verbEnd += 1
        }
        return Array(arguments[index..<verbEnd]) + leading + arguments[verbEnd...]
    }

    private static func fail(_ message: String, status: Int32) -> Never {
        let line = message.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }.joined(separator: " ")
        FileHandle.standardError.write(Data("ecsctl: \(line)\n".utf8))
        Foundation.exit(status)
    }
}
