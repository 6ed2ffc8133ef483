import Foundation
import ECSProtocol

// MARK: - Requests and responses

struct SettingResponse: Encodable { var setting: Setting }

struct ListAccountSettingsResponse: Encodable {
    var settings: [Setting]
    var nextToken: String?
}

// MARK: - Rules

extension AccountSettingRules {
    static func rootPrincipal(_ context: OperationContext) -> String { "arn:aws:iam::\(context.accountID):root" }
}

// MARK: - Operations

extension ECSAPI {
    static let accountSettingOperations: [String: OperationHandler] = [
        "PutAccountSetting": OperationHandler { (request: PutAccountSettingRequest, context) in
            let principal = request.principalArn ?? AccountSettingRules.rootPrincipal(context)
            try await context.store.write { db in
                try db.putAccountSetting(request.name, value: request.value, principal: principal)
            }
            return SettingResponse(
                setting: Setting(name: request.name, value: request.value, principalArn: principal, type: "user"))
        },
        "DeleteAccountSetting": OperationHandler { (request: DeleteAccountSettingRequest, context) in
            let principal = request.principalArn ?? AccountSettingRules.rootPrincipal(context)
            return try await context.store.write { db in
                guard let value = try db.accountSetting(request.name, principal: principal) else {
                    throw ECSError.invalidParameter("name: \(request.name) is not set for \(principal.prefix(300)).")
                }
                try db.removeAccountSetting(request.name, principal: principal)
                return SettingResponse(
                    setting: Setting(name: request.name, value: value, principalArn: principal, type: "user"))
            }
        },
        "ListAccountSettings": OperationHandler { (request: ListAccountSettingsRequest, context) in
            let limit = try Pagination.limit(request.maxResults, default: 10, max: 10)
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
            settings =
                settings
                .filter { request.name == nil || $0.name == request.name }
                .filter { request.value == nil || $0.value == request.value }
                .sorted { $0.name < $1.name }
            let page = try Pagination.page(settings, key: \.name, nextToken: request.nextToken, limit: limit)
            return ListAccountSettingsResponse(settings: page.items, nextToken: page.nextToken)
        },
    ]
}
