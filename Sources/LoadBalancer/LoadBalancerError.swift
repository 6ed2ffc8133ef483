/// Why a balancer could not start.
public enum LoadBalancerError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The configuration breaks a rule; every issue is listed as `field: problem`.
    case invalidConfiguration([String])
    /// Another socket already listens on the listener's port.
    case listenerPortInUse(host: String, port: Int)
    /// The listener could not bind for another reason (`errno` is the OS error number, 0 if none).
    case listenerBindFailed(host: String, port: Int, errno: Int32, message: String)

    public var description: String {
        switch self {
        case .invalidConfiguration(let issues):
            "invalid load balancer configuration: \(issues.joined(separator: "; "))"
        case .listenerPortInUse(let host, let port):
            "listener port \(port) on \(host) is already in use"
        case .listenerBindFailed(let host, let port, let errno, let message):
            "cannot listen on \(host):\(port): \(message) (errno \(errno))"
        }
    }
}
