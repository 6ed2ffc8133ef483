/// A container health check, run inside the container by the agent.
///
/// Absent timings take ECS's defaults (see `Defaults.swift`): interval 30 s, timeout 5 s, 3 retries, no start period.
public struct HealthCheck: Hashable, Sendable {
    /// `["CMD", executable, args...]` runs directly; `["CMD-SHELL", "script"]` runs with `/bin/sh -c`.
    public var command: [String]
    /// Seconds between checks: 5–300.
    public var interval: Int?
    /// Seconds a check may take before it counts as failed: 2–60.
    public var timeout: Int?
    /// Consecutive failures before the container is unhealthy: 1–10.
    public var retries: Int?
    /// Seconds after start during which failures do not count: 0–300.
    public var startPeriod: Int?
    /// Fields this type does not model, kept verbatim.
    public var unknownFields: [String: JSONValue]

    /// Creates a health check; absent timings take ECS's defaults.
    public init(
        command: [String], interval: Int? = nil, timeout: Int? = nil, retries: Int? = nil,
        startPeriod: Int? = nil, unknownFields: [String: JSONValue] = [:]
    ) {
        self.command = command
        self.interval = interval
        self.timeout = timeout
        self.retries = retries
        self.startPeriod = startPeriod
        self.unknownFields = unknownFields
    }
}

extension HealthCheck: Codable {
    enum CodingKeys: String, CodingKey, CaseIterable { case command, interval, timeout, retries, startPeriod }

    /// Creates a health check; absent timings take ECS's defaults.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        command = try container.decode([String].self, forKey: .command)
        interval = try container.decodeIntegerIfPresent(forKey: .interval)
        timeout = try container.decodeIntegerIfPresent(forKey: .timeout)
        retries = try container.decodeIntegerIfPresent(forKey: .retries)
        startPeriod = try container.decodeIntegerIfPresent(forKey: .startPeriod)
        unknownFields = try decoder.unknownFields(besides: CodingKeys.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(command, forKey: .command)
        try container.encodeIfPresent(interval, forKey: .interval)
        try container.encodeIfPresent(timeout, forKey: .timeout)
        try container.encodeIfPresent(retries, forKey: .retries)
        try container.encodeIfPresent(startPeriod, forKey: .startPeriod)
        try encoder.encodeUnknownFields(unknownFields, besides: CodingKeys.self)
    }
}
