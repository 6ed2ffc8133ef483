import AgentProtocol
import ECSVocabulary
import Foundation
import SigV4
import TaskDefinitions
#if canImport(Glibc)
import Glibc
#endif

/// Who this agent is to the control plane, kept in `<data-dir>/agent/identity.json` so a restarted agent comes back
/// as the same container instance.
struct AgentIdentity: Codable, Hashable, Sendable {
    var cluster: String
    /// nil until the first registration.
    var containerInstanceArn: String?
    /// The instance credential the last Register issued (its secret stays in this 0600 file of a 0700 directory);
    /// nil before the first registration. (An identity file of an agent before access keys has a `credential` string
    /// instead, which decoding ignores: that agent joins again as a new instance.)
    var accessKeyId: String?
    var secretAccessKey: String?
    /// When to ask for the credential's successor: two thirds into its life (nil: never, or no credential).
    var rotateCredentialAfter: Date?
    /// The bearer token of the agent endpoint, generated once (32 random bytes, hex).
    var agentToken: String
}

/// What the agent runs, one file per task in `<data-dir>/agent/tasks/<taskID>.json`: enough to re-adopt the
/// containers after a restart (the definition and the runtime names) and to resend a final state never acknowledged.
struct TaskRecord: Codable, Hashable, Sendable {
    var taskArn: String
    var taskDefinitionArn: String
    var definition: TaskDefinition
    /// Runtime container name by container definition name.
    var containerIDs: [String: String]
    var group: String?
    /// The STOPPED state, once reached, until the control plane acknowledges it.
    var final: TaskStateChange?
    /// Each health-checked container's last known health, kept so a restarted agent re-adopts the task with it.
    var containerHealth: [String: HealthStatus]?

    var taskID: String { AgentTaskID.of(taskArn) }
}

enum AgentTaskID {
    /// The last component of a task ARN (`arn:aws:ecs:r:a:task/cluster/ID` → `ID`).
    static func of(_ taskArn: String) -> String {
        String(taskArn.split(separator: "/").last ?? Substring(taskArn))
    }
}

extension AgentIdentity {
    /// Takes a credential the control plane issued, due for rotation two thirds into its life.
    mutating func adopt(accessKeyId: String, secret: String, expiration: Date, now: Date = Date()) {
        credentials = AWSCredentials(accessKeyID: accessKeyId, secretAccessKey: secret)
        rotateCredentialAfter = now.addingTimeInterval(max(0, expiration.timeIntervalSince(now)) * 2 / 3)
    }

    /// The instance credential as a signing key, when there is one.
    var credentials: AWSCredentials? {
        get {
            guard let accessKeyId, let secretAccessKey else { return nil }
            return AWSCredentials(accessKeyID: accessKeyId, secretAccessKey: secretAccessKey)
        }
        set {
            accessKeyId = newValue?.accessKeyID
            secretAccessKey = newValue?.secretAccessKey
        }
    }
}

/// Reads and writes the agent's own state files; every write is whole (temp file, fsync, rename).
struct AgentStateFiles: Sendable {
    let directory: String

    init(directory: String) throws {
        self.directory = directory
        try FileManager.default.createDirectory(
            atPath: directory + "/tasks", withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700])
    }

    // MARK: - Identity

    var identityPath: String { directory + "/identity.json" }

    /// The stored identity, or a new one (with a fresh endpoint token) for `cluster`. A stored identity of another
    /// cluster keeps its token but not its registration.
    func loadIdentity(cluster: String) throws -> AgentIdentity {
        if let data = FileManager.default.contents(atPath: identityPath) {
            var identity = try AgentWire.decoder().decode(AgentIdentity.self, from: data)
            if identity.cluster != cluster {
                identity = AgentIdentity(
                    cluster: cluster, containerInstanceArn: nil, accessKeyId: nil, secretAccessKey: nil, rotateCredentialAfter: nil,
                    agentToken: identity.agentToken)
            }
            return identity
        }
        let identity = AgentIdentity(
            cluster: cluster, containerInstanceArn: nil, accessKeyId: nil, secretAccessKey: nil, rotateCredentialAfter: nil,
            agentToken: AgentHost.randomHex(bytes: 32))
        try save(identity)
        return identity
    }

    func save(_ identity: AgentIdentity) throws {
        try write(AgentWire.encoder().encode(identity), to: identityPath)
    }

    // MARK: - Task records

    private func recordPath(_ taskID: String) -> String { "\(directory)/tasks/\(taskID).json" }

    func save(_ record: TaskRecord) throws {
        try write(AgentWire.encoder().encode(record), to: recordPath(record.taskID))
    }

    func removeRecord(taskID: String) {
        unlink(recordPath(taskID))
    }

    /// Every readable record; unreadable ones are returned by name so the caller can log and drop them.
    func loadRecords() -> (records: [TaskRecord], unreadable: [String]) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory + "/tasks")) ?? []
        var records: [TaskRecord] = []
        var unreadable: [String] = []
        for name in names.sorted() where name.hasSuffix(".json") {
            let path = "\(directory)/tasks/\(name)"
            guard let data = FileManager.default.contents(atPath: path),
                let record = try? AgentWire.decoder().decode(TaskRecord.self, from: data)
            else {
                unreadable.append(name)
                unlink(path)
                continue
            }
            records.append(record)
        }
        return (records, unreadable)
    }

    private func write(_ data: Data, to path: String) throws {
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw AgentStateError(path: path, errno: errno) }
        let written = data.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd)
        close(fd)
        guard written == data.count, synced == 0, rename(temporary, path) == 0 else {
            let code = errno
            unlink(temporary)
            throw AgentStateError(path: path, errno: code)
        }
    }
}

/// A state file could not be written.
struct AgentStateError: Error, CustomStringConvertible {
    var path: String
    var errno: Int32

    var description: String { "agent state \(path): \(String(cString: strerror(errno)))" }
}
