import Foundation
public import TaskDefinitions

/// Readable tables of ECS answers, one function per kind of object; ecsctl prints these unless `--output json`.
///
/// Each takes the answer's JSON as ECS shapes it and tolerates missing members (shown as `-`).
public enum ECSTables {
    // MARK: - Clusters

    public static func clusters(_ clusters: [JSONValue]) -> String {
        var table = TextTable(headers: ["NAME", "STATUS", "INSTANCES", "SERVICES", "RUNNING", "PENDING"])  // not an ECS status: column headers
        for cluster in clusters {
            table.append([
                text(cluster["clusterName"]), text(cluster["status"]),
                text(cluster["registeredContainerInstancesCount"]), text(cluster["activeServicesCount"]),
                text(cluster["runningTasksCount"]), text(cluster["pendingTasksCount"]),
            ])
        }
        return table.render()
    }

    // MARK: - Task definitions

    public static func taskDefinition(_ definition: JSONValue) -> String {
        var summary = TextTable(headers: ["TASK DEFINITION", "STATUS", "NETWORK MODE", "CPU", "MEMORY"])
        let name = "\(text(definition["family"])):\(text(definition["revision"]))"
        summary.append([
            name, text(definition["status"]), text(definition["networkMode"]),
            text(definition["cpu"]), text(definition["memory"]),
        ])
        var containers = TextTable(headers: ["CONTAINER", "IMAGE", "CPU", "MEMORY", "ESSENTIAL", "PORTS"])
        for container in definition["containerDefinitions"]?.arrayValue ?? [] {
            let memory =
                container["memory"].map { text($0) }
                ?? container["memoryReservation"].map { "\(text($0)) (soft)" } ?? "-"
            let ports = (container["portMappings"]?.arrayValue ?? []).map { mapping in
                let proto = mapping["protocol"]?.stringValue ?? "tcp"
                let host = mapping["hostPort"]?.intValue.map(String.init) ?? "0"
                return "\(host)->\(text(mapping["containerPort"]))/\(proto)"
            }
            containers.append([
                text(container["name"]), text(container["image"]), text(container["cpu"]), memory,
                text(container["essential"] ?? .bool(true)), ports.isEmpty ? "-" : ports.joined(separator: ","),
            ])
        }
        return summary.render() + "\n" + containers.render()
    }

    // MARK: - Services

    public static func services(_ services: [JSONValue]) -> String {
        var table = TextTable(headers: ["NAME", "STATUS", "DESIRED", "RUNNING", "PENDING", "TASK DEFINITION"])  // not an ECS status: column headers
        for service in services {
            table.append([
                text(service["serviceName"]), text(service["status"]), text(service["desiredCount"]),
                text(service["runningCount"]), text(service["pendingCount"]),
                service["taskDefinition"]?.stringValue.map(shortName) ?? "-",
            ])
        }
        return table.render()
    }

    /// The services table, then each service's deployments and its most recent `eventLimit` events.
    public static func serviceDetails(_ services: [JSONValue], eventLimit: Int = 10) -> String {
        var text = Self.services(services)
        for service in services {
            let name = Self.text(service["serviceName"])
            let deployments = service["deployments"]?.arrayValue ?? []
            if !deployments.isEmpty {
                var table = TextTable(headers: [
                    "DEPLOYMENT", "STATUS", "TASK DEFINITION", "DESIRED", "RUNNING",  // not an ECS status: column headers
                    "PENDING", "ROLLOUT",  // not an ECS status: column headers
                ])
                for deployment in deployments {
                    table.append([
                        Self.text(deployment["id"]), Self.text(deployment["status"]),
                        deployment["taskDefinition"]?.stringValue.map(shortName) ?? "-",
                        Self.text(deployment["desiredCount"]), Self.text(deployment["runningCount"]),
                        Self.text(deployment["pendingCount"]), Self.text(deployment["rolloutState"]),
                    ])
                }
                text += "\nDeployments of \(name):\n" + table.render()
            }
            let events = (service["events"]?.arrayValue ?? []).prefix(eventLimit)
            if !events.isEmpty {
                var table = TextTable(headers: ["TIME", "MESSAGE"])
                for event in events { table.append([timestamp(event["createdAt"]), Self.text(event["message"])]) }
                text += "\nRecent events of \(name):\n" + table.render()
            }
        }
        return text
    }

    // MARK: - Tasks

    public static func tasks(_ tasks: [JSONValue]) -> String {
        var table = TextTable(headers: [
            "TASK", "TASK DEFINITION", "LAST STATUS", "DESIRED STATUS", "HEALTH", "GROUP",
            "CONTAINER INSTANCE", "STOPPED REASON",
        ])
        for task in tasks {
            table.append([
                task["taskArn"]?.stringValue.map(shortName) ?? "-",
                task["taskDefinitionArn"]?.stringValue.map(shortName) ?? "-",
                text(task["lastStatus"]), text(task["desiredStatus"]), text(task["healthStatus"]), text(task["group"]),
                task["containerInstanceArn"]?.stringValue.map(shortName) ?? "-", text(task["stoppedReason"]),
            ])
        }
        return table.render()
    }

    // MARK: - Container instances

    public static func containerInstances(_ instances: [JSONValue]) -> String {
        var table = TextTable(headers: [
            "CONTAINER INSTANCE", "STATUS", "AGENT CONNECTED", "RUNNING", "PENDING",  // not an ECS status: column headers
            "CPU FREE/TOTAL", "MEMORY FREE/TOTAL",
        ])
        for instance in instances {
            table.append([
                instance["containerInstanceArn"]?.stringValue.map(shortName) ?? "-", text(instance["status"]),
                text(instance["agentConnected"]), text(instance["runningTasksCount"]),
                text(instance["pendingTasksCount"]),
                resource("CPU", instance), resource("MEMORY", instance),
            ])
        }
        return table.render()
    }

    // MARK: - Attributes, tags, failures, lists

    public static func attributes(_ attributes: [JSONValue]) -> String {
        var table = TextTable(headers: ["NAME", "VALUE", "TARGET TYPE", "TARGET"])
        for attribute in attributes {
            table.append([
                text(attribute["name"]), text(attribute["value"]), text(attribute["targetType"]),
                attribute["targetId"]?.stringValue.map(shortName) ?? "-",
            ])
        }
        return table.render()
    }

    public static func tags(_ tags: [JSONValue]) -> String {
        var table = TextTable(headers: ["KEY", "VALUE"])
        for tag in tags { table.append([text(tag["key"]), text(tag["value"])]) }
        return table.render()
    }

    /// ECS `failures` entries (`arn`, `reason`, `detail`), or "" when there are none.
    public static func failures(_ failures: [JSONValue]) -> String {
        if failures.isEmpty { return "" }
        var table = TextTable(headers: ["FAILED", "REASON", "DETAIL"])  // not an ECS status: column headers
        for failure in failures {
            table.append([text(failure["arn"]), text(failure["reason"]), text(failure["detail"])])
        }
        return "\nFailures:\n" + table.render()
    }

    /// A one-column list (ARNs, family names) under `header`.
    public static func list(_ header: String, _ items: [JSONValue]) -> String {
        TextTable(headers: [header], rows: items.map { [text($0)] }).render()
    }

    // MARK: - Cells

    /// The readable short form of an ECS ARN: `task-definition/web:3` → `web:3`, `service/default/web` → `web`,
    /// `task/default/0a1b` → `0a1b`. Anything that is not an ARN is returned as is.
    public static func shortName(_ arn: String) -> String {
        guard arn.hasPrefix("arn:"), let slash = arn.lastIndex(of: "/") else { return arn }
        return String(arn[arn.index(after: slash)...])
    }

    /// A cell: strings as they are, integers without a fraction, booleans as true/false, missing as `-`.
    public static func text(_ value: JSONValue?) -> String {
        switch value {
        case nil, .null?: return "-"
        case .string(let text)?: return text.isEmpty ? "-" : text
        case .bool(let flag)?: return flag ? "true" : "false"
        case .number(let number)?:
            if number.rounded() == number, abs(number) < 1e15 { return String(Int64(number)) }
            return String(number)
        case .array(let items)?: return items.map { text($0) }.joined(separator: ",")
        case .object?: return String(decoding: ECSWire.encode(value!), as: UTF8.self)
        }
    }

    /// An ECS timestamp (epoch seconds, as the JSON protocol sends it) as `2026-11-29 06:10:42Z`.
    public static func timestamp(_ value: JSONValue?) -> String {
        guard case .number(let seconds)? = value else { return text(value) }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [
            .withFullDate, .withDashSeparatorInDate, .withTime, .withColonSeparatorInTime, .withSpaceBetweenDateAndTime,
        ]
        return formatter.string(from: Date(timeIntervalSince1970: seconds)) + "Z"
    }

    private static func resource(_ name: String, _ instance: JSONValue) -> String {
        func value(_ list: String) -> String {
            let entry = instance[list]?.arrayValue?.first { $0["name"]?.stringValue == name }
            return text(entry?["integerValue"])
        }
        return "\(value("remainingResources"))/\(value("registeredResources"))"
    }
}
