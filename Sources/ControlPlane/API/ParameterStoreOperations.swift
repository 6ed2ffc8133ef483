import ECSProtocol
import Foundation
import GRDB
import Logging

// The parameter store: AWS Systems Manager Parameter Store's operations (`AmazonSSM.<Operation>`) over the
// `ssmParameter` table. Values are sealed at rest (`SecretBox+Values.swift`); a SecureString is answered in the
// clear only to `WithDecryption: true`, otherwise as the base64 of its sealed form (SSM answers its KMS ciphertext);
// a value is never logged. Writes need an admin key, values too; a read-only key may DescribeParameters.

// MARK: - Wire

/// SSM's `Parameter`.
struct ParameterValue: Encodable {
    var name: String
    var type: String
    var value: String
    var version: Int
    var selector: String?
    var lastModifiedDate: Date
    var arn: String
    var dataType: String

    enum CodingKeys: String, CodingKey {
        case name = "Name", type = "Type", value = "Value", version = "Version", selector = "Selector"
        case lastModifiedDate = "LastModifiedDate", arn = "ARN", dataType = "DataType"
    }
}

/// SSM's `ParameterMetadata`: never the value.
struct ParameterMetadata: Encodable {
    var name: String
    var arn: String
    var type: String
    var keyId: String?
    var lastModifiedDate: Date
    var lastModifiedUser: String
    var description: String?
    var version: Int
    var tier: String
    var policies: [String]
    var dataType: String

    enum CodingKeys: String, CodingKey {
        case name = "Name", arn = "ARN", type = "Type", keyId = "KeyId", lastModifiedDate = "LastModifiedDate"
        case lastModifiedUser = "LastModifiedUser", description = "Description", version = "Version", tier = "Tier"
        case policies = "Policies", dataType = "DataType"
    }
}

struct PutParameterResponse: Encodable {
    var version: Int
    var tier: String

    enum CodingKeys: String, CodingKey {
        case version = "Version", tier = "Tier"
    }
}

struct GetParameterResponse: Encodable {
    var parameter: ParameterValue

    enum CodingKeys: String, CodingKey {
        case parameter = "Parameter"
    }
}

struct GetParametersResponse: Encodable {
    var parameters: [ParameterValue]
    var invalidParameters: [String]

    enum CodingKeys: String, CodingKey {
        case parameters = "Parameters", invalidParameters = "InvalidParameters"
    }
}

struct ParameterPage: Encodable {
    var parameters: [ParameterValue]
    var nextToken: String?

    enum CodingKeys: String, CodingKey {
        case parameters = "Parameters", nextToken = "NextToken"
    }
}

struct ParameterMetadataPage: Encodable {
    var parameters: [ParameterMetadata]
    var nextToken: String?

    enum CodingKeys: String, CodingKey {
        case parameters = "Parameters", nextToken = "NextToken"
    }
}

struct DeleteParametersResponse: Encodable {
    var deletedParameters: [String]
    var invalidParameters: [String]

    enum CodingKeys: String, CodingKey {
        case deletedParameters = "DeletedParameters", invalidParameters = "InvalidParameters"
    }
}

// MARK: - Rules

extension ParameterStoreRules {
    /// At most this many parameters (SSM's Standard-tier quota per account and region): it also bounds what one
    /// DescribeParameters or GetParametersByPath reads.
    static let maxParameters = 10_000
}

extension OperationContext {
    /// `arn:aws:ssm:REGION:ACCOUNT:parameter`, what a parameter ARN of this control plane starts with.
    var parameterARNPrefix: String { "arn:aws:ssm:\(region):\(accountID):parameter" }

    func parameterARN(_ name: String) -> String {
        ParameterStoreRules.arn(name: name, region: region, account: accountID)
    }

    /// The names a reference (name, `name:version`, or ARN) may stand for, and the version it asks for.
    func parameterLookup(_ reference: String) -> (names: [String], version: Int?) {
        if !reference.hasPrefix("arn:"), let colon = reference.lastIndex(of: ":"),
            let version = Int(reference[reference.index(after: colon)...])
        {
            return ([String(reference[..<colon])], version)
        }
        return (ParameterStoreRules.candidateNames(reference, arnPrefix: parameterARNPrefix), nil)
    }

    /// A stored parameter as SSM answers it: SecureStrings in the clear only when `decrypt`.
    func describe(_ parameter: StoredParameter, decrypt: Bool, selector: String? = nil) throws -> ParameterValue {
        let value =
            parameter.type == ParameterType.secureString.rawValue && !decrypt
            ? parameter.sealedValue.base64EncodedString() : try secretBox.openParameter(parameter)
        return ParameterValue(
            name: parameter.name, type: parameter.type, value: value, version: parameter.version, selector: selector,
            lastModifiedDate: parameter.lastModifiedAt, arn: parameterARN(parameter.name),
            dataType: ParameterStoreRules.textDataType)
    }

    func metadata(_ parameter: StoredParameter) -> ParameterMetadata {
        ParameterMetadata(
            name: parameter.name, arn: parameterARN(parameter.name), type: parameter.type, keyId: parameter.keyId,
            lastModifiedDate: parameter.lastModifiedAt, lastModifiedUser: parameter.lastModifiedUser,
            description: parameter.description, version: parameter.version, tier: parameter.tier, policies: [],
            dataType: ParameterStoreRules.textDataType)
    }

    /// Who wrote a parameter, as SSM's `LastModifiedUser`.
    var principalARN: String { "arn:aws:iam::\(accountID):user/\(principal.name)" }
}

extension Database {
    /// The parameter a reference names, at the version it asks for.
    ///
    /// - Throws: `ParameterNotFound`, or `ParameterVersionNotFound` for a version other than the latest (the store
    ///   keeps the latest only).
    func parameter(_ reference: String, in context: OperationContext) throws -> (StoredParameter, selector: String?) {
        let (names, version) = context.parameterLookup(reference)
        guard let parameter = try self.parameter(anyOf: names) else { throw ECSError.parameterNotFound(reference) }
        if let version {
            guard version == parameter.version else {
                throw ECSError(
                    "ParameterVersionNotFound",
                    "Systems Manager could not find version \(version) of \(parameter.name). Verify the version and "
                        + "try again.")
            }
            return (parameter, ":\(version)")
        }
        return (parameter, nil)
    }

    /// The page of parameter names under `prefix` that pass `keep`, after `nextToken`.
    func parameterPage(
        prefix: String, keep: (String, ParameterType) -> Bool, nextToken: String?, limit: Int
    ) throws -> (names: [String], nextToken: String?) {
        let names = try parameterNames(prefix: prefix).compactMap { entry in
            ParameterType(rawValue: entry.type).flatMap { keep(entry.name, $0) ? entry.name : nil }
        }
        do {
            let page = try Pagination.page(names, key: { $0 }, nextToken: nextToken, limit: limit)
            return (page.items, page.nextToken)
        } catch {
            throw ECSError.invalidNextToken
        }
    }
}

// MARK: - Operations

extension ECSAPI {
    static let parameterStoreOperations: [String: OperationHandler] = [
        "PutParameter": OperationHandler { (request: PutParameterRequest, context) in
            let (version, tier, type) = try await context.store.write { db in
                let existing = try db.parameter(named: request.name)
                if existing != nil, request.overwrite != true { throw ECSError.parameterAlreadyExists }
                if existing == nil {
                    guard request.parameterType != nil else {
                        throw ECSError(
                            "ValidationException", "A parameter type is required when you create a parameter.")
                    }
                    guard try db.parameterCount() < ParameterStoreRules.maxParameters else {
                        throw ECSError(
                            "ParameterLimitExceeded",
                            "You have exceeded the number of parameters for this account "
                                + "(\(ParameterStoreRules.maxParameters)).")
                    }
                }
                let type = request.parameterType ?? existing.flatMap { ParameterType(rawValue: $0.type) } ?? .string
                // An Advanced parameter stays Advanced (SSM cannot move one back to Standard).
                let tier: ParameterTier =
                    existing?.tier == ParameterTier.advanced.rawValue ? .advanced : request.resolvedTier
                let version = (existing?.version ?? 0) + 1
                try db.putParameter(
                    StoredParameter(
                        name: request.name, type: type.rawValue,
                        sealedValue: try context.secretBox.sealParameter(
                            request.value, name: request.name, version: version),
                        version: version, tier: tier.rawValue,
                        keyId: type == .secureString ? request.keyId ?? ParameterStoreRules.defaultKeyID : nil,
                        description: request.description ?? existing?.description, lastModifiedAt: context.now,
                        lastModifiedUser: context.principalARN))
                return (version, tier, type)
            }
            context.logger.info(
                "parameter written",
                metadata: [
                    "parameter.name": "\(request.name)", "parameter.version": "\(version)",
                    "parameter.type": "\(type.rawValue)", "by": "\(context.principal.name)",
                ])
            return PutParameterResponse(version: version, tier: tier.rawValue)
        },
        "GetParameter": OperationHandler { (request: GetParameterRequest, context) in
            let (parameter, selector) = try await context.store.read { db in
                try db.parameter(request.name, in: context)
            }
            return GetParameterResponse(
                parameter: try context.describe(
                    parameter, decrypt: request.withDecryption == true, selector: selector))
        },
        "GetParameters": OperationHandler { (request: GetParametersRequest, context) in
            var seen = Set<String>()
            let references = request.names.filter { seen.insert($0).inserted }
            return try await context.store.read { db in
                var answer = GetParametersResponse(parameters: [], invalidParameters: [])
                for reference in references {
                    do {
                        let (parameter, selector) = try db.parameter(reference, in: context)
                        answer.parameters.append(
                            try context.describe(
                                parameter, decrypt: request.withDecryption == true, selector: selector))
                    } catch let error as ECSError
                        where error.type == "ParameterNotFound" || error.type == "ParameterVersionNotFound"
                    {
                        answer.invalidParameters.append(reference)
                    }
                }
                return answer
            }
        },
        "GetParametersByPath": OperationHandler { (request: GetParametersByPathRequest, context) in
            let prefix = request.path.hasSuffix("/") ? request.path : request.path + "/"
            let recursive = request.recursive == true
            let filters = request.parameterFilters ?? []
            return try await context.store.read { db in
                let (names, token) = try db.parameterPage(
                    prefix: prefix,
                    keep: { name, type in
                        ParameterStoreRules.isUnder(name, path: prefix, recursive: recursive)
                            && filters.allSatisfy { $0.matches(name: name, type: type) }
                    },
                    nextToken: request.nextToken, limit: request.maxResults ?? GetParametersByPathRequest.maxPageSize)
                return ParameterPage(
                    parameters: try db.parameters(named: names).map {
                        try context.describe($0, decrypt: request.withDecryption == true)
                    },
                    nextToken: token)
            }
        },
        "DeleteParameter": OperationHandler { (request: DeleteParameterRequest, context) in
            let name = try await context.store.write { db in
                let names = ParameterStoreRules.candidateNames(request.name, arnPrefix: context.parameterARNPrefix)
                for name in names {
                    if try db.deleteParameter(named: name) { return name }
                }
                throw ECSError.parameterNotFound(request.name)
            }
            context.logger.info(
                "parameter deleted", metadata: ["parameter.name": "\(name)", "by": "\(context.principal.name)"])
            return EmptyResponse()
        },
        "DeleteParameters": OperationHandler { (request: DeleteParametersRequest, context) in
            var seen = Set<String>()
            let references = request.names.filter { seen.insert($0).inserted }
            let answer = try await context.store.write { db in
                var answer = DeleteParametersResponse(deletedParameters: [], invalidParameters: [])
                for reference in references {
                    var deleted = false
                    for name in ParameterStoreRules.candidateNames(reference, arnPrefix: context.parameterARNPrefix)
                    where !deleted {
                        deleted = try db.deleteParameter(named: name)
                    }
                    if deleted {
                        answer.deletedParameters.append(reference)
                    } else {
                        answer.invalidParameters.append(reference)
                    }
                }
                return answer
            }
            if !answer.deletedParameters.isEmpty {
                context.logger.info(
                    "parameters deleted",
                    metadata: [
                        "parameter.names": "\(answer.deletedParameters.joined(separator: ","))",
                        "by": "\(context.principal.name)",
                    ])
            }
            return answer
        },
        "DescribeParameters": OperationHandler { (request: DescribeParametersRequest, context) in
            let filters = request.parameterFilters ?? []
            return try await context.store.read { db in
                let (names, token) = try db.parameterPage(
                    prefix: "", keep: { name, type in filters.allSatisfy { $0.matches(name: name, type: type) } },
                    nextToken: request.nextToken, limit: request.maxResults ?? DescribeParametersRequest.maxPageSize)
                return ParameterMetadataPage(
                    parameters: try db.parameters(named: names).map(context.metadata), nextToken: token)
            }
        },
    ]
}
