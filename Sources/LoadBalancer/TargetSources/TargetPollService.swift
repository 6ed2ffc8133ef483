public import Logging
public import ServiceLifecycle

/// Re-reads the targets from the source every `interval` (the control-plane source) and reports the balancer's
/// health verdicts back when they changed; while the source fails, the balancer keeps serving its last targets and
/// the failure is logged once per outage.
public struct TargetPollService: Service {
    let source: any TargetSource
    let balancer: LoadBalancer
    let interval: Duration
    let logger: Logger

    public init(source: any TargetSource, balancer: LoadBalancer, interval: Duration, logger: Logger) {
        self.source = source
        self.balancer = balancer
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            var isFailing = false
            var reported: [String: TargetHealth]?
            while !Task.isCancelled {
                do { try await Task.sleep(for: self.interval) } catch { return }
                do {
                    let settings = try await self.source.load()
                    self.balancer.updateTargets(settings.targets)
                    let health = Self.health(of: self.balancer.snapshot())
                    if health != reported {
                        try await self.source.report(health)
                        reported = health
                    }
                    if isFailing {
                        self.logger.info(
                            "Control plane reachable again", metadata: ["lb.targets": "\(settings.targets.count)"])
                        isFailing = false
                    }
                } catch {
                    if !isFailing {
                        self.logger.warning(
                            "Targets not refreshed, serving the last known ones", metadata: ["error": "\(error)"])
                        isFailing = true
                    }
                }
            }
        }
    }

    /// The balancer's verdict on each target it serves (draining ones are leaving and have no say).
    public static func health(of snapshot: LoadBalancerSnapshot) -> [String: TargetHealth] {
        Dictionary(
            snapshot.targets.filter { !$0.isDraining }.map { ($0.target.id, $0.health) },
            uniquingKeysWith: { first, _ in first })
    }
}
