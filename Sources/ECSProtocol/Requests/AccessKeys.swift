/// What an access key may do. Every signed call is checked against its key's scope (`OperationScopes` in the
/// control plane says which scope each operation needs).
public enum AccessKeyScope: String, Codable, CaseIterable, Sendable {
    /// Everything, including exec, logs, join tokens and key management.
    case admin
    /// Describe, list and get: nothing that changes the cluster or reaches into a container.
    case readOnly = "read-only"
    /// What daemons need: the agent protocol (a key bound to a container instance acts on that instance only) and
    /// the balancers' reads and health reports.
    case agent
}

/// `FlotillaV1.CreateAccessKey`: `{"name": "ci", "scope": "read-only"}`.
public struct CreateAccessKeyRequest: ECSRequest, Decodable {
    public var name: String
    public var scope: AccessKeyScope

    public init(name: String, scope: AccessKeyScope) {
        self.name = name
        self.scope = scope
    }

    /// IAM's user-name rules: 1 to 64 of letters, digits and `+=,.@_-`.
    public static let maxNameLength = 64

    public func validate() throws(ECSError) {
        try AccessKeyRules.checkName(name)
    }
}

/// `FlotillaV1.DeleteAccessKey`: `{"accessKeyId": "AKFL..."}`.
public struct DeleteAccessKeyRequest: ECSRequest, Decodable {
    public var accessKeyId: String

    public init(accessKeyId: String) { self.accessKeyId = accessKeyId }

    public func validate() throws(ECSError) {
        guard AccessKeyRules.isKeyID(accessKeyId) else {
            throw .invalidParameter(
                "accessKeyId: must be 1 to 128 letters, digits or underscores, got \(accessKeyId.prefix(130)).")
        }
    }
}

/// `FlotillaV1.ListAccessKeys`: `{}`.
public struct ListAccessKeysRequest: ECSRequest, Decodable {
    public init() {}
}

/// One key as `CreateAccessKey` answers it (the only time the secret is shown) and `ListAccessKeys` lists it
/// (without the secret). IAM's `AccessKey`/`AccessKeyMetadata`, in ECS's lower camel case.
public struct AccessKeyDescription: Codable, Hashable, Sendable {
    public var accessKeyId: String
    public var name: String
    public var scope: AccessKeyScope
    public var createDate: Double
    /// The container instance an instance credential is bound to (Register issues those); nil for keys people make.
    public var containerInstanceArn: String?
    public var expiration: Double?
    public var secretAccessKey: String?

    public init(
        accessKeyId: String, name: String, scope: AccessKeyScope, createDate: Double,
        containerInstanceArn: String? = nil, expiration: Double? = nil, secretAccessKey: String? = nil
    ) {
        self.accessKeyId = accessKeyId
        self.name = name
        self.scope = scope
        self.createDate = createDate
        self.containerInstanceArn = containerInstanceArn
        self.expiration = expiration
        self.secretAccessKey = secretAccessKey
    }
}

/// The access keys' name and id rules, shared by the API and the control plane's start flags.
public enum AccessKeyRules {
    /// IAM's user-name alphabet: letters, digits and `+=,.@_-`, 1 to 64 characters.
    public static func checkName(_ name: String) throws(ECSError) {
        guard !name.isEmpty, name.count <= CreateAccessKeyRequest.maxNameLength,
            name.unicodeScalars.allSatisfy({
                $0.isASCII && (isAlphanumeric($0) || "+=,.@_-".unicodeScalars.contains($0))
            })
        else {
            throw .invalidParameter(
                "name: must be 1 to \(CreateAccessKeyRequest.maxNameLength) letters, digits or +=,.@_- characters.")
        }
    }

    /// An access key id: 1 to 128 word characters. IAM's own are 16 or more (`AccessKeyIdType`), but operators give
    /// shorter ones at start, as AWS test tools' dummy `testing`/`testing` pair.
    public static func isKeyID(_ id: String) -> Bool {
        (1...128).contains(id.utf8.count)
            && id.unicodeScalars.allSatisfy { $0.isASCII && (isAlphanumeric($0) || $0 == "_") }
    }

    /// A secret an operator gives at start: 1 to 128 printable ASCII characters without spaces.
    public static func isSecret(_ secret: String) -> Bool {
        (1...128).contains(secret.utf8.count)
            && secret.unicodeScalars.allSatisfy { $0.isASCII && $0.value > 32 && $0.value < 127 }
    }

    private static func isAlphanumeric(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
    }
}
