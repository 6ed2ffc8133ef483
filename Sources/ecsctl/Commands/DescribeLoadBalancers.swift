import ArgumentParser
import FlotillaClient
import TaskDefinitions

/// `ecsctl describe-load-balancers`: Flotilla's DescribeLoadBalancers, with each balancer's targets and counters.
struct DescribeLoadBalancers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "describe-load-balancers",
        abstract: "Describes load balancers (all of them unless named), their targets and per-target counters.")

    @OptionGroup var global: GlobalOptions
    @Option(parsing: .upToNextOption, help: "Balancer names (default: all).") var names: [String] = []

    func run() async throws {
        let configuration = try global.configuration()
        var body: [String: JSONValue] = [:]
        body.set("names", names)
        let answer = try await global.client(configuration).call(.describeLoadBalancers, .object(body))
        global.emit(answer) { answer in
            let balancers = answer["loadBalancers"]?.arrayValue ?? []
            return LoadBalancerTables.loadBalancers(balancers) + LoadBalancerTables.targets(balancers)
                + failuresTable(answer)
        }
    }
}

/// Readable tables of load balancer answers.
enum LoadBalancerTables {
    static func loadBalancers(_ balancers: [JSONValue]) -> String {
        var table = TextTable(headers: ["NAME", "STATUS", "LISTENER", "ALGORITHM", "HEALTH CHECK", "TARGETS", "REASON"])
        for balancer in balancers {
            let check = balancer["healthCheck"]
            let health =
                check?["protocol"]?.stringValue == "HTTP"
                ? "HTTP \(text(check?["path"]))" : "TCP"
            table.append([
                text(balancer["loadBalancerName"]), text(balancer["status"]),
                "\(text(balancer["listenerAddress"])):\(text(balancer["listenerPort"]))", text(balancer["algorithm"]),
                "\(health) every \(text(check?["intervalSeconds"]))s",
                String(balancer["targets"]?.arrayValue?.count ?? 0),
                text(balancer["statusReason"]),
            ])
        }
        return table.render()
    }

    static func targets(_ balancers: [JSONValue]) -> String {
        var table = TextTable(headers: [
            "BALANCER", "TARGET", "SERVICE", "HEALTH", "ACTIVE", "TOTAL", "ERRORS", "BYTES IN", "BYTES OUT",  // not an ECS status: column headers
        ])
        for balancer in balancers {
            for target in balancer["targets"]?.arrayValue ?? [] {
                table.append([
                    text(balancer["loadBalancerName"]), "\(text(target["host"])):\(text(target["port"]))",
                    text(target["serviceName"]), text(target["targetHealth"]?["state"]),
                    text(target["activeConnections"]),
                    text(target["totalConnections"]), text(target["connectErrors"]), text(target["bytesIn"]),
                    text(target["bytesOut"]),
                ])
            }
        }
        return table.rows.isEmpty ? "" : "\n" + table.render()
    }

    private static func text(_ value: JSONValue?) -> String {
        switch value {
        case .string(let text)?: return text
        case .number(let number)?: return number.rounded() == number ? String(Int(number)) : String(number)
        case .bool(let flag)?: return String(flag)
        default: return "-"
        }
    }
}
