import Foundation

// The parameter store's and the secret store's values, sealed like access keys' secrets: each bound to its row and
// version (the associated data), so a sealed value copied onto another parameter, secret or version does not open.
extension SecretBox {
    /// `value` sealed for version `version` of the parameter `name`.
    func sealParameter(_ value: String, name: String, version: Int) throws -> Data {
        try seal(value, context: Self.parameterContext(name, version))
    }

    /// The value of a stored parameter.
    func openParameter(_ parameter: StoredParameter) throws -> String {
        try open(parameter.sealedValue, context: Self.parameterContext(parameter.name, parameter.version))
    }

    /// `value` sealed for version `versionId` of the secret `arn`.
    func sealSecret(_ value: String, arn: String, versionId: String) throws -> Data {
        try seal(value, context: Self.secretContext(arn, versionId))
    }

    /// The value of one stored version of the secret `arn`.
    func openSecret(_ version: StoredSecretVersion, arn: String) throws -> String {
        try open(version.sealedValue, context: Self.secretContext(arn, version.versionId))
    }

    private static func parameterContext(_ name: String, _ version: Int) -> String {
        "ssm-parameter:\(name)#\(version)"
    }
    private static func secretContext(_ arn: String, _ versionId: String) -> String { "secret:\(arn)#\(versionId)" }
}
