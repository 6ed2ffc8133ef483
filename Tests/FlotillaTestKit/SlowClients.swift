import Foundation

/// The attacker's clients of an HTTP listener, played over raw sockets: each answers whether the server cut it.
///
/// Meant for a server configured with short deadlines (a few seconds); `bound` is only the generous outer limit.
public enum SlowClients {
    /// Slowloris: a request head trickled one header line at a time and never finished. True when the server closed
    /// the connection before the head was complete.
    public static func slowlorisIsCut(port: Int, within bound: Duration = .seconds(15)) async throws -> Bool {
        let connection = try RawConnection(port: port)
        connection.send("GET /healthz HTTP/1.1\r\nHost: localhost\r\n")
        let deadline = ContinuousClock.now + bound
        var line = 0
        while ContinuousClock.now < deadline {
            if await connection.waitForClose(within: .milliseconds(200)) { return connection.received.isEmpty }
            line += 1
            connection.send("X-Trickle-\(line): a\r\n")
        }
        return false
    }

    /// A connection that sends nothing at all: under TLS, a handshake never started. True when the server closed it.
    public static func silentIsClosed(port: Int, within bound: Duration = .seconds(15)) async throws -> Bool {
        let connection = try RawConnection(port: port)
        return await connection.waitForClose(within: bound)
    }

    /// A complete head announcing 1,000 bytes of body, then one byte at a time. True when the server closed the
    /// connection before the body was complete (it would take far longer than `bound`).
    public static func slowBodyIsCut(
        port: Int, path: String = "/", within bound: Duration = .seconds(15)
    ) async throws -> Bool {
        let connection = try RawConnection(port: port)
        connection.send(
            "POST \(path) HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-amz-json-1.1\r\n"
                + "X-Amz-Target: AmazonEC2ContainerServiceV20141113.ListClusters\r\nContent-Length: 1000\r\n\r\n{")
        let deadline = ContinuousClock.now + bound
        var sent = 1
        while ContinuousClock.now < deadline, sent < 1000 {
            if await connection.waitForClose(within: .milliseconds(200)) { return true }
            connection.send(" ")
            sent += 1
        }
        return false
    }

    /// One complete request answered, then nothing. True when the answer came and the server then closed the idle
    /// keep-alive connection.
    public static func idleIsClosed(
        port: Int, path: String = "/healthz", within bound: Duration = .seconds(15)
    ) async throws -> Bool {
        let connection = try RawConnection(port: port)
        connection.send("GET \(path) HTTP/1.1\r\nHost: localhost\r\n\r\n")
        guard await connection.waitFor("\r\n\r\n", within: bound) else { return false }
        return await connection.waitForClose(within: bound)
    }

    /// A plain GET over a fresh connection; answers the status line, or nil when the server closed without one.
    public static func get(
        port: Int, path: String = "/healthz", within bound: Duration = .seconds(15)
    ) async throws -> String? {
        let connection = try RawConnection(port: port)
        connection.send("GET \(path) HTTP/1.1\r\nHost: localhost\r\n\r\n")
        guard await connection.waitFor("\r\n", within: bound) else { return nil }
        return String(decoding: connection.received, as: UTF8.self).components(separatedBy: "\r\n").first
    }

    /// The cap: connections are opened (each answered once, so each is counted before the next: connections are
    /// set up on several event loops, in no guaranteed order) until one is refused; connections the test process
    /// already holds (URLSession's pool) count too. Answers what the refused one read, how many were admitted, and
    /// whether an admitted one is still served after the refusal.
    public static func beyondCap(
        port: Int, maxConnections: Int, path: String = "/healthz",
        within bound: Duration = .seconds(60)
    ) async throws
        -> (refusal: String, admitted: Int, openOneServed: Bool)
    {
        var held: [RawConnection] = []
        var refusal = ""
        for _ in 0...maxConnections {
            let connection = try RawConnection(port: port)
            connection.send("GET \(path) HTTP/1.1\r\nHost: localhost\r\n\r\n")
            // Each answer's head, or the close of a refused connection (whose 503 head comes first too); the bound is
            // a guard against a hang, not a measure: a loaded machine may take long for the first one.
            _ = await connection.waitFor("\r\n\r\n", within: bound)
            if String(decoding: connection.received, as: UTF8.self).hasPrefix("HTTP/1.1 200") {
                held.append(connection)
                continue
            }
            _ = await connection.waitForClose(within: bound)
            refusal = String(decoding: connection.received, as: UTF8.self)
            break
        }
        guard let last = held.last else { return (refusal, 0, false) }
        let answered = String(decoding: last.received, as: UTF8.self).components(separatedBy: "200 OK").count - 1
        last.send("GET \(path) HTTP/1.1\r\nHost: localhost\r\n\r\n")
        let served =
            await eventually(within: bound, every: .milliseconds(20)) {
                _ = last.isClosed
                return String(decoding: last.received, as: UTF8.self).components(separatedBy: "200 OK").count - 1
                    > answered ? true : nil
            } ?? false
        return (refusal, held.count, served)
    }
}
