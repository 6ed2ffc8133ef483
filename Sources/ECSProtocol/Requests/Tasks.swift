public import ECSVocabulary
public import TaskDefinitions

/// The input of `RunTask`.
public struct RunTaskRequest: ECSRequest, Decodable {
    public var cluster: String?
    public var taskDefinition: String
    public var count: Int?
    public var startedBy: String?
    public var group: String?
    public var overrides: JSONValue?
    public var launchType: String?
    public var placementConstraints: [JSONValue]?
    public var placementStrategy: [JSONValue]?
    public var networkConfiguration: JSONValue?
    public var tags: [ResourceTag]?
    public var enableECSManagedTags: Bool?
    public var propagateTags: String?
    public var referenceId: String?
    public var clientToken: String?
    public var enableExecuteCommand: Bool?
}

/// The input of `StartTask`.
public struct StartTaskRequest: ECSRequest, Decodable {
    public var cluster: String?
    public var taskDefinition: String
    public var containerInstances: [String]
    public var startedBy: String?
    public var group: String?
    public var overrides: JSONValue?
    public var networkConfiguration: JSONValue?
    public var tags: [ResourceTag]?
    public var enableECSManagedTags: Bool?
    public var propagateTags: String?
    public var referenceId: String?
    public var enableExecuteCommand: Bool?
}

/// The input of `StopTask`.
public struct StopTaskRequest: ECSRequest, Decodable {
    public var cluster: String?
    public var task: String
    public var reason: String?
}

/// The input of `DescribeTasks`.
public struct DescribeTasksRequest: ECSRequest, Decodable {
    public var cluster: String?
    public var tasks: [String]
    public var include: [String]?
}

/// The input of `ListTasks`.
public struct ListTasksRequest: ECSRequest, Decodable {
    public var cluster: String?
    public var containerInstance: String?
    public var family: String?
    public var nextToken: String?
    public var maxResults: Int?
    public var startedBy: String?
    public var serviceName: String?
    public var desiredStatus: String?
    public var launchType: String?
}

/// The task operations' limits.
public enum TaskRules {
    /// ECS places at most 10 tasks per RunTask/StartTask call.
    public static let maxCount = 10

    /// At most 128 characters.
    public static func checkStartedBy(_ startedBy: String?) throws(ECSError) {
        if let startedBy, startedBy.count > 128 {
            throw .invalidParameter("startedBy: must be at most 128 characters.")
        }
    }
}

extension RunTaskRequest {
    public func validate() throws(ECSError) {
        let count = count ?? 1
        guard (1...TaskRules.maxCount).contains(count) else {
            throw ECSError.invalidParameter("count: must be between 1 and \(TaskRules.maxCount), got \(count).")
        }
        try TaskRules.checkStartedBy(startedBy)
        try TagRules.check(tags)
        try PlacementRules.check(constraints: placementConstraints, strategy: placementStrategy)
        if let launchType, !["EC2", "EXTERNAL"].contains(launchType) {  // not an ECS status: launch types
            throw ECSError.invalidParameter(
                "launchType: must be EC2 or EXTERNAL; Flotilla runs tasks on its own hosts.")
        }
    }
}

extension StartTaskRequest {
    public func validate() throws(ECSError) {
        guard (1...TaskRules.maxCount).contains(containerInstances.count) else {
            throw ECSError.invalidParameter(
                "containerInstances: give 1 to \(TaskRules.maxCount) container instances, got \(containerInstances.count)."
            )
        }
        try TaskRules.checkStartedBy(startedBy)
        try TagRules.check(tags)
    }
}

extension StopTaskRequest {
    public func validate() throws(ECSError) {
        if let reason, reason.count > 255 {
            throw ECSError.invalidParameter("reason: must be at most 255 characters.")
        }
    }
}

extension DescribeTasksRequest {
    public func validate() throws(ECSError) {
        guard (1...100).contains(tasks.count) else {
            throw ECSError.invalidParameter("tasks: give 1 to 100 tasks, got \(tasks.count).")
        }
    }
}

extension ListTasksRequest {
    public func validate() throws(ECSError) {
        _ = try Pagination.limit(maxResults, default: 100, max: 100)
        guard let status = desiredStatusOrDefault, TaskStatus.listFilters.contains(status) else {
            throw ECSError.invalidParameter("desiredStatus: must be RUNNING, PENDING or STOPPED.")
        }
    }

    /// `desiredStatus`, RUNNING when not given; nil for a word that is no task status (`validate` refuses it).
    public var desiredStatusOrDefault: TaskStatus? { desiredStatus.map(TaskStatus.init(rawValue:)) ?? .running }
}
