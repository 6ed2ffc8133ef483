import FlotillaClient
import Foundation
import TaskDefinitions

/// Readable tables of ECS answers, one function per kind of object; ecsctl prints these unless `--output json`.
///
/// Each takes the answer's JSON as ECS shapes it and tolerates missing members (shown as `-`).
enum ECSTables {
    // MARK: - Clusters

    static func clusters(_ clusters: [JSONValue]) -> String {
        var table = TextTable(headers: ["NAME", "STATUS", "INSTANCES", "SERVICES", "RUNNING", "PENDING"])  // not an ECS status: column headers
        for cluster in clusters {
            table.append([
                ECSText.text(cluster["clusterName"]), ECSText.text(cluster["status"]),
                ECSText.text(cluster["registeredContainerInstancesCount"]),
                ECSText.text(cluster["activeServicesCount"]),
                ECSText.text(cluster["runningTasksCount"]), ECSText.text(cluster["pendingTasksCount"]),
            ])
        }
        return table.render()
    }

    // MARK: - Task definitions

    static func taskDefinition(_ definition: JSONValue) -> String {
        var summary = TextTable(headers: ["TASK DEFINITION", "STATUS", "NETWORK MODE", "CPU", "MEMORY"])
        let name = "\(ECSText.text(definition["family"])):\(ECSText.text(definition["revision"]))"
        summary.append([
            name, ECSText.text(definition["status"]), ECSText.text(definition["networkMode"]),
            ECSText.text(definition["cpu"]), ECSText.text(definition["memory"]),
        ])
        var containers = TextTable(headers: ["CONTAINER", "IMAGE", "CPU", "MEMORY", "ESSENTIAL", "PORTS"])
        for container in definition["containerDefinitions"]?.arrayValue ?? [] {
            let memory =
                container["memory"].map { ECSText.text($0) }
                ?? container["memoryReservation"].map { "\(ECSText.text($0)) (soft)" } ?? "-"
            let ports = (container["portMappings"]?.arrayValue ?? []).map { mapping in
                let proto = mapping["protocol"]?.stringValue ?? "tcp"
                let host = mapping["hostPort"]?.intValue.map(String.init) ?? "0"
                return "\(host)->\(ECSText.text(mapping["containerPort"]))/\(proto)"
            }
            containers.append([
                ECSText.text(container["name"]), ECSText.text(container["image"]), ECSText.text(container["cpu"]),
                memory,
                ECSText.text(container["essential"] ?? .bool(true)), ports.isEmpty ? "-" : ports.joined(separator: ","),
            ])
        }
        return summary.render() + "\n" + containers.render()
    }

    // MARK: - Services

    static func services(_ services: [JSONValue]) -> String {
        var table = TextTable(headers: ["NAME", "STATUS", "DESIRED", "RUNNING", "PENDING", "TASK DEFINITION"])  // not an ECS status: column headers
        for service in services {
            table.append([
                ECSText.text(service["serviceName"]), ECSText.text(service["status"]),
                ECSText.text(service["desiredCount"]),
                ECSText.text(service["runningCount"]), ECSText.text(service["pendingCount"]),
                service["taskDefinition"]?.stringValue.map(ECSText.shortName) ?? "-",
            ])
        }
        return table.render()
    }

    /// The services table, then each service's deployments and its most recent `eventLimit` events.
    static func serviceDetails(_ services: [JSONValue], eventLimit: Int = 10) -> String {
        var text = Self.services(services)
        for service in services {
            let name = ECSText.text(service["serviceName"])
            let deployments = service["deployments"]?.arrayValue ?? []
            if !deployments.isEmpty {
                var table = TextTable(headers: [
                    "DEPLOYMENT", "STATUS", "TASK DEFINITION", "DESIRED", "RUNNING",  // not an ECS status: column headers
                    "PENDING", "ROLLOUT",  // not an ECS status: column headers
                ])
                for deployment in deployments {
                    table.append([
                        ECSText.text(deployment["id"]), ECSText.text(deployment["status"]),
                        deployment["taskDefinition"]?.stringValue.map(ECSText.shortName) ?? "-",
                        ECSText.text(deployment["desiredCount"]), ECSText.text(deployment["runningCount"]),
                        ECSText.text(deployment["pendingCount"]), ECSText.text(deployment["rolloutState"]),
                    ])
                }
                text += "\nDeployments of \(name):\n" + table.render()
            }
            let events = (service["events"]?.arrayValue ?? []).prefix(eventLimit)
            if !events.isEmpty {
                var table = TextTable(headers: ["TIME", "MESSAGE"])
                for event in events {
                    table.append([ECSText.timestamp(event["createdAt"]), ECSText.text(event["message"])])
                }
                text += "\nRecent events of \(name):\n" + table.render()
            }
        }
        return text
    }

    // MARK: - Tasks

    static func tasks(_ tasks: [JSONValue]) -> String {
        var table = TextTable(headers: [
            "TASK", "TASK DEFINITION", "LAST STATUS", "DESIRED STATUS", "HEALTH", "GROUP",
            "CONTAINER INSTANCE", "STOPPED REASON",
        ])
        for task in tasks {
            table.append([
                task["taskArn"]?.stringValue.map(ECSText.shortName) ?? "-",
                task["taskDefinitionArn"]?.stringValue.map(ECSText.shortName) ?? "-",
                ECSText.text(task["lastStatus"]), ECSText.text(task["desiredStatus"]),
                ECSText.text(task["healthStatus"]), ECSText.text(task["group"]),
                task["containerInstanceArn"]?.stringValue.map(ECSText.shortName) ?? "-",
                ECSText.text(task["stoppedReason"]),
            ])
        }
        return table.render()
    }

    // MARK: - Container instances

    static func containerInstances(_ instances: [JSONValue]) -> String {
        var table = TextTable(headers: [
            "CONTAINER INSTANCE", "STATUS", "AGENT CONNECTED", "RUNNING", "PENDING",  // not an ECS status: column headers
            "CPU FREE/TOTAL", "MEMORY FREE/TOTAL",
        ])
        for instance in instances {
            table.append([
                instance["containerInstanceArn"]?.stringValue.map(ECSText.shortName) ?? "-",
                ECSText.text(instance["status"]),
                ECSText.text(instance["agentConnected"]), ECSText.text(instance["runningTasksCount"]),
                ECSText.text(instance["pendingTasksCount"]),
                resource("CPU", instance), resource("MEMORY", instance),
            ])
        }
        return table.render()
    }

    // MARK: - Attributes, tags, failures, lists

    static func attributes(_ attributes: [JSONValue]) -> String {
        var table = TextTable(headers: ["NAME", "VALUE", "TARGET TYPE", "TARGET"])
        for attribute in attributes {
            table.append([
                ECSText.text(attribute["name"]), ECSText.text(attribute["value"]),
                ECSText.text(attribute["targetType"]),
                attribute["targetId"]?.stringValue.map(ECSText.shortName) ?? "-",
            ])
        }
        return table.render()
    }

    static func tags(_ tags: [JSONValue]) -> String {
        var table = TextTable(headers: ["KEY", "VALUE"])
        for tag in tags { table.append([ECSText.text(tag["key"]), ECSText.text(tag["value"])]) }
        return table.render()
    }

    /// ECS `failures` entries (`arn`, `reason`, `detail`), or "" when there are none.
    static func failures(_ failures: [JSONValue]) -> String {
        if failures.isEmpty { return "" }
        var table = TextTable(headers: ["FAILED", "REASON", "DETAIL"])  // not an ECS status: column headers
        for failure in failures {
            table.append([
                ECSText.text(failure["arn"]), ECSText.text(failure["reason"]), ECSText.text(failure["detail"]),
            ])
        }
        return "\nFailures:\n" + table.render()
    }

    /// A one-column list (ARNs, family names) under `header`.
    static func list(_ header: String, _ items: [JSONValue]) -> String {
        TextTable(headers: [header], rows: items.map { [ECSText.text($0)] }).render()
    }

    private static func resource(_ name: String, _ instance: JSONValue) -> String {
        func value(_ list: String) -> String {
            let entry = instance[list]?.arrayValue?.first { $0["name"]?.stringValue == name }
            return ECSText.text(entry?["integerValue"])
        }
        return "\(value("remainingResources"))/\(value("registeredResources"))"
    }
}
