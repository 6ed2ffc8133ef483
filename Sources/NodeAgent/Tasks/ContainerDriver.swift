/// How a command run in a container ended.
public enum ContainerExecOutcome: Hashable, Sendable {
    case exited(code: Int32)
    /// It ran past its timeout and was killed.
    case timedOut
}

/// What a `TaskSupervisor` needs from a container runtime. The namespace runtime implements it for real.
///
/// Containers are named by `TaskContainerSpec.containerID`. Every method may throw; the supervisor turns the error
/// into the ECS reason (CannotPullContainerError, CannotCreateContainerError, CannotStartContainerError).
public protocol ContainerDriver: Sendable {
    /// Makes sure `image` is on the host; throws if it is not and cannot be fetched.
    func prepareImage(_ image: String) async throws
    /// Creates the container (not started) and returns its network bindings.
    func create(_ spec: TaskContainerSpec) async throws -> [NetworkBinding]
    /// Starts the container's main process.
    func start(containerID: String) async throws
    /// Returns when the container's main process has exited.
    func wait(containerID: String) async throws -> TaskContainerExit
    /// SIGTERM, then SIGKILL once `timeout` has passed. May return before or after the exit; the exit itself is
    /// reported by `wait`.
    func stop(containerID: String, timeout: Duration) async throws
    /// Runs `arguments` inside the running container, killing it after `timeout`.
    func exec(containerID: String, arguments: [String], timeout: Duration) async throws -> ContainerExecOutcome
    /// Deletes the stopped container and what the runtime keeps for it.
    func remove(containerID: String) async throws
}
