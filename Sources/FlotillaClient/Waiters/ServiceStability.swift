import ECSVocabulary
public import TaskDefinitions

/// The awscli's `services-stable` waiter as a pure judgement of DescribeServices answers, plus the progress lines
/// `ecsctl ... --wait` prints while waiting.
///
/// Stable: every service ACTIVE with one deployment, `runningCount == desiredCount` and nothing pending.
/// Failed at once: a service missing, DRAINING or INACTIVE (it can never become stable).
public enum ServiceStability {
    public enum Verdict: Hashable, Sendable {
        case stable
        /// Not yet; the names of the services still moving.
        case waiting([String])
        /// It never will: why, in one line.
        case failed(String)
    }

    /// Judges one DescribeServices answer for the services asked for.
    public static func verdict(of answer: JSONValue) -> Verdict {
        for failure in answer["failures"]?.arrayValue ?? [] {
            let arn = failure["arn"]?.stringValue ?? "?"
            return .failed("service \(ECSText.shortName(arn)) is \(failure["reason"]?.stringValue ?? "MISSING")")
        }
        var moving: [String] = []
        for service in answer["services"]?.arrayValue ?? [] {
            let name = service["serviceName"]?.stringValue ?? "?"
            // A status this version does not know is not a failure: keep waiting, as for ACTIVE.
            let status = service["status"]?.stringValue.flatMap(ServiceStatus.init(rawValue:)) ?? .active
            if status == .draining || status == .inactive { return .failed("service \(name) is \(status)") }
            if !isStable(service) { moving.append(name) }
        }
        return moving.isEmpty ? .stable : .waiting(moving)
    }

    /// One deployment, running as many as desired, nothing pending.
    public static func isStable(_ service: JSONValue) -> Bool {
        (service["deployments"]?.arrayValue?.count ?? 0) == 1
            && service["runningCount"]?.intValue == service["desiredCount"]?.intValue
            && (service["pendingCount"]?.intValue ?? 0) == 0
    }

    /// `web: 2 desired, 1 running, 1 pending, 2 deployments`.
    public static func countsLine(_ service: JSONValue) -> String {
        let deployments = service["deployments"]?.arrayValue?.count ?? 0
        return "\(service["serviceName"]?.stringValue ?? "?"): \(service["desiredCount"]?.intValue ?? 0) desired, "
            + "\(service["runningCount"]?.intValue ?? 0) running, \(service["pendingCount"]?.intValue ?? 0) pending, "
            + "\(deployments) deployment\(deployments == 1 ? "" : "s")"
    }
}

/// What `--wait` has already shown, so each poll prints only what changed: counts when they move, events once.
public struct ServiceProgress: Sendable {
    private var seenEvents: Set<String> = []
    private var lastCounts: [String: String] = [:]

    /// - Parameter known: a CreateService/UpdateService answer's service, whose events are not news.
    public init(known services: [JSONValue] = []) {
        for service in services {
            for event in service["events"]?.arrayValue ?? [] {
                if let id = event["id"]?.stringValue { seenEvents.insert(id) }
            }
        }
    }

    /// The lines to print for a new DescribeServices answer: new events oldest first, then changed counts.
    public mutating func lines(for answer: JSONValue) -> [String] {
        var lines: [String] = []
        for service in answer["services"]?.arrayValue ?? [] {
            let events = (service["events"]?.arrayValue ?? []).reversed()  // ECS lists the newest first
            for event in events {
                guard let id = event["id"]?.stringValue, seenEvents.insert(id).inserted else { continue }
                lines.append("\(ECSText.timestamp(event["createdAt"]))  \(event["message"]?.stringValue ?? "")")
            }
            let name = service["serviceName"]?.stringValue ?? "?"
            let counts = ServiceStability.countsLine(service)
            if lastCounts[name] != counts {
                lastCounts[name] = counts
                lines.append(counts)
            }
        }
        return lines
    }
}
