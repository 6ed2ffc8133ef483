import AgentProtocol
import ECSProtocol
import ECSVocabulary
import Foundation
import GRDB
import TaskDefinitions

// A task's `secrets` resolved for the one agent that runs it. The values are read from the parameter store and the
// secret store inside the poll's transaction and travel only in that instance's `PollDesiredTasks` answer
// (`DesiredTask.secretEnvironment`); nothing else answers them (DescribeTasks and DescribeTaskDefinition show the
// `valueFrom` references only) and nothing logs them.

/// What the control plane needs to open the stores' values for a poll.
struct TaskSecretSource: Sendable {
    var box: SecretBox
    var region: String
    var accountID: String
    var now: Date

    var parameterARNPrefix: String { "arn:aws:ssm:\(region):\(accountID):parameter" }
    var secretARNPrefix: String { SecretsManagerRules.arnPrefix(region: region, account: accountID) }
}

/// A task's secrets: every value by container and variable name, or ECS's reason for stopping the task.
enum TaskSecretResolution: Equatable {
    case resolved([String: [String: String]])
    case failed(String)
}

/// ECS's stoppedReason words for secrets it could not pull (`ResourceInitializationError`).
enum TaskSecretFailure {
    static let prefix =
        "ResourceInitializationError: unable to pull secrets or registry auth: "
        + "execution resource retrieval failed: "

    /// SSM parameters that do not exist (ECS's `GetParameters` InvalidParameters).
    static func parameters(_ names: [String]) -> String {
        prefix + "unable to retrieve secrets from ssm: service call has been retried 1 time(s): invalid parameters: "
            + names.map { String($0.prefix(300)) }.joined(separator: ", ")
    }

    /// A Secrets Manager secret that could not be read, with Secrets Manager's error.
    static func secret(_ arn: String, _ error: ECSError) -> String {
        prefix + "unable to retrieve secret from asm: service call has been retried 1 time(s): failed to fetch "
            + "secret \(arn.prefix(300)) from secrets manager: \(error.type): \(error.message)"
    }

    /// A JSON key the secret's value does not hold (or a value that is not a JSON object).
    static func jsonKey(_ key: String, of arn: String) -> String {
        prefix + "unable to retrieve secret from asm: retrieved secret \(arn.prefix(300)) from Secrets Manager did "
            + "not contain json key \(key.prefix(300))"
    }

    /// A `valueFrom` this control plane cannot read.
    static func reference(_ valueFrom: String) -> String {
        prefix + "invalid secret reference: \(valueFrom.prefix(300))"
    }
}

extension Database {
    /// The values of every container's `secrets` in `definition`; the first failure ends it, unless `lenient`, which
    /// skips what does not resolve and answers the rest.
    func resolveSecrets(
        of definition: TaskDefinition, from source: TaskSecretSource, lenient: Bool = false
    ) throws -> TaskSecretResolution {
        var values: [String: [String: String]] = [:]
        var missingParameters: [String] = []
        for container in definition.containerDefinitions {
            for secret in container.secrets ?? [] {
                guard let reference = TaskSecretReference(secret.valueFrom) else {
                    if lenient { continue }
                    return .failed(TaskSecretFailure.reference(secret.valueFrom))
                }
                switch reference {
                case .parameter(let name):
                    let names = ParameterStoreRules.candidateNames(name, arnPrefix: source.parameterARNPrefix)
                    guard let parameter = try parameter(anyOf: names) else {
                        missingParameters.append(name)
                        continue
                    }
                    values[container.name, default: [:]][secret.name] = try source.box.openParameter(parameter)
                case .secret(let id, let jsonKey, let versionStage, let versionId):
                    let value: String
                    do {
                        guard id.hasPrefix(source.secretARNPrefix),
                            let stored = try self.secret(
                                name: nil, arn: id, partialName: String(id.dropFirst(source.secretARNPrefix.count)),
                                now: source.now)
                        else { throw ECSError.secretNotFound }
                        guard stored.deletedAt == nil else { throw ECSError.secretMarkedForDeletion }
                        let version = try secretVersion(of: stored, versionId: versionId, versionStage: versionStage)
                        value = try source.box.openSecret(version, arn: stored.arn)
                    } catch let error as ECSError {
                        if lenient { continue }
                        return .failed(TaskSecretFailure.secret(id, error))
                    }
                    guard let jsonKey else {
                        values[container.name, default: [:]][secret.name] = value
                        continue
                    }
                    guard case .object(let object)? = try? JSONDecoder().decode(JSONValue.self, from: Data(value.utf8)),
                        let field = object[jsonKey]
                    else {
                        if lenient { continue }
                        return .failed(TaskSecretFailure.jsonKey(jsonKey, of: id))
                    }
                    values[container.name, default: [:]][secret.name] =
                        if case .string(let text) = field { text } else { Self.jsonText(field) }
                }
            }
        }
        guard missingParameters.isEmpty || lenient else {
            return .failed(TaskSecretFailure.parameters(missingParameters))
        }
        return .resolved(values)
    }

    /// A JSON value other than a string, as its JSON text (a number, a boolean, an object under the key).
    private static func jsonText(_ value: JSONValue) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }

    /// Stops a task whose secrets could not be resolved before it started, as ECS stops it: lastStatus
    /// and desiredStatus STOPPED, stopCode `TaskFailedToStart`, the `ResourceInitializationError` reason; a service
    /// task's failure goes into its service's events (the reconciler replaces it as any failed start).
    func failToStart(_ task: ECSTask, reason: String, cluster: Cluster, now: Date) throws {
        let change = TaskStateChange(
            taskArn: task.taskArn, lastStatus: WireValue(.stopped), stopCode: WireValue(.taskFailedToStart),
            stoppedReason: reason, executionStoppedAt: now, stoppedAt: now,
            containers: task.containers.map { ContainerStateChange(name: $0.name, lastStatus: WireValue(.stopped)) })
        guard case .updated(let stopped) = TaskStateMerge.apply(change, to: task, now: now) else { return }
        try saveTask(stopped, cluster: cluster)
        try recordStartFailure(of: stopped, cluster: cluster, now: now)
    }
}
