import LoadBalancer
import Logging
import ServiceLifecycle
import UnixSignals

/// Reloads the targets from the source on every SIGHUP; a bad file is logged and the old targets stay.
struct TargetReloadService: Service {
    let source: any TargetSource
    let balancer: LoadBalancer
    let logger: Logger

    func run() async throws {
        for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
            do {
                let settings = try await self.source.load()
                self.balancer.updateTargets(settings.targets)
                self.logger.info("Targets reloaded", metadata: ["lb.targets": "\(settings.targets.count)"])
            } catch {
                self.logger.error("Targets not reloaded, keeping the current ones", metadata: ["error": "\(error)"])
            }
        }
    }
}
