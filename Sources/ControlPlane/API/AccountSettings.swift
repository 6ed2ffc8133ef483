import Foundation

// MARK: - Requests and responses

struct PutAccountSettingRequest: Decodable {
    var name: String
    var value: String
    var principalArn: String?
}

struct DeleteAccountSettingRequest: Decodable {
    var name: String
    var principalArn: String?
}

struct SettingResponse: Encodable { var setting: Setting }

struct ListAccountSettingsRequest: Decodable {
    var name: String?
    var value: String?
    var principalArn: String?
    var effectiveSettings: Bool?
    var nextToken: String?
    var maxResults: Int?
}

struct ListAccountSettingsResponse: Encodable {
    var settings: [Setting]
    var nextToken: String?
}

// MARK: - Rules

enum AccountSettingRules {
    /// ECS's account setting names and the values each takes.
    static let values: [String: Set<String>] = [
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
    static let defaults: [String: String] = [
        "serviceLongArnFormat": "enabled", "taskLongArnFormat": "enabled", "containerInstanceLongArnFormat": "enabled",
        "awsvpcTrunking": "disabled", "containerInsights": "disabled", "fargateFIPSMode": "disabled",
        "tagResourceAuthorization": "on", "fargateTaskRetirementWaitPeriod": "7", "guardDutyActivate": "off",
        "defaultLogDriverMode": "blocking",
    ]

    static func checkName(_ name: String) throws(ECSError) {
        guard values[name] != nil else {
            throw .invalidParameter("name: \(name.prefix(100)) is not an account setting; use one of \(values.keys.sorted().joined(separator: ", ")).")
        }
    }

    static func rootPrincipal(_ context: OperationContext) -> String { "arn:aws:iam::\(context.accountID):root" }
}

// MARK: - Operations

extension ECSAPI {
    static let accountSettingOperations: [String: ECSOperation] = [
        "PutAccountSetting": ECSOperation { (request: PutAccountSettingRequest, context) in
            try AccountSettingRules.checkName(request.name)
            guard AccountSettingRules.values[request.name]?.contains(request.value) == true else {
                throw ECSError.invalidParameter("value: \(request.name) takes \(AccountSettingRules.values[request.name]!.sorted().joined(separator: " or ")).")
            }
            let principal = request.principalArn ?? AccountSettingRules.rootPrincipal(context)
            guard principal.hasPrefix("arn:"), principal.count <= 2048 else {
                throw ECSError.invalidParameter("principalArn: must be an IAM user, role or root ARN.")
            }
            try await context.store.write { db in
                try db.putAccountSetting(request.name, value: request.value, principal: principal)
            }
            return SettingResponse(setting: Setting(name: request.name, value: request.value, principalArn: principal, type: "user"))
        },
        "DeleteAccountSetting": ECSOperation { (request: DeleteAccountSettingRequest, context) in
            try AccountSettingRules.checkName(request.name)
            let principal = request.principalArn ?? AccountSettingRules.rootPrincipal(context)
            return try await context.store.write { db in
                guard let value = try db.accountSetting(request.name, principal: principal) else {
                    throw ECSError.invalidParameter("name: \(request.name) is not set for \(principal.prefix(300)).")
                }
                try db.removeAccountSetting(request.name, principal: principal)
                return SettingResponse(setting: Setting(name: request.name, value: value, principalArn: principal, type: "user"))
            }
        },
        "ListAccountSettings": ECSOperation { (request: ListAccountSettingsRequest, context) in
            let limit = try Pagination.limit(request.maxResults, default: 10, max: 10)
            if let name = request.name { try AccountSettingRules.checkName(name) }
            if request.value != nil, request.name == nil {
                throw ECSError.invalidParameter("value: needs name.")
            }
            let principal = request.principalArn ?? AccountSettingRules.rootPrincipal(context)
            let stored = try await context.store.read { db in
                try db.accountSettings(principal: principal)
            }
            var settings = stored.map { Setting(name: $0.name, value: $0.value, principalArn: principal, type: "user") }
            if request.effectiveSettings == true {
                for (name, value) in AccountSettingRules.defaults where !settings.contains(where: { $0.name == name }) {
                    settings.append(Setting(name: name, value: value, principalArn: principal, type: "aws_managed"))
                }
            }
            settings = settings
                .filter { request.name == nil || $0.name == request.name }
                .filter { request.value == nil || $0.value == request.value }
                .sorted { $0.name < $1.name }
            let page = try Pagination.page(settings, key: \.name, nextToken: request.nextToken, limit: limit)
            return ListAccountSettingsResponse(settings: page.items, nextToken: page.nextToken)
        },
    ]
}
