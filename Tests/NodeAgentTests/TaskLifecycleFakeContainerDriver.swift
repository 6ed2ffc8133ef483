import Foundation
import NodeAgent
import Synchronization

// Lives here rather than in FlotillaTestKit: FlotillaTestKit does not depend on NodeAgent (Package.swift), so it
// cannot see `ContainerDriver`. Move it there once FlotillaTestKit lists NodeAgent.

/// A fake container runtime: records every call, keeps containers "running" until a test makes them exit, and
/// answers health check execs with what the test set. No processes.
actor FakeContainerDriver: ContainerDriver {
    enum Call: Hashable, Sendable {
        case prepareImage(String)
        case create(String)
        case start(String)
        case stop(String, timeout: Duration)
        case exec(String, arguments: [String])
        case remove(String)
    }

    struct FakeDriverError: Error, CustomStringConvertible {
        var description: String
    }

    private(set) var calls: [Call] = []
    private var missingImages: Set<String>
    private var startFailures: [String: String] = [:]
    private var execOutcomes: [String: ContainerExecOutcome] = [:]
    private var bindings: [String: [NetworkBinding]] = [:]
    private var exits: [String: TaskContainerExit] = [:]
    private var exitWaiters: [String: [CheckedContinuation<TaskContainerExit, Never>]] = [:]

    init(missingImages: Set<String> = []) {
        self.missingImages = missingImages
    }

    // MARK: - Test controls

    /// The container's main process exits with `exit`.
    func exit(_ containerID: String, with exit: TaskContainerExit) {
        guard exits[containerID] == nil else { return }
        exits[containerID] = exit
        for waiter in exitWaiters.removeValue(forKey: containerID) ?? [] { waiter.resume(returning: exit) }
    }

    func failStart(of containerID: String, message: String) { startFailures[containerID] = message }

    /// What health check execs in `containerID` return from now on (default: exit 0).
    func setExecOutcome(_ outcome: ContainerExecOutcome, for containerID: String) {
        execOutcomes[containerID] = outcome
    }

    func setBindings(_ value: [NetworkBinding], for containerID: String) { bindings[containerID] = value }

    // MARK: - ContainerDriver

    func prepareImage(_ image: String) async throws {
        calls.append(.prepareImage(image))
        if missingImages.contains(image) {
            throw FakeDriverError(description: "image \(image) not found on this host")
        }
    }

    func create(_ spec: TaskContainerSpec) async throws -> [NetworkBinding] {
        calls.append(.create(spec.containerID))
        return bindings[spec.containerID] ?? []
    }

    func start(containerID: String) async throws {
        calls.append(.start(containerID))
        if let message = startFailures[containerID] { throw FakeDriverError(description: message) }
    }

    func wait(containerID: String) async throws -> TaskContainerExit {
        if let exit = exits[containerID] { return exit }
        return await withCheckedContinuation { continuation in
            exitWaiters[containerID, default: []].append(continuation)
        }
    }

    /// A fake process dies of the SIGTERM at once.
    func stop(containerID: String, timeout: Duration) async throws {
        calls.append(.stop(containerID, timeout: timeout))
        exit(containerID, with: .signaled(15))
    }

    func exec(containerID: String, arguments: [String], timeout: Duration) async throws -> ContainerExecOutcome {
        calls.append(.exec(containerID, arguments: arguments))
        return execOutcomes[containerID] ?? .exited(code: 0)
    }

    func remove(containerID: String) async throws {
        calls.append(.remove(containerID))
    }
}
