public import ECSVocabulary
public import Scheduler
public import TaskDefinitions

/// The input of `RegisterContainerInstance`.
public struct RegisterContainerInstanceRequest: ECSRequest, Decodable {
    public var cluster: String?
    public var instanceIdentityDocument: String?
    public var instanceIdentityDocumentSignature: String?
    public var totalResources: [Resource]?
    public var versionInfo: JSONValue?
    public var containerInstanceArn: String?
    public var attributes: [Attribute]?
    public var platformDevices: [JSONValue]?
    public var tags: [ResourceTag]?
}

/// The input of `DeregisterContainerInstance`.
public struct DeregisterContainerInstanceRequest: ECSRequest, Decodable {
    public var cluster: String?
    public var containerInstance: String
    public var force: Bool?
}

/// The input of `ListContainerInstances`.
public struct ListContainerInstancesRequest: ECSRequest, Decodable {
    public var cluster: String?
    public var filter: String?
    public var nextToken: String?
    public var maxResults: Int?
    public var status: String?
}

/// The input of `DescribeContainerInstances`.
public struct DescribeContainerInstancesRequest: ECSRequest, Decodable {
    public var cluster: String?
    public var containerInstances: [String]
    public var include: [String]?
}

/// The input of `UpdateContainerInstancesState`.
public struct UpdateContainerInstancesStateRequest: ECSRequest, Decodable {
    public var cluster: String?
    public var containerInstances: [String]
    public var status: String
}

/// The input of `DiscoverPollEndpoint`.
public struct DiscoverPollEndpointRequest: ECSRequest, Decodable {
    public var containerInstance: String?
    public var cluster: String?
}

extension RegisterContainerInstanceRequest {
    public func validate() throws(ECSError) {
        let resources = totalResources ?? []
        for name in ["CPU", "MEMORY"] {
            guard let value = resources.first(where: { $0.name == name })?.integerValue else {
                throw ECSError.invalidParameter("totalResources: needs an INTEGER \(name) resource.")
            }
            guard value >= 0 else {
                throw ECSError.invalidParameter("totalResources: \(name) must not be negative, got \(value).")
            }
        }
        guard (attributes ?? []).count <= 100 else {
            throw ECSError.invalidParameter("attributes: at most 100 attributes.")
        }
        try TagRules.check(tags)
    }
}

extension ListContainerInstancesRequest {
    public func validate() throws(ECSError) {
        _ = try Pagination.limit(maxResults, default: 100, max: 100)
        _ = try parsedFilter()
        if status != nil, statusFilter.map(ContainerInstanceStatus.listFilters.contains) != true {
            throw ECSError.invalidParameter(
                "status: must be ACTIVE, DRAINING, REGISTERING, DEREGISTERING or REGISTRATION_FAILED.")
        }
    }

    /// `status` as the vocabulary's word (checked by `validate`); nil when not given.
    public var statusFilter: ContainerInstanceStatus? { status.flatMap(ContainerInstanceStatus.init(rawValue:)) }

    /// `filter` in the cluster query language, parsed; nil when not given.
    public func parsedFilter() throws(ECSError) -> ConstraintExpression? {
        guard let filter else { return nil }
        do throws(ConstraintExpressionError) {
            return try ConstraintExpression(parsing: filter)
        } catch {
            throw ECSError.invalidParameter("filter: \(error.description)")
        }
    }
}

extension DescribeContainerInstancesRequest {
    public func validate() throws(ECSError) {
        guard (1...100).contains(containerInstances.count) else {
            throw ECSError.invalidParameter(
                "containerInstances: give 1 to 100 container instances, got \(containerInstances.count).")
        }
    }
}

extension UpdateContainerInstancesStateRequest {
    public func validate() throws(ECSError) {
        guard (1...10).contains(containerInstances.count) else {
            throw ECSError.invalidParameter(
                "containerInstances: give 1 to 10 container instances, got \(containerInstances.count).")
        }
        guard let newStatus = ContainerInstanceStatus(rawValue: status),
            ContainerInstanceStatus.settable.contains(newStatus)
        else {
            throw ECSError.invalidParameter("status: must be ACTIVE or DRAINING.")
        }
    }

    /// `status` as the vocabulary's word (checked by `validate`).
    public var newStatus: ContainerInstanceStatus { ContainerInstanceStatus(rawValue: status) ?? .active }
}
