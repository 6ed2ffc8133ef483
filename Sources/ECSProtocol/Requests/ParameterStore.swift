public import Foundation

// AWS Systems Manager Parameter Store on the control plane's endpoint (`X-Amz-Target: AmazonSSM.<Operation>`), as
// botocore's `ssm` model shapes it: PascalCase members, SSM's error codes. Values never appear in an error message.

// MARK: - Decoding

/// A request of SSM or Secrets Manager: a member missing or null is their `ValidationException` (ECS says
/// `InvalidParameterException`), naming the member; a member of the wrong JSON type is `SerializationException`, as
/// for ECS.
public protocol AWSValidatedRequest: ECSRequest, Decodable {}

extension AWSValidatedRequest {
    public static func decode(_ body: Data) throws -> Self {
        do {
            return try RequestDecoding.decode(Self.self, from: body)
        } catch let error as DecodingError {
            let refusal = RequestDecoding.ecsError(from: error)
            guard refusal.type == ECSError.invalidParameter("").type else { throw refusal }
            throw ECSError("ValidationException", refusal.message)
        }
    }
}

// MARK: - Vocabulary

/// SSM's `ParameterType`.
public enum ParameterType: String, Codable, CaseIterable, Hashable, Sendable {
    case string = "String"
    case stringList = "StringList"
    /// Stored sealed; answered in the clear only to `WithDecryption: true`.
    case secureString = "SecureString"
}

/// SSM's `ParameterTier`: how large a value may be.
public enum ParameterTier: String, Codable, CaseIterable, Hashable, Sendable {
    case standard = "Standard"
    case advanced = "Advanced"
    /// Standard while the value fits, Advanced when it does not (as SSM decides it).
    case intelligentTiering = "Intelligent-Tiering"
}

// MARK: - Requests

/// `AmazonSSM.PutParameter`: creates a parameter, or a new version of one with `Overwrite`.
public struct PutParameterRequest: AWSValidatedRequest {
    public var name: String
    public var description: String?
    public var value: String
    public var type: String?
    public var keyId: String?
    public var overwrite: Bool?
    public var allowedPattern: String?
    public var tags: [ParameterTag]?
    public var tier: String?
    public var policies: String?
    public var dataType: String?

    enum CodingKeys: String, CodingKey {
        case name = "Name", description = "Description", value = "Value", type = "Type", keyId = "KeyId"
        case overwrite = "Overwrite", allowedPattern = "AllowedPattern", tags = "Tags", tier = "Tier"
        case policies = "Policies", dataType = "DataType"
    }

    public init(name: String, value: String, type: ParameterType? = nil, overwrite: Bool? = nil, tier: String? = nil) {
        self.name = name
        self.value = value
        self.type = type?.rawValue
        self.overwrite = overwrite
        self.tier = tier
    }

    /// The checked type; nil when the request names none (an update keeps the stored one).
    public var parameterType: ParameterType? { type.flatMap(ParameterType.init(rawValue:)) }

    /// The tier the value is stored at: Standard unless asked, or unless Intelligent-Tiering needs Advanced.
    public var resolvedTier: ParameterTier {
        switch tier.flatMap(ParameterTier.init(rawValue:)) ?? .standard {
        case .standard: .standard
        case .advanced: .advanced
        case .intelligentTiering:
            value.utf8.count > ParameterStoreRules.maxStandardValueBytes ? .advanced : .standard
        }
    }

    public func validate() throws(ECSError) {
        try ParameterStoreRules.checkNewName(name)
        if let description, description.count > 1024 {
            throw .ssmValidation(field: "description", "Member must have length less than or equal to 1024")
        }
        if let type, ParameterType(rawValue: type) == nil {
            throw .ssmValidation(
                field: "type", "Member must satisfy enum value set: [SecureString, StringList, String]")
        }
        if let tier, ParameterTier(rawValue: tier) == nil {
            throw .ssmValidation(
                field: "tier", "Member must satisfy enum value set: [Standard, Advanced, Intelligent-Tiering]")
        }
        if let keyId {
            guard (1...256).contains(keyId.count),
                keyId.unicodeScalars.allSatisfy({ ParameterStoreRules.isKeyIDCharacter($0) })
            else {
                throw .ssmValidation(
                    field: "keyId",
                    "Member must satisfy regular expression pattern: ^([a-zA-Z0-9:/_-]+)$ and have length 1 to 256")
            }
            guard parameterType == nil || parameterType == .secureString else {
                throw ECSError(
                    "ValidationException", "KeyId: is only allowed for parameters of type SecureString.")
            }
        }
        if value.isEmpty {
            throw .ssmValidation(field: "value", "Member must have length greater than or equal to 1")
        }
        let bytes = value.utf8.count
        switch resolvedTier {
        case .standard where bytes > ParameterStoreRules.maxStandardValueBytes:
            throw ECSError(
                "ValidationException",
                "Standard tier parameters support a maximum parameter value of "
                    + "\(ParameterStoreRules.maxStandardValueBytes) characters. To create a larger parameter value, "
                    + "upgrade the parameter to use the advanced-parameter tier.")
        case .advanced where bytes > ParameterStoreRules.maxAdvancedValueBytes:
            throw ECSError(
                "ValidationException",
                "Advanced tier parameters support a maximum parameter value of "
                    + "\(ParameterStoreRules.maxAdvancedValueBytes) characters.")
        default:
            break
        }
        if allowedPattern != nil {
            // A peer's regular expression is a peer's CPU time: not taken.
            throw ECSError("ValidationException", "AllowedPattern: is not supported by this parameter store.")
        }
        if policies != nil {
            throw ECSError(
                "ValidationException", "Policies: parameter policies are not supported by this parameter store.")
        }
        if let tags, !tags.isEmpty {
            throw ECSError("ValidationException", "Tags: are not supported by this parameter store.")
        }
        if let dataType, dataType != ParameterStoreRules.textDataType {
            throw ECSError(
                "ValidationException",
                "DataType: \(dataType.prefix(128)) is not supported by this parameter store; only text is.")
        }
    }
}

/// SSM's `Tag` (accepted in the shape, refused when present: this store keeps no tags).
public struct ParameterTag: Decodable, Hashable, Sendable {
    public var key: String
    public var value: String

    enum CodingKeys: String, CodingKey { case key = "Key", value = "Value" }
}

/// `AmazonSSM.GetParameter`.
public struct GetParameterRequest: AWSValidatedRequest {
    public var name: String
    public var withDecryption: Bool?

    enum CodingKeys: String, CodingKey { case name = "Name", withDecryption = "WithDecryption" }

    public init(name: String, withDecryption: Bool? = nil) {
        self.name = name
        self.withDecryption = withDecryption
    }

    public func validate() throws(ECSError) { try ParameterStoreRules.checkReference(name, field: "name") }
}

/// `AmazonSSM.GetParameters`: 1 to 10 names; the unknown ones come back in `InvalidParameters`.
public struct GetParametersRequest: AWSValidatedRequest {
    public var names: [String]
    public var withDecryption: Bool?

    enum CodingKeys: String, CodingKey { case names = "Names", withDecryption = "WithDecryption" }

    public init(names: [String], withDecryption: Bool? = nil) {
        self.names = names
        self.withDecryption = withDecryption
    }

    public func validate() throws(ECSError) { try ParameterStoreRules.checkNames(names) }
}

/// `AmazonSSM.GetParametersByPath`: the parameters under a hierarchy, 1 to 10 a page.
public struct GetParametersByPathRequest: AWSValidatedRequest {
    public var path: String
    public var recursive: Bool?
    public var parameterFilters: [ParameterStringFilter]?
    public var withDecryption: Bool?
    public var maxResults: Int?
    public var nextToken: String?

    enum CodingKeys: String, CodingKey {
        case path = "Path", recursive = "Recursive", parameterFilters = "ParameterFilters"
        case withDecryption = "WithDecryption", maxResults = "MaxResults", nextToken = "NextToken"
    }

    public init(path: String, recursive: Bool? = nil, maxResults: Int? = nil, nextToken: String? = nil) {
        self.path = path
        self.recursive = recursive
        self.maxResults = maxResults
        self.nextToken = nextToken
    }

    public static let maxPageSize = 10

    public func validate() throws(ECSError) {
        try ParameterStoreRules.checkPath(path)
        try ParameterStoreRules.checkMaxResults(maxResults, max: Self.maxPageSize)
        try ParameterStoreRules.checkFilters(parameterFilters, allowingPath: false)
    }
}

/// `AmazonSSM.DeleteParameter`.
public struct DeleteParameterRequest: AWSValidatedRequest {
    public var name: String

    enum CodingKeys: String, CodingKey { case name = "Name" }

    public init(name: String) { self.name = name }

    public func validate() throws(ECSError) { try ParameterStoreRules.checkReference(name, field: "name") }
}

/// `AmazonSSM.DeleteParameters`: 1 to 10 names; the unknown ones come back in `InvalidParameters`.
public struct DeleteParametersRequest: AWSValidatedRequest {
    public var names: [String]

    enum CodingKeys: String, CodingKey { case names = "Names" }

    public init(names: [String]) { self.names = names }

    public func validate() throws(ECSError) { try ParameterStoreRules.checkNames(names) }
}

/// `AmazonSSM.DescribeParameters`: metadata only (never a value), 1 to 50 a page.
public struct DescribeParametersRequest: AWSValidatedRequest {
    public var filters: [JSONObjectPlaceholder]?
    public var parameterFilters: [ParameterStringFilter]?
    public var maxResults: Int?
    public var nextToken: String?
    public var shared: Bool?

    enum CodingKeys: String, CodingKey {
        case filters = "Filters", parameterFilters = "ParameterFilters", maxResults = "MaxResults"
        case nextToken = "NextToken", shared = "Shared"
    }

    public init(parameterFilters: [ParameterStringFilter]? = nil, maxResults: Int? = nil, nextToken: String? = nil) {
        self.parameterFilters = parameterFilters
        self.maxResults = maxResults
        self.nextToken = nextToken
    }

    public static let maxPageSize = 50

    public func validate() throws(ECSError) {
        if let filters, !filters.isEmpty {
            throw ECSError(
                "ValidationException", "Filters: the legacy filters are not supported; use ParameterFilters.")
        }
        try ParameterStoreRules.checkMaxResults(maxResults, max: Self.maxPageSize)
        try ParameterStoreRules.checkFilters(parameterFilters, allowingPath: true)
    }
}

/// Any JSON object, decoded only to be refused (a shape this store does not support).
public struct JSONObjectPlaceholder: Decodable, Hashable, Sendable {
    public init(from decoder: any Decoder) throws {}
}

/// SSM's `ParameterStringFilter`: `Name` (Equals, BeginsWith, Contains), `Type` (Equals), `Path` (OneLevel,
/// Recursive; DescribeParameters only).
public struct ParameterStringFilter: Codable, Hashable, Sendable {
    public var key: String
    public var option: String?
    public var values: [String]?

    enum CodingKeys: String, CodingKey { case key = "Key", option = "Option", values = "Values" }

    public init(key: String, option: String? = nil, values: [String]?) {
        self.key = key
        self.option = option
        self.values = values
    }

    /// Whether a parameter of `name` and `type` passes this (checked) filter.
    public func matches(name: String, type: ParameterType) -> Bool {
        let values = values ?? []
        switch key {
        case "Type":
            return values.contains(type.rawValue)
        case "Path":
            return values.contains { ParameterStoreRules.isUnder(name, path: $0, recursive: option == "Recursive") }
        default:
            switch option ?? "Equals" {
            case "BeginsWith": return values.contains { name.hasPrefix($0) }
            case "Contains": return values.contains { name.contains($0) }
            default: return values.contains(name)
            }
        }
    }
}

// MARK: - Rules

/// Parameter Store's names, sizes and hierarchy rules, in SSM's words.
public enum ParameterStoreRules {
    /// A Standard parameter's value: 4 KB.
    public static let maxStandardValueBytes = 4096
    /// An Advanced parameter's value: 8 KB.
    public static let maxAdvancedValueBytes = 8192
    /// The longest parameter name SSM takes (its ARN included, it says; the name alone here).
    public static let maxNameLength = 1011
    /// The longest name or ARN a lookup takes (`PSParameterName`).
    public static let maxReferenceLength = 2048
    /// At most 15 levels of hierarchy.
    public static let maxHierarchyLevels = 15
    /// The only `DataType` this store keeps.
    public static let textDataType = "text"
    /// What SSM reports as the key of a SecureString sealed with the account's default key.
    public static let defaultKeyID = "alias/aws/ssm"

    /// A name `PutParameter` may create: `a-zA-Z0-9_.-` and `/` between levels, fully qualified (leading `/`) when
    /// it has levels, at most 15 levels, not under the reserved `aws`/`ssm` prefixes.
    public static func checkNewName(_ name: String) throws(ECSError) {
        guard !name.isEmpty else {
            throw .ssmValidation(field: "name", "Member must have length greater than or equal to 1")
        }
        guard name.count <= maxNameLength else {
            throw .ssmValidation(field: "name", "Member must have length less than or equal to \(maxNameLength)")
        }
        guard name.unicodeScalars.allSatisfy(isNameCharacter) else {
            throw ECSError(
                "ValidationException",
                "Parameter name: can't contain spaces or characters other than a-zA-Z0-9_.-/, got "
                    + "\(name.prefix(200)).")
        }
        if name.contains("/") {
            guard name.hasPrefix("/"), !name.hasSuffix("/"), !name.contains("//") else {
                throw ECSError(
                    "ValidationException",
                    "Parameter name must be a fully qualified name: it begins with / and no level is empty, got "
                        + "\(name.prefix(200)).")
            }
        }
        let levels = name.split(separator: "/")
        guard levels.count <= maxHierarchyLevels else {
            throw ECSError(
                "HierarchyLevelLimitExceededException",
                "A hierarchy can have a maximum of \(maxHierarchyLevels) levels.")
        }
        let first = levels.first.map { $0.lowercased() } ?? ""
        guard !first.hasPrefix("aws"), !first.hasPrefix("ssm") else {
            throw ECSError("AccessDeniedException", "No access to reserved parameter name: \(name.prefix(200)).")
        }
    }

    /// A name or parameter ARN as lookups take it: 1 to 2048 characters.
    public static func checkReference(_ reference: String, field: String) throws(ECSError) {
        guard !reference.isEmpty else {
            throw .ssmValidation(field: field, "Member must have length greater than or equal to 1")
        }
        guard reference.count <= maxReferenceLength else {
            throw .ssmValidation(field: field, "Member must have length less than or equal to \(maxReferenceLength)")
        }
    }

    /// 1 to 10 names, each a reference.
    public static func checkNames(_ names: [String]) throws(ECSError) {
        guard (1...10).contains(names.count) else {
            throw .ssmValidation(
                field: "names",
                names.isEmpty
                    ? "Member must have length greater than or equal to 1"
                    : "Member must have length less than or equal to 10")
        }
        for (index, name) in names.enumerated() { try checkReference(name, field: "names.\(index + 1).member") }
    }

    /// A hierarchy path: `/`, or `/level[/level...]` of name characters.
    public static func checkPath(_ path: String) throws(ECSError) {
        try checkReference(path, field: "path")
        guard path.hasPrefix("/"), path.unicodeScalars.allSatisfy(isNameCharacter) else {
            throw ECSError(
                "ValidationException",
                "The parameter doesn't meet the parameter name requirements. The parameter name must begin with a "
                    + "forward slash \"/\". It can't be prefixed with \"aws\" or \"ssm\" (case-insensitive). It "
                    + "must use only letters, numbers, or the following symbols: . (period), - (hyphen), _ "
                    + "(underscore). Special characters are not allowed. All sub-paths, if specified, must use the "
                    + "forward slash symbol \"/\". Valid example: /get/parameters2-/by1./path0_.")
        }
    }

    static func checkMaxResults(_ maxResults: Int?, max: Int) throws(ECSError) {
        guard let maxResults else { return }
        guard maxResults >= 1 else {
            throw .ssmValidation(field: "maxResults", "Member must have value greater than or equal to 1")
        }
        guard maxResults <= max else {
            throw .ssmValidation(field: "maxResults", "Member must have value less than or equal to \(max)")
        }
    }

    /// The filters this store answers: `Name` (Equals, BeginsWith, Contains), `Type` (Equals), and `Path`
    /// (OneLevel, Recursive) where `allowingPath`.
    static func checkFilters(_ filters: [ParameterStringFilter]?, allowingPath: Bool) throws(ECSError) {
        for filter in filters ?? [] {
            let options: Set<String> =
                switch filter.key {
                case "Name": ["Equals", "BeginsWith", "Contains"]
                case "Type": ["Equals"]
                case "Path" where allowingPath: ["OneLevel", "Recursive"]
                default:
                    throw ECSError(
                        "InvalidFilterKey",
                        "The specified key \(filter.key.prefix(132)) is not valid; this store filters on "
                            + (allowingPath ? "Name, Type and Path." : "Name and Type."))
                }
            if let option = filter.option, !options.contains(option) {
                throw ECSError(
                    "InvalidFilterOption",
                    "The filter option \(option.prefix(10)) is not valid for key \(filter.key). Valid options "
                        + "include: \(options.sorted().joined(separator: ", ")).")
            }
            guard let values = filter.values, (1...50).contains(values.count),
                values.allSatisfy({ (1...1024).contains($0.count) })
            else {
                throw ECSError(
                    "InvalidFilterValue",
                    "The filter \(filter.key) needs 1 to 50 values of 1 to 1024 characters.")
            }
        }
    }

    /// Whether `name` lies under `path`: one level below it, or any depth when `recursive`.
    public static func isUnder(_ name: String, path: String, recursive: Bool) -> Bool {
        let prefix = path.hasSuffix("/") ? path : path + "/"
        guard name.hasPrefix(prefix), name.count > prefix.count else { return false }
        return recursive || !name.dropFirst(prefix.count).contains("/")
    }

    /// The name an ARN or name refers to, given the parameter ARN prefix of this control plane
    /// (`arn:aws:ssm:REGION:ACCOUNT:parameter`): the candidates to look up, the fully qualified one first.
    public static func candidateNames(_ reference: String, arnPrefix: String) -> [String] {
        guard reference.hasPrefix("arn:") else { return [reference] }
        guard reference.hasPrefix(arnPrefix + "/") else { return [] }
        let rest = String(reference.dropFirst(arnPrefix.count + 1))
        guard !rest.isEmpty else { return [] }
        return rest.contains("/") ? ["/" + rest] : [rest, "/" + rest]
    }

    /// The parameter's ARN: `arn:aws:ssm:REGION:ACCOUNT:parameter/NAME` (`parameter/a/b` for `/a/b`).
    public static func arn(name: String, region: String, account: String) -> String {
        "arn:aws:ssm:\(region):\(account):parameter" + (name.hasPrefix("/") ? name : "/" + name)
    }

    static func isNameCharacter(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
            || "_.-/".unicodeScalars.contains(scalar)
    }

    static func isKeyIDCharacter(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
            || ":/_-".unicodeScalars.contains(scalar)
    }
}

extension ECSError {
    /// SSM's and Secrets Manager's `ValidationException` for a member that breaks its model constraint:
    /// `1 validation error detected: Value at 'name' failed to satisfy constraint: Member must ...`. The value itself
    /// is never quoted (it may be a secret).
    public static func ssmValidation(field: String, _ constraint: String) -> ECSError {
        ECSError(
            "ValidationException",
            "1 validation error detected: Value at '\(field)' failed to satisfy constraint: \(constraint)")
    }

    /// SSM's `ParameterNotFound`.
    public static func parameterNotFound(_ name: String) -> ECSError {
        ECSError("ParameterNotFound", "Parameter \(name.prefix(2048)) not found.")
    }

    /// SSM's `ParameterAlreadyExists`, in its words.
    public static let parameterAlreadyExists = ECSError(
        "ParameterAlreadyExists",
        "The parameter already exists. To overwrite this value, set the overwrite option in the request to true.")

    /// SSM's and Secrets Manager's refusal of a paging token they did not issue.
    public static let invalidNextToken = ECSError("InvalidNextToken", "The nextToken is not valid.")
}
