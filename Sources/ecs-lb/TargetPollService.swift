import LoadBalancer
import Logging
import ServiceLifecycle

/// Re-reads the targets from the source every `interval` (the control-plane source); while the source fails, the
/// balancer keeps serving its last targets and the failure is logged once per outage.
struct TargetPollService: Service {
    let source: any TargetSource
    let balancer: LoadBalancer
    let interval: Duration
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            var isFailing = false
            while !Task.isCancelled {
                do { try await Task.sleep(for: self.interval) } catch { return }
                do {
                    let settings = try await self.source.load()
                    self.balancer.updateTargets(settings.targets)
                    if isFailing {
                        self.logger.info("Control plane reachable again", metadata: ["lb.targets": "\(settings.targets.count)"])
                        isFailing = false
                    }
                } catch {
                    if !isFailing {
                        self.logger.warning("Targets not refreshed, serving the last known ones", metadata: ["error": "\(error)"])
                        isFailing = true
                    }
                }
            }
        }
    }
}
