public import AgentProtocol
public import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Synchronization

/// Talks to an agent endpoint directly, with the stream URL and token `ExecuteCommand` or `GetContainerLogStream`
/// handed out: a container's logs (followed as they are written) and exec.
public struct AgentClient: Sendable {
    /// Seconds a non-streaming call may take beyond the command's own timeout.
    public var timeout: TimeInterval

    public init(timeout: TimeInterval = 60) {
        self.timeout = timeout
    }

    /// Runs `command` in the container through the agent's exec URL.
    public func exec(
        url: URL, token: String, command: [String],
        timeoutSeconds: Int = 30
    ) async throws(ECSClientError) -> AgentExecResult {
        var request = URLRequest(url: url, timeoutInterval: timeout + TimeInterval(timeoutSeconds))
        request.httpMethod = "POST"
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        // JSONEncoder cannot fail on strings and an integer.
        request.httpBody = try! AgentWire.encoder().encode(
            AgentExecRequest(command: command, timeoutSeconds: timeoutSeconds))
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await URLSession.shared.data(for: request)
        } catch {
            throw .unreachable(endpoint: url, reason: "\(error.localizedDescription)")
        }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        _ = try ECSWire.response(statusCode: status, body: data)
        do {
            return try JSONDecoder().decode(AgentExecResult.self, from: data)
        } catch {
            throw .malformedResponse(statusCode: status, reason: "the exec answer does not decode: \(error)")
        }
    }

    /// The URL of the agent's logs with `follow` and `tail` set.
    public static func logsURL(_ url: URL, follow: Bool, tail: Int?) -> URL {
        guard var components = URLComponents(url: url, resolvingAgainstBaseURL: false) else { return url }
        components.queryItems = AgentLogsRequest(follow: follow, tail: tail).queryItems.map {
            URLQueryItem(name: $0.name, value: $0.value)
        }
        return components.url ?? url
    }

    /// The container's output as it arrives; with `follow` the stream stays open until the container stops.
    /// Ending the iteration (or the task) closes the connection. An error answer ends the stream with an
    /// `ECSClientError`.
    public func logs(url: URL, token: String, follow: Bool, tail: Int?) -> AsyncThrowingStream<Data, any Error> {
        var request = URLRequest(url: Self.logsURL(url, follow: follow, tail: tail))
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        // A followed log may be quiet for hours: only an unfollowed one has a deadline.
        request.timeoutInterval = follow ? 365 * 86_400 : timeout
        let (stream, continuation) = AsyncThrowingStream<Data, any Error>.makeStream()
        let delegate = LogStreamDelegate(endpoint: url, continuation: continuation)
        let configuration = URLSessionConfiguration.default
        configuration.timeoutIntervalForRequest = request.timeoutInterval
        // Unfollowed, a large log may take a while: the idle timeout above catches a dead agent.
        configuration.timeoutIntervalForResource = follow ? 365 * 86_400 : 3600
        let session = URLSession(configuration: configuration, delegate: delegate, delegateQueue: nil)
        let task = session.dataTask(with: request)
        continuation.onTermination = { _ in
            task.cancel()
            session.invalidateAndCancel()
        }
        task.resume()
        return stream
    }
}

/// Forwards a streamed answer's bytes into an `AsyncThrowingStream`; an error answer is kept and thrown at the end.
final class LogStreamDelegate: NSObject, URLSessionDataDelegate, Sendable {
    private struct State {
        var status = 0
        var errorBody = Data()
    }

    private let endpoint: URL
    private let continuation: AsyncThrowingStream<Data, any Error>.Continuation
    private let state = Mutex(State())

    init(endpoint: URL, continuation: AsyncThrowingStream<Data, any Error>.Continuation) {
        self.endpoint = endpoint
        self.continuation = continuation
    }

    func urlSession(
        _ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
        completionHandler: @escaping @Sendable (URLSession.ResponseDisposition) -> Void
    ) {
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        state.withLock { $0.status = status }
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        let isError = state.withLock { state in
            guard state.status != 200 else { return false }
            if state.errorBody.count < 64 * 1024 { state.errorBody.append(data) }
            return true
        }
        if !isError { continuation.yield(data) }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
        let (status, body) = state.withLock { ($0.status, $0.errorBody) }
        if let error {
            continuation.finish(
                throwing: ECSClientError.unreachable(endpoint: endpoint, reason: error.localizedDescription))
        } else if status != 200 {
            do {
                _ = try ECSWire.response(statusCode: status, body: body)
                continuation.finish(
                    throwing: ECSClientError.malformedResponse(statusCode: status, reason: "unexpected status"))
            } catch {
                continuation.finish(throwing: error)
            }
        } else {
            continuation.finish()
        }
        session.finishTasksAndInvalidate()
    }
}
