import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// What a client loop saw.
public struct TrafficCount: Sendable, CustomStringConvertible {
    public var succeeded = 0
    public var failed = 0
    /// The longest a request took, answered or not.
    public var slowest: Duration = .zero
    public var total: Int { succeeded + failed }
    public var description: String { "\(succeeded) answered, \(failed) failed, slowest \(slowest)" }
}

/// A client sending `GET /` to a loopback port every `interval` on its own thread (a new connection each time,
/// HTTP/1.0, 5 s timeouts), counting answers with status 200 and everything else as failed: what a user behind a
/// balancer sees. Its own thread, not the cooperative pool, so tests that block that pool elsewhere never slow it.
public final class TrafficLoop: Sendable {
    private let state = Mutex<
        (stopping: Bool, count: TrafficCount, finished: CheckedContinuation<Void, Never>?, done: Bool)
    >(
        (false, TrafficCount(), nil, false))

    /// Starts sending at once.
    public init(port: Int, interval: Duration = .milliseconds(20)) {
        let thread = Thread { [self] in
            while !state.withLock({ $0.stopping }) {
                let started = ContinuousClock.now
                let answered = Self.get(port: port)
                let took = ContinuousClock.now - started
                state.withLock { state in
                    if answered { state.count.succeeded += 1 } else { state.count.failed += 1 }
                    state.count.slowest = max(state.count.slowest, took)
                }
                let rest = interval - took
                if rest > .zero {
                    Thread.sleep(
                        forTimeInterval: Double(rest.components.attoseconds) / 1e18 + Double(rest.components.seconds))
                }
            }
            let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                state.done = true
                return state.finished
            }
            waiter?.resume()
        }
        thread.start()
    }

    /// Ends the loop after the request in flight and answers what it saw.
    public func stop() async -> TrafficCount {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let finished = state.withLock { state -> Bool in
                state.stopping = true
                if state.done { return true }
                state.finished = continuation
                return false
            }
            if finished { continuation.resume() }
        }
        return state.withLock { $0.count }
    }

    /// One `GET /` over a new connection; true when the answer's status is 200.
    static func get(port: Int) -> Bool {
        guard let fd = connectToLoopback(port: port, timeoutSeconds: 5) else { return false }
        defer { close(fd) }
        let request = Array("GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".utf8)
        guard write(fd, request, request.count) == request.count else { return false }
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(fd, &buffer, buffer.count)
            if count <= 0 { break }
            answer += buffer[..<count]
        }
        let text = String(decoding: answer, as: UTF8.self)
        return text.hasPrefix("HTTP/1.0 200") || text.hasPrefix("HTTP/1.1 200")
    }
}
