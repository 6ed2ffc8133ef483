public import TaskDefinitions

// The ECS value types that requests carry as well as the control plane's records.

/// An ECS key/value tag (`{"key": ..., "value": ...}`).
public struct ResourceTag: Codable, Hashable, Sendable {
    public var key: String?
    public var value: String?
    public init(key: String?, value: String?) {
        self.key = key
        self.value = value
    }
}

/// A cluster setting or statistic: ECS's name/value `KeyValuePair` (`containerInsights`).
public struct ClusterSetting: Codable, Hashable, Sendable {
    public var name: String?
    public var value: String?
    public init(name: String?, value: String?) {
        self.name = name
        self.value = value
    }
}

/// An ECS resource amount (`CPU`, `MEMORY` as INTEGER; `PORTS` as STRINGSET).
public struct Resource: Codable, Hashable, Sendable {
    public var name: String
    public var type: String
    public var integerValue: Int?
    public var doubleValue: Double?
    public var longValue: Int?
    public var stringSetValue: [String]?

    public init(
        name: String, type: String, integerValue: Int? = nil, doubleValue: Double? = nil, longValue: Int? = nil,
        stringSetValue: [String]? = nil
    ) {
        self.name = name
        self.type = type
        self.integerValue = integerValue
        self.doubleValue = doubleValue
        self.longValue = longValue
        self.stringSetValue = stringSetValue
    }
}

/// A name/value attribute of a container instance (placement constraints read them).
public struct Attribute: Codable, Hashable, Sendable {
    public var name: String
    public var value: String?
    public var targetType: String?
    public var targetId: String?

    public init(name: String, value: String? = nil, targetType: String? = nil, targetId: String? = nil) {
        self.name = name
        self.value = value
        self.targetType = targetType
        self.targetId = targetId
    }
}

/// How a service rolls: never below `minimumHealthyPercent`, never above `maximumPercent` of desiredCount.
public struct DeploymentConfiguration: Codable, Hashable, Sendable {
    /// Stops a rollout whose tasks keep failing, optionally rolling back.
    public struct CircuitBreaker: Codable, Hashable, Sendable {
        public var enable: Bool
        public var rollback: Bool

        public init(enable: Bool, rollback: Bool) {
            self.enable = enable
            self.rollback = rollback
        }
    }

    public var maximumPercent: Int?
    public var minimumHealthyPercent: Int?
    public var deploymentCircuitBreaker: CircuitBreaker?
    public var alarms: JSONValue?

    public init(
        maximumPercent: Int? = nil, minimumHealthyPercent: Int? = nil, deploymentCircuitBreaker: CircuitBreaker? = nil,
        alarms: JSONValue? = nil
    ) {
        self.maximumPercent = maximumPercent
        self.minimumHealthyPercent = minimumHealthyPercent
        self.deploymentCircuitBreaker = deploymentCircuitBreaker
        self.alarms = alarms
    }

    /// ECS's defaults for a REPLICA service: 200 / 100, breaker off.
    public static let defaults = DeploymentConfiguration(
        maximumPercent: 200, minimumHealthyPercent: 100,
        deploymentCircuitBreaker: CircuitBreaker(enable: false, rollback: false)
    )
}
