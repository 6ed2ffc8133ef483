import Foundation
import GRDB
import LoadBalancer

/// The `targetHealth` table ("v7" migration): each running balancer's verdict on each task it checks.
extension Database {
    /// Makes `states` (task ARN → health) what balancer `name` reports: tasks it no longer checks are removed,
    /// changed verdicts written; unchanged rows are not touched (no write wakes the reconciler for nothing).
    func replaceTargetHealth(of name: String, with states: [String: TargetHealth], now: Date) throws {
        let stored = try Row.fetchAll(
            self, sql: "SELECT taskArn, state FROM targetHealth WHERE loadBalancerName = ?", arguments: [name])
        var current: [String: String] = [:]
        for row in stored { current[row["taskArn"]] = row["state"] }
        for taskArn in current.keys where states[taskArn] == nil {
            try execute(
                sql: "DELETE FROM targetHealth WHERE loadBalancerName = ? AND taskArn = ?", arguments: [name, taskArn])
        }
        for (taskArn, state) in states where current[taskArn] != state.rawValue {
            try execute(
                sql: """
                    INSERT INTO targetHealth (loadBalancerName, taskArn, state, updatedAt) VALUES (?, ?, ?, ?)
                    ON CONFLICT(loadBalancerName, taskArn) DO UPDATE SET state = excluded.state, updatedAt = excluded.updatedAt
                    """,
                arguments: [name, taskArn, state.rawValue, now.timeIntervalSince1970])
        }
    }

    /// Forgets every verdict of the balancers not in `names`: nothing checks their targets any more.
    func removeTargetHealth(exceptOf names: Set<String>) throws {
        let reported = try String.fetchAll(self, sql: "SELECT DISTINCT loadBalancerName FROM targetHealth")
        for name in reported where !names.contains(name) {
            try execute(sql: "DELETE FROM targetHealth WHERE loadBalancerName = ?", arguments: [name])
        }
    }

    /// What balancer `name` reported, by task ARN.
    func targetHealth(reportedBy name: String) throws -> [String: TargetHealth] {
        var health: [String: TargetHealth] = [:]
        for row in try Row.fetchAll(
            self, sql: "SELECT taskArn, state FROM targetHealth WHERE loadBalancerName = ?", arguments: [name])
        {
            health[row["taskArn"]] = TargetHealth(rawValue: row["state"])
        }
        return health
    }

    /// The verdicts on the tasks of `cluster`: task ARN → balancer name → health.
    func targetHealth(inCluster cluster: String) throws -> [String: [String: TargetHealth]] {
        let rows = try Row.fetchAll(
            self,
            sql: """
                SELECT th.loadBalancerName AS name, th.taskArn AS taskArn, th.state AS state
                FROM targetHealth th JOIN task t ON t.arn = th.taskArn WHERE t.cluster = ?
                """,
            arguments: [cluster])
        var health: [String: [String: TargetHealth]] = [:]
        for row in rows {
            guard let state = TargetHealth(rawValue: row["state"]) else { continue }
            health[row["taskArn"], default: [:]][row["name"]] = state
        }
        return health
    }

    /// The balancers whose targets something checks (it reported at least one verdict): only these gate a task's
    /// health. A balancer nobody runs has no say.
    func reportingLoadBalancers() throws -> Set<String> {
        Set(try String.fetchAll(self, sql: "SELECT DISTINCT loadBalancerName FROM targetHealth"))
    }
}
