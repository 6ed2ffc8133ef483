import Foundation

// AWS Secrets Manager on the control plane's endpoint (`X-Amz-Target: secretsmanager.<Operation>`), as botocore's
// `secretsmanager` model shapes it. `SecretString` only (no `SecretBinary`), the AWSCURRENT and AWSPREVIOUS stages.
// A value never appears in an error message.

// MARK: - Requests

/// `secretsmanager.CreateSecret`.
public struct CreateSecretRequest: AWSValidatedRequest {
    public var name: String
    /// The first version's id; the awscli and boto3 fill in a UUID (the model marks it an idempotency token).
    public var clientRequestToken: String?
    public var description: String?
    public var kmsKeyId: String?
    public var secretString: String?
    public var secretBinary: String?
    public var tags: [JSONObjectPlaceholder]?
    public var addReplicaRegions: [JSONObjectPlaceholder]?

    enum CodingKeys: String, CodingKey {
        case name = "Name", clientRequestToken = "ClientRequestToken", description = "Description"
        case kmsKeyId = "KmsKeyId", secretString = "SecretString", secretBinary = "SecretBinary", tags = "Tags"
        case addReplicaRegions = "AddReplicaRegions"
    }

    public init(name: String, secretString: String?, clientRequestToken: String? = nil) {
        self.name = name
        self.secretString = secretString
        self.clientRequestToken = clientRequestToken
    }

    public func validate() throws(ECSError) {
        try SecretsManagerRules.checkName(name)
        try SecretsManagerRules.checkToken(clientRequestToken)
        if let description, description.count > 2048 {
            throw .ssmValidation(field: "description", "Member must have length less than or equal to 2048")
        }
        if let kmsKeyId, kmsKeyId.count > 2048 {
            throw .ssmValidation(field: "kmsKeyId", "Member must have length less than or equal to 2048")
        }
        try SecretsManagerRules.checkValue(secretString, binary: secretBinary)
        if let tags, !tags.isEmpty {
            throw ECSError.secretsInvalidParameter("Tags: are not supported by this secret store.")
        }
        if let addReplicaRegions, !addReplicaRegions.isEmpty {
            throw ECSError.secretsInvalidParameter("AddReplicaRegions: replication is not supported.")
        }
    }
}

/// `secretsmanager.GetSecretValue`: the AWSCURRENT version unless a version id or stage says otherwise.
public struct GetSecretValueRequest: AWSValidatedRequest {
    public var secretId: String
    public var versionId: String?
    public var versionStage: String?

    enum CodingKeys: String, CodingKey {
        case secretId = "SecretId", versionId = "VersionId", versionStage = "VersionStage"
    }

    public init(secretId: String, versionId: String? = nil, versionStage: String? = nil) {
        self.secretId = secretId
        self.versionId = versionId
        self.versionStage = versionStage
    }

    public func validate() throws(ECSError) {
        try SecretsManagerRules.checkSecretID(secretId)
        if let versionId, !(32...64).contains(versionId.count) {
            throw .ssmValidation(field: "versionId", "Member must have length between 32 and 64")
        }
        if let versionStage, !(1...256).contains(versionStage.count) {
            throw .ssmValidation(field: "versionStage", "Member must have length between 1 and 256")
        }
    }
}

/// `secretsmanager.PutSecretValue`: a new version, which becomes AWSCURRENT (the one before, AWSPREVIOUS).
public struct PutSecretValueRequest: AWSValidatedRequest {
    public var secretId: String
    public var clientRequestToken: String?
    public var secretString: String?
    public var secretBinary: String?
    public var versionStages: [String]?

    enum CodingKeys: String, CodingKey {
        case secretId = "SecretId", clientRequestToken = "ClientRequestToken", secretString = "SecretString"
        case secretBinary = "SecretBinary", versionStages = "VersionStages"
    }

    public init(secretId: String, secretString: String?, clientRequestToken: String? = nil) {
        self.secretId = secretId
        self.secretString = secretString
        self.clientRequestToken = clientRequestToken
    }

    public func validate() throws(ECSError) {
        try SecretsManagerRules.checkSecretID(secretId)
        try SecretsManagerRules.checkToken(clientRequestToken)
        guard secretString != nil || secretBinary != nil else {
            throw .secretsInvalidRequest("You must provide either SecretString or SecretBinary.")
        }
        try SecretsManagerRules.checkValue(secretString, binary: secretBinary)
        if let versionStages, versionStages != [SecretsManagerRules.currentStage] {
            throw .secretsInvalidParameter(
                "VersionStages: only [\"\(SecretsManagerRules.currentStage)\"] is supported by this secret store.")
        }
    }
}

/// `secretsmanager.DeleteSecret`: scheduled after a recovery window (7 to 30 days, default 30), or at once with
/// `ForceDeleteWithoutRecovery`.
public struct DeleteSecretRequest: AWSValidatedRequest {
    public var secretId: String
    public var recoveryWindowInDays: Int64?
    public var forceDeleteWithoutRecovery: Bool?

    enum CodingKeys: String, CodingKey {
        case secretId = "SecretId", recoveryWindowInDays = "RecoveryWindowInDays"
        case forceDeleteWithoutRecovery = "ForceDeleteWithoutRecovery"
    }

    public init(secretId: String, recoveryWindowInDays: Int64? = nil, forceDeleteWithoutRecovery: Bool? = nil) {
        self.secretId = secretId
        self.recoveryWindowInDays = recoveryWindowInDays
        self.forceDeleteWithoutRecovery = forceDeleteWithoutRecovery
    }

    public static let defaultRecoveryWindowDays: Int64 = 30

    public func validate() throws(ECSError) {
        try SecretsManagerRules.checkSecretID(secretId)
        if forceDeleteWithoutRecovery == true, recoveryWindowInDays != nil {
            throw .secretsInvalidParameter(
                "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.")
        }
        if let days = recoveryWindowInDays, !(7...30).contains(days) {
            throw .secretsInvalidParameter(
                "The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).")
        }
    }
}

/// `secretsmanager.RestoreSecret`: cancels a scheduled deletion.
public struct RestoreSecretRequest: AWSValidatedRequest {
    public var secretId: String

    enum CodingKeys: String, CodingKey { case secretId = "SecretId" }

    public init(secretId: String) { self.secretId = secretId }

    public func validate() throws(ECSError) { try SecretsManagerRules.checkSecretID(secretId) }
}

/// `secretsmanager.DescribeSecret`: metadata, never a value.
public struct DescribeSecretRequest: AWSValidatedRequest {
    public var secretId: String

    enum CodingKeys: String, CodingKey { case secretId = "SecretId" }

    public init(secretId: String) { self.secretId = secretId }

    public func validate() throws(ECSError) { try SecretsManagerRules.checkSecretID(secretId) }
}

/// `secretsmanager.ListSecrets`: metadata, by name, 1 to 100 a page.
public struct ListSecretsRequest: AWSValidatedRequest {
    public var includePlannedDeletion: Bool?
    public var maxResults: Int?
    public var nextToken: String?
    public var filters: [SecretFilter]?
    public var sortOrder: String?

    enum CodingKeys: String, CodingKey {
        case includePlannedDeletion = "IncludePlannedDeletion", maxResults = "MaxResults", nextToken = "NextToken"
        case filters = "Filters", sortOrder = "SortOrder"
    }

    public init(includePlannedDeletion: Bool? = nil, maxResults: Int? = nil, nextToken: String? = nil) {
        self.includePlannedDeletion = includePlannedDeletion
        self.maxResults = maxResults
        self.nextToken = nextToken
    }

    public static let defaultPageSize = 100

    public func validate() throws(ECSError) {
        if let maxResults, !(1...100).contains(maxResults) {
            throw .ssmValidation(field: "maxResults", "Member must have value between 1 and 100")
        }
        if let nextToken, !(1...4096).contains(nextToken.count) {
            throw .ssmValidation(field: "nextToken", "Member must have length between 1 and 4096")
        }
        if let sortOrder, sortOrder != "asc", sortOrder != "desc" {
            throw .ssmValidation(field: "sortOrder", "Member must satisfy enum value set: [asc, desc]")
        }
        let filters = filters ?? []
        guard filters.count <= 10 else {
            throw .ssmValidation(field: "filters", "Member must have length less than or equal to 10")
        }
        for filter in filters {
            guard let key = filter.key, ["name", "description", "all"].contains(key) else {
                throw .secretsInvalidParameter(
                    "Filters: this secret store filters on name, description and all, got "
                        + "\((filter.key ?? "none").prefix(64)).")
            }
            guard let values = filter.values, (1...10).contains(values.count),
                values.allSatisfy({ (1...512).contains($0.count) })
            else {
                throw .secretsInvalidParameter("Filters: \(key) needs 1 to 10 values of 1 to 512 characters.")
            }
        }
    }
}

/// Secrets Manager's `Filter`: values match as prefixes (a leading `!` negates), as AWS matches them.
public struct SecretFilter: Codable, Hashable, Sendable {
    public var key: String?
    public var values: [String]?

    enum CodingKeys: String, CodingKey { case key = "Key", values = "Values" }

    public init(key: String, values: [String]) {
        self.key = key
        self.values = values
    }

    /// Whether a secret of `name` and `description` passes this (checked) filter.
    public func matches(name: String, description: String?) -> Bool {
        let fields: [String] =
            switch key ?? "" {
            case "name": [name]
            case "description": [description ?? ""]
            default: [name, description ?? ""]
            }
        return (values ?? []).contains { value in
            let negated = value.hasPrefix("!")
            let prefix = negated ? String(value.dropFirst()) : value
            let hit = fields.contains { $0.lowercased().hasPrefix(prefix.lowercased()) }
            return negated ? !hit : hit
        }
    }
}

// MARK: - Rules

/// Secrets Manager's names, sizes, stages and ARNs.
public enum SecretsManagerRules {
    /// The largest `SecretString`: 65,536 bytes.
    public static let maxSecretBytes = 65_536
    public static let currentStage = "AWSCURRENT"
    public static let previousStage = "AWSPREVIOUS"

    /// 1 to 512 characters of `A-Za-z0-9/_+=.@-`.
    public static func checkName(_ name: String) throws(ECSError) {
        guard (1...512).contains(name.count) else {
            throw .ssmValidation(field: "name", "Member must have length between 1 and 512")
        }
        guard name.unicodeScalars.allSatisfy(isNameCharacter) else {
            throw .secretsInvalidParameter(
                "Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: "
                    + "-/_+=.@!")
        }
    }

    /// A secret's name or ARN: 1 to 2048 characters.
    public static func checkSecretID(_ id: String) throws(ECSError) {
        guard (1...2048).contains(id.count) else {
            throw .ssmValidation(field: "secretId", "Member must have length between 1 and 2048")
        }
    }

    /// A version id the client chooses: 32 to 64 characters.
    public static func checkToken(_ token: String?) throws(ECSError) {
        guard let token else { return }
        guard (32...64).contains(token.count) else {
            throw .ssmValidation(field: "clientRequestToken", "Member must have length between 32 and 64")
        }
        guard token.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 32 && $0.value < 127 }) else {
            throw .secretsInvalidParameter("ClientRequestToken: must be printable ASCII characters.")
        }
    }

    /// `SecretString`: 1 to 65,536 bytes; `SecretBinary` is not kept by this store.
    public static func checkValue(_ string: String?, binary: String?) throws(ECSError) {
        if binary != nil {
            throw .secretsInvalidParameter("SecretBinary: is not supported by this secret store; use SecretString.")
        }
        guard let string else { return }
        guard !string.isEmpty else {
            throw .ssmValidation(field: "secretString", "Member must have length greater than or equal to 1")
        }
        guard string.utf8.count <= maxSecretBytes else {
            throw .ssmValidation(
                field: "secretString", "Member must have length less than or equal to \(maxSecretBytes)")
        }
    }

    /// `arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME-SUFFIX`, the suffix six random characters.
    public static func arn(name: String, suffix: String, region: String, account: String) -> String {
        "arn:aws:secretsmanager:\(region):\(account):secret:\(name)-\(suffix)"
    }

    /// The ARN prefix of this control plane's secrets: `arn:aws:secretsmanager:REGION:ACCOUNT:secret:`.
    public static func arnPrefix(region: String, account: String) -> String {
        "arn:aws:secretsmanager:\(region):\(account):secret:"
    }

    static func isNameCharacter(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
            || "/_+=.@-".unicodeScalars.contains(scalar)
    }
}

extension ECSError {
    /// Secrets Manager's `ResourceNotFoundException`, in its words.
    public static let secretNotFound = ECSError(
        "ResourceNotFoundException", "Secrets Manager can't find the specified secret.")

    /// Secrets Manager's `InvalidParameterException`.
    public static func secretsInvalidParameter(_ message: String) -> ECSError {
        ECSError("InvalidParameterException", message)
    }

    /// Secrets Manager's `InvalidRequestException`.
    public static func secretsInvalidRequest(_ message: String) -> ECSError {
        ECSError("InvalidRequestException", message)
    }

    /// Secrets Manager's `ResourceExistsException` for a name in use.
    public static func secretExists(_ name: String) -> ECSError {
        ECSError("ResourceExistsException", "The operation failed because the secret \(name) already exists.")
    }
}
