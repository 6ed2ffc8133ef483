/// The input of `PutAccountSetting`.
public struct PutAccountSettingRequest: ECSRequest, Decodable {
    public var name: String
    public var value: String
    public var principalArn: String?
}

/// The input of `DeleteAccountSetting`.
public struct DeleteAccountSettingRequest: ECSRequest, Decodable {
    public var name: String
    public var principalArn: String?
}

/// The input of `ListAccountSettings`.
public struct ListAccountSettingsRequest: ECSRequest, Decodable {
    public var name: String?
    public var value: String?
    public var principalArn: String?
    public var effectiveSettings: Bool?
    public var nextToken: String?
    public var maxResults: Int?
}

/// ECS's account settings: names, the values each takes, the defaults.
public enum AccountSettingRules {
    /// ECS's account setting names and the values each takes.
    public static let values: [String: Set<String>] = [
        "serviceLongArnFormat": ["enabled", "disabled"],
        "taskLongArnFormat": ["enabled", "disabled"],
        "containerInstanceLongArnFormat": ["enabled", "disabled"],
        "awsvpcTrunking": ["enabled", "disabled"],
        "containerInsights": ["enabled", "disabled", "enhanced"],
        "fargateFIPSMode": ["enabled", "disabled"],
        "tagResourceAuthorization": ["on", "off"],
        "fargateTaskRetirementWaitPeriod": ["0", "7", "14"],
        "guardDutyActivate": ["on", "off"],
        "defaultLogDriverMode": ["blocking", "non-blocking"],
    ]

    /// What an account gets without setting anything (Flotilla ARNs are always in the long format).
    public static let defaults: [String: String] = [
        "serviceLongArnFormat": "enabled", "taskLongArnFormat": "enabled", "containerInstanceLongArnFormat": "enabled",
        "awsvpcTrunking": "disabled", "containerInsights": "disabled", "fargateFIPSMode": "disabled",
        "tagResourceAuthorization": "on", "fargateTaskRetirementWaitPeriod": "7", "guardDutyActivate": "off",
        "defaultLogDriverMode": "blocking",
    ]

    /// Refuses a name that is not an account setting, listing the ones there are.
    public static func checkName(_ name: String) throws(ECSError) {
        guard values[name] != nil else {
            throw .invalidParameter(
                "name: \(name.prefix(100)) is not an account setting; use one of \(values.keys.sorted().joined(separator: ", "))."
            )
        }
    }
}

extension PutAccountSettingRequest {
    public func validate() throws(ECSError) {
        try AccountSettingRules.checkName(name)
        guard AccountSettingRules.values[name]?.contains(value) == true else {
            throw ECSError.invalidParameter(
                "value: \(name) takes \(AccountSettingRules.values[name]!.sorted().joined(separator: " or ")).")
        }
        // Without principalArn the setting is the account root's, whose ARN is always well formed.
        if let principalArn, !(principalArn.hasPrefix("arn:") && principalArn.count <= 2048) {
            throw ECSError.invalidParameter("principalArn: must be an IAM user, role or root ARN.")
        }
    }
}

extension DeleteAccountSettingRequest {
    public func validate() throws(ECSError) { try AccountSettingRules.checkName(name) }
}

extension ListAccountSettingsRequest {
    public func validate() throws(ECSError) {
        _ = try Pagination.limit(maxResults, default: 10, max: 10)
        if let name { try AccountSettingRules.checkName(name) }
        if value != nil, name == nil {
            throw ECSError.invalidParameter("value: needs name.")
        }
    }
}
