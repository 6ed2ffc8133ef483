import ECSProtocol
import Foundation
import GRDB
import Logging

// The secret store: AWS Secrets Manager's operations (`secretsmanager.<Operation>`) over the `secret` and
// `secretVersion` tables. Values are sealed at rest (`SecretBox+Values.swift`) and never logged. Versions: a new
// value becomes AWSCURRENT, the one before AWSPREVIOUS, older ones are deleted. DeleteSecret schedules the deletion
// after its recovery window (7 to 30 days, default 30): meanwhile the secret answers DescribeSecret, ListSecrets
// with IncludePlannedDeletion, RestoreSecret and DeleteSecret with ForceDeleteWithoutRecovery, refuses its value
// (InvalidRequestException) and keeps its name; once the window is over it is gone (purged by the next write).

// MARK: - Wire

struct CreateSecretResponse: Encodable {
    var arn: String
    var name: String
    var versionId: String?

    enum CodingKeys: String, CodingKey { case arn = "ARN", name = "Name", versionId = "VersionId" }
}

struct SecretValueResponse: Encodable {
    var arn: String
    var name: String
    var versionId: String
    var secretString: String
    var versionStages: [String]
    var createdDate: Date

    enum CodingKeys: String, CodingKey {
        case arn = "ARN", name = "Name", versionId = "VersionId", secretString = "SecretString"
        case versionStages = "VersionStages", createdDate = "CreatedDate"
    }
}

struct PutSecretValueResponse: Encodable {
    var arn: String
    var name: String
    var versionId: String
    var versionStages: [String]

    enum CodingKeys: String, CodingKey {
        case arn = "ARN", name = "Name", versionId = "VersionId", versionStages = "VersionStages"
    }
}

struct DeleteSecretResponse: Encodable {
    var arn: String
    var name: String
    var deletionDate: Date

    enum CodingKeys: String, CodingKey { case arn = "ARN", name = "Name", deletionDate = "DeletionDate" }
}

struct RestoreSecretResponse: Encodable {
    var arn: String
    var name: String

    enum CodingKeys: String, CodingKey { case arn = "ARN", name = "Name" }
}

/// DescribeSecret's answer and ListSecrets' `SecretListEntry` (which names the version map differently).
struct SecretDescription: Encodable {
    var arn: String
    var name: String
    var description: String?
    var kmsKeyId: String?
    var lastChangedDate: Date
    var lastAccessedDate: Date?
    var deletedDate: Date?
    var versions: [String: [String]]
    var createdDate: Date
    /// `SecretVersionsToStages` (ListSecrets) instead of `VersionIdsToStages` (DescribeSecret).
    var listed: Bool

    enum CodingKeys: String, CodingKey {
        case arn = "ARN", name = "Name", description = "Description", kmsKeyId = "KmsKeyId"
        case lastChangedDate = "LastChangedDate", lastAccessedDate = "LastAccessedDate", deletedDate = "DeletedDate"
        case versionIdsToStages = "VersionIdsToStages", secretVersionsToStages = "SecretVersionsToStages"
        case createdDate = "CreatedDate"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(arn, forKey: .arn)
        try container.encode(name, forKey: .name)
        try container.encodeIfPresent(description, forKey: .description)
        try container.encodeIfPresent(kmsKeyId, forKey: .kmsKeyId)
        try container.encode(lastChangedDate, forKey: .lastChangedDate)
        try container.encodeIfPresent(lastAccessedDate, forKey: .lastAccessedDate)
        try container.encodeIfPresent(deletedDate, forKey: .deletedDate)
        try container.encode(versions, forKey: listed ? .secretVersionsToStages : .versionIdsToStages)
        try container.encode(createdDate, forKey: .createdDate)
    }
}

struct ListSecretsResponse: Encodable {
    var secretList: [SecretDescription]
    var nextToken: String?

    enum CodingKeys: String, CodingKey { case secretList = "SecretList", nextToken = "NextToken" }
}

// MARK: - Rules

extension SecretsManagerRules {
    /// At most this many secrets: it also bounds what one ListSecrets reads.
    static let maxSecrets = 10_000

    /// The six random characters AWS appends to a secret's ARN.
    static func newARNSuffix() -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        var generator = SystemRandomNumberGenerator()
        return String((0..<6).map { _ in alphabet.randomElement(using: &generator)! })
    }
}

extension ECSError {
    static let secretMarkedForDeletion = ECSError.secretsInvalidRequest(
        "You can't perform this operation on the secret because it was marked for deletion.")
}

extension OperationContext {
    var secretARNPrefix: String { SecretsManagerRules.arnPrefix(region: region, account: accountID) }
}

extension Database {
    /// The secret `id` names (a name, a full ARN, or an ARN without its random suffix), scheduled for deletion or
    /// not, unless its deletion has taken effect.
    func secret(_ id: String, in context: OperationContext) throws -> StoredSecret {
        let found: StoredSecret?
        if id.hasPrefix("arn:") {
            guard id.hasPrefix(context.secretARNPrefix) else { throw ECSError.secretNotFound }
            found = try secret(
                name: nil, arn: id, partialName: String(id.dropFirst(context.secretARNPrefix.count)), now: context.now)
        } else {
            found = try secret(name: id, arn: nil, partialName: nil, now: context.now)
        }
        guard let found else { throw ECSError.secretNotFound }
        return found
    }

    /// The version of `secret` a request names: by id, else by stage (AWSCURRENT unless said).
    func secretVersion(
        of secret: StoredSecret, versionId: String?, versionStage: String?
    ) throws -> StoredSecretVersion {
        let versions = try secretVersions(of: secret.name)
        if let versionId {
            guard let version = versions.first(where: { $0.versionId == versionId }),
                versionStage == nil || version.stage == versionStage
            else {
                throw ECSError(
                    "ResourceNotFoundException",
                    "Secrets Manager can't find the specified secret value for VersionId: \(versionId)")
            }
            return version
        }
        let stage = versionStage ?? SecretsManagerRules.currentStage
        guard let version = versions.first(where: { $0.stage == stage }) else {
            throw ECSError(
                "ResourceNotFoundException",
                "Secrets Manager can't find the specified secret value for staging label: \(stage.prefix(256))")
        }
        return version
    }

    func describeSecret(_ secret: StoredSecret, listed: Bool) throws -> SecretDescription {
        var versions: [String: [String]] = [:]
        for version in try secretVersions(of: secret.name) {
            versions[version.versionId] = version.stage.map { [$0] } ?? []
        }
        return SecretDescription(
            arn: secret.arn, name: secret.name, description: secret.description, kmsKeyId: secret.kmsKeyId,
            lastChangedDate: secret.lastChangedAt, lastAccessedDate: secret.lastAccessedAt,
            deletedDate: secret.deletedAt, versions: versions, createdDate: secret.createdAt, listed: listed)
    }
}

// MARK: - Operations

extension ECSAPI {
    static let secretsManagerOperations: [String: OperationHandler] = [
        "CreateSecret": OperationHandler { (request: CreateSecretRequest, context) in
            let answer = try await context.store.write { db in
                try db.purgeDeletedSecrets(now: context.now)
                if let existing = try db.secret(name: request.name, arn: nil, partialName: nil, now: context.now) {
                    if existing.deletedAt != nil {
                        throw ECSError.secretsInvalidRequest(
                            "You can't create this secret because a secret with this name is already scheduled for "
                                + "deletion.")
                    }
                    throw ECSError.secretExists(request.name)
                }
                guard try db.secretCount() < SecretsManagerRules.maxSecrets else {
                    throw ECSError(
                        "LimitExceededException",
                        "You have exceeded the number of secrets for this account (\(SecretsManagerRules.maxSecrets)).")
                }
                let arn = SecretsManagerRules.arn(
                    name: request.name, suffix: SecretsManagerRules.newARNSuffix(), region: context.region,
                    account: context.accountID)
                try db.insertSecret(
                    StoredSecret(
                        name: request.name, arn: arn, description: request.description, kmsKeyId: request.kmsKeyId,
                        createdAt: context.now, lastChangedAt: context.now))
                var versionId: String?
                if let value = request.secretString {
                    let id = request.clientRequestToken ?? UUID().uuidString.lowercased()
                    try db.addCurrentSecretVersion(
                        StoredSecretVersion(
                            versionId: id,
                            sealedValue: try context.secretBox.sealSecret(value, arn: arn, versionId: id),
                            stage: SecretsManagerRules.currentStage, createdAt: context.now),
                        to: request.name, current: SecretsManagerRules.currentStage,
                        previous: SecretsManagerRules.previousStage)
                    versionId = id
                }
                return CreateSecretResponse(arn: arn, name: request.name, versionId: versionId)
            }
            context.logger.info(
                "secret created", metadata: ["secret.arn": "\(answer.arn)", "by": "\(context.principal.name)"])
            return answer
        },
        "GetSecretValue": OperationHandler { (request: GetSecretValueRequest, context) in
            try await context.store.read { db in
                let secret = try db.secret(request.secretId, in: context)
                guard secret.deletedAt == nil else { throw ECSError.secretMarkedForDeletion }
                let version = try db.secretVersion(
                    of: secret, versionId: request.versionId, versionStage: request.versionStage)
                return SecretValueResponse(
                    arn: secret.arn, name: secret.name, versionId: version.versionId,
                    secretString: try context.secretBox.openSecret(version, arn: secret.arn),
                    versionStages: version.stage.map { [$0] } ?? [], createdDate: version.createdAt)
            }
        },
        "PutSecretValue": OperationHandler { (request: PutSecretValueRequest, context) in
            // `validate` made sure of a SecretString (SecretBinary is refused).
            let value = request.secretString ?? ""
            let answer = try await context.store.write { db in
                try db.purgeDeletedSecrets(now: context.now)
                let secret = try db.secret(request.secretId, in: context)
                guard secret.deletedAt == nil else { throw ECSError.secretMarkedForDeletion }
                let id = request.clientRequestToken ?? UUID().uuidString.lowercased()
                if let existing = try db.secretVersions(of: secret.name).first(where: { $0.versionId == id }) {
                    // A retried call with the same token and value is answered again; another value is refused.
                    guard try context.secretBox.openSecret(existing, arn: secret.arn) == value else {
                        throw ECSError(
                            "ResourceExistsException",
                            "You can't modify an existing version, you can only create a new version.")
                    }
                    return PutSecretValueResponse(
                        arn: secret.arn, name: secret.name, versionId: id,
                        versionStages: existing.stage.map { [$0] } ?? [])
                }
                try db.addCurrentSecretVersion(
                    StoredSecretVersion(
                        versionId: id,
                        sealedValue: try context.secretBox.sealSecret(value, arn: secret.arn, versionId: id),
                        stage: SecretsManagerRules.currentStage, createdAt: context.now),
                    to: secret.name, current: SecretsManagerRules.currentStage,
                    previous: SecretsManagerRules.previousStage)
                try db.touchSecret(name: secret.name, changedAt: context.now)
                return PutSecretValueResponse(
                    arn: secret.arn, name: secret.name, versionId: id, versionStages: [SecretsManagerRules.currentStage]
                )
            }
            context.logger.info(
                "secret value put",
                metadata: [
                    "secret.arn": "\(answer.arn)", "secret.versionId": "\(answer.versionId)",
                    "by": "\(context.principal.name)",
                ])
            return answer
        },
        "DeleteSecret": OperationHandler { (request: DeleteSecretRequest, context) in
            let (answer, forced) = try await context.store.write { db in
                try db.purgeDeletedSecrets(now: context.now)
                let secret = try db.secret(request.secretId, in: context)
                if request.forceDeleteWithoutRecovery == true {
                    try db.deleteSecret(name: secret.name)
                    return (DeleteSecretResponse(arn: secret.arn, name: secret.name, deletionDate: context.now), true)
                }
                guard secret.deletedAt == nil else {
                    throw ECSError.secretsInvalidRequest(
                        "You can't perform this operation on the secret because it was already scheduled for "
                            + "deletion.")
                }
                let days = request.recoveryWindowInDays ?? DeleteSecretRequest.defaultRecoveryWindowDays
                let deletion = context.now.addingTimeInterval(TimeInterval(days) * 86_400)
                try db.scheduleSecretDeletion(name: secret.name, deletedAt: context.now, deletionAt: deletion)
                return (DeleteSecretResponse(arn: secret.arn, name: secret.name, deletionDate: deletion), false)
            }
            context.logger.info(
                forced ? "secret deleted" : "secret scheduled for deletion",
                metadata: ["secret.arn": "\(answer.arn)", "by": "\(context.principal.name)"])
            return answer
        },
        "RestoreSecret": OperationHandler { (request: RestoreSecretRequest, context) in
            let answer = try await context.store.write { db in
                try db.purgeDeletedSecrets(now: context.now)
                let secret = try db.secret(request.secretId, in: context)
                try db.scheduleSecretDeletion(name: secret.name, deletedAt: nil, deletionAt: nil)
                return RestoreSecretResponse(arn: secret.arn, name: secret.name)
            }
            context.logger.info(
                "secret restored", metadata: ["secret.arn": "\(answer.arn)", "by": "\(context.principal.name)"])
            return answer
        },
        "DescribeSecret": OperationHandler { (request: DescribeSecretRequest, context) in
            try await context.store.read { db in
                try db.describeSecret(try db.secret(request.secretId, in: context), listed: false)
            }
        },
        "ListSecrets": OperationHandler { (request: ListSecretsRequest, context) in
            let filters = request.filters ?? []
            return try await context.store.read { db in
                let secrets = try db.secrets(
                    includingScheduled: request.includePlannedDeletion == true, now: context.now
                ).filter { secret in
                    filters.allSatisfy { $0.matches(name: secret.name, description: secret.description) }
                }
                let descending = request.sortOrder == "desc"
                let page: (items: [StoredSecret], nextToken: String?)
                do {
                    page = try Pagination.page(
                        descending ? Array(secrets.reversed()) : secrets, key: \.name, nextToken: request.nextToken,
                        limit: request.maxResults ?? ListSecretsRequest.defaultPageSize, descending: descending)
                } catch {
                    throw ECSError("InvalidNextTokenException", "The NextToken value is invalid.")
                }
                return ListSecretsResponse(
                    secretList: try page.items.map { try db.describeSecret($0, listed: true) },
                    nextToken: page.nextToken)
            }
        },
    ]
}
