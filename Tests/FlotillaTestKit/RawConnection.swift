public import Foundation
import Glibc

/// A plain TCP connection to a loopback port, for tests that play a slow or idle client byte by byte.
// @unchecked Sendable: one test drives it at a time; the descriptor is only read, written and closed by that test.
public final class RawConnection: @unchecked Sendable {
    private let fd: Int32
    /// Everything read so far.
    public private(set) var received = Data()

    /// Connects to `127.0.0.1:port`.
    public init(port: Int) throws {
        guard let fd = connectToLoopback(port: port, timeoutSeconds: 10) else {
            throw RawConnectionError.failed("connect", errno)
        }
        self.fd = fd
    }

    deinit { close(fd) }

    /// Makes the close (when this value goes away) a reset (SO_LINGER 0): the peer sees ECONNRESET, not a
    /// half-close it may forward and wait on.
    public func reset() {
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
    }

    /// Writes `text`; false when the peer already closed (EPIPE, ECONNRESET).
    @discardableResult
    public func send(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            }
            guard written > 0 else { return false }
            offset += written
        }
        return true
    }

    /// Reads what is there without waiting; true when the peer closed (EOF or reset).
    private func drain() -> Bool {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if count > 0 {
                received.append(contentsOf: buffer[0..<count])
                continue
            }
            if count == 0 { return true }
            return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR
        }
    }

    /// Waits until the peer closes the connection, at most `bound` (a generous outer limit, not the thing tested).
    /// Answers whether it closed.
    public func waitForClose(within bound: Duration) async -> Bool {
        let deadline = ContinuousClock.now + bound
        while ContinuousClock.now < deadline {
            if drain() { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return drain()
    }

    /// Whether the peer has closed by now (reads what is there first).
    public var isClosed: Bool { drain() }

    /// Waits until `received` contains `text` (or the peer closes), at most `bound`.
    public func waitFor(_ text: String, within bound: Duration) async -> Bool {
        let deadline = ContinuousClock.now + bound
        while ContinuousClock.now < deadline {
            let closed = drain()
            if String(decoding: received, as: UTF8.self).contains(text) { return true }
            if closed { return false }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return String(decoding: received, as: UTF8.self).contains(text)
    }
}

public enum RawConnectionError: Error, CustomStringConvertible {
    case failed(String, Int32)
    public var description: String {
        switch self {
        case .failed(let call, let error): "\(call) failed: errno \(error)"
        }
    }
}
