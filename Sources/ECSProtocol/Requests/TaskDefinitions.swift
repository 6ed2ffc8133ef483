public import ECSVocabulary
public import Foundation
public import TaskDefinitions

/// RegisterTaskDefinition's input: the task definition, decoded and validated by `TaskDefinition.decode`.
public struct RegisterTaskDefinitionRequest: ECSRequest {
    public var definition: TaskDefinition

    /// `TaskDefinition.decode`, its errors as ECS's ClientException.
    public static func decode(_ body: Data) throws -> RegisterTaskDefinitionRequest {
        do throws(TaskDefinitionError) {
            return RegisterTaskDefinitionRequest(definition: try TaskDefinition.decode(ECSWire.object(body)))
        } catch {
            throw error.ecsError
        }
    }

    public func validate() throws(ECSError) { try TagRules.check(tags) }

    /// The definition's tags, as the resource's tags.
    public var tags: [ResourceTag]? { definition.tags?.map { ResourceTag(key: $0.key, value: $0.value) } }
}

/// The input of `DescribeTaskDefinition`.
public struct DescribeTaskDefinitionRequest: ECSRequest, Decodable {
    public var taskDefinition: String
    public var include: [String]?
}

/// The input of `ListTaskDefinitions`.
public struct ListTaskDefinitionsRequest: ECSRequest, Decodable {
    public var familyPrefix: String?
    public var status: String?
    public var sort: String?
    public var nextToken: String?
    public var maxResults: Int?
}

/// The input of `DeregisterTaskDefinition`.
public struct DeregisterTaskDefinitionRequest: ECSRequest, Decodable { public var taskDefinition: String }

/// The input of `DeleteTaskDefinitions`.
public struct DeleteTaskDefinitionsRequest: ECSRequest, Decodable { public var taskDefinitions: [String] }

/// `ListTaskDefinitionFamilies`.
public struct ListTaskDefinitionFamiliesRequest: ECSRequest, Decodable {
    public var familyPrefix: String?
    public var status: String?
    public var nextToken: String?
    public var maxResults: Int?
}

/// A task definition reference as requests spell it: `family`, `family:revision` or the ARN.
public struct TaskDefinitionReference: Hashable, Sendable {
    public var family: String
    public var revision: Int?

    public init(_ text: String) throws(ECSError) {
        var reference = text
        if text.hasPrefix("arn:") {
            guard let arn = ARN(text), arn.kind == "task-definition" else {
                throw .client("taskDefinition: \(text.prefix(300)) is not a task definition ARN.")
            }
            reference = arn.resource
        }
        let parts = reference.split(separator: ":", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), !parts[0].isEmpty, parts[0].count <= 255,
            parts[0].allSatisfy(Names.isNameCharacter)
        else {
            throw .client(
                "taskDefinition: \(text.prefix(300)) is not a family, family:revision or task definition ARN.")
        }
        family = String(parts[0])
        if parts.count == 2 {
            guard let revision = Int(parts[1]), revision > 0 else {
                throw .client("taskDefinition: revision must be a positive integer, got \(parts[1].prefix(20)).")
            }
            self.revision = revision
        }
    }
}

extension TaskDefinitionError {
    /// A bad task definition as ECS answers it: a ClientException naming every JSON path that is wrong.
    public var ecsError: ECSError {
        switch self {
        case .malformed(let issue): .client("Invalid task definition: \(issue)")
        case .invalid: .client("Invalid task definition: \(description)")
        }
    }
}

extension DescribeTaskDefinitionRequest {
    public func validate() throws(ECSError) { _ = try TaskDefinitionReference(taskDefinition) }
}

extension ListTaskDefinitionsRequest {
    public func validate() throws(ECSError) {
        _ = try Pagination.limit(maxResults, default: 100, max: 100)
        guard statusOrDefault != nil else {
            throw ECSError.invalidParameter("status: must be ACTIVE, INACTIVE or DELETE_IN_PROGRESS.")
        }
        guard ["ASC", "DESC"].contains(sortOrDefault) else {
            throw ECSError.invalidParameter("sort: must be ASC or DESC.")
        }
    }

    /// `status`, ACTIVE when not given; nil for a word that is no task definition status (`validate` refuses it).
    public var statusOrDefault: TaskDefinitionStatus? { status.map(TaskDefinitionStatus.init(rawValue:)) ?? .active }
    /// `sort`, ASC when not given.
    public var sortOrDefault: String { sort ?? "ASC" }
}

extension ListTaskDefinitionFamiliesRequest {
    public func validate() throws(ECSError) {
        _ = try Pagination.limit(maxResults, default: 100, max: 100)
        if status != "ALL", statusOrDefault == nil {
            throw ECSError.invalidParameter("status: must be ACTIVE, INACTIVE or ALL.")
        }
    }

    /// The families' status to list: ACTIVE when not given, nil for ALL (every family) and for a word that is not
    /// ACTIVE or INACTIVE (`validate` refuses it).
    public var statusOrDefault: TaskDefinitionStatus? {
        guard let status else { return .active }
        return TaskDefinitionStatus(rawValue: status).flatMap { $0 == .deleteInProgress ? nil : $0 }
    }
}

extension DeregisterTaskDefinitionRequest {
    public func validate() throws(ECSError) { _ = try reference() }

    /// The definition to deregister: a revision is required.
    public func reference() throws(ECSError) -> TaskDefinitionReference {
        let reference = try TaskDefinitionReference(taskDefinition)
        guard reference.revision != nil else {
            throw ECSError.client("taskDefinition: give family:revision or the full ARN, not just the family.")
        }
        return reference
    }
}

extension DeleteTaskDefinitionsRequest {
    public func validate() throws(ECSError) { _ = try references() }

    /// Each definition to delete with the text that named it: 1 to 10, each with a revision.
    public func references() throws(ECSError) -> [(text: String, reference: TaskDefinitionReference)] {
        guard (1...10).contains(taskDefinitions.count) else {
            throw ECSError.invalidParameter(
                "taskDefinitions: give 1 to 10 task definitions, got \(taskDefinitions.count).")
        }
        return try taskDefinitions.map { text throws(ECSError) in
            let reference = try TaskDefinitionReference(text)
            guard reference.revision != nil else {
                throw .client(
                    "taskDefinitions: \(text.prefix(300)) needs a revision (family:revision or the full ARN).")
            }
            return (text, reference)
        }
    }
}
