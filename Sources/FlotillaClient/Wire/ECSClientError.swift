public import Foundation

/// Why an ECS call failed: the API refused it, the endpoint could not be reached, or the answer was not ECS JSON.
///
/// `description` is one line, fit for `ecsctl: <description>` on stderr.
public enum ECSClientError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The API answered with an ECS error (`{"__type": "ClusterNotFoundException", "message": "..."}`).
    /// `type` has botocore's treatment: any `namespace#` prefix and `:suffix` removed.
    case service(type: String, message: String, statusCode: Int)
    /// No HTTP answer at all: connection refused, host unknown, timed out.
    case unreachable(endpoint: URL, reason: String)
    /// An HTTP answer that is not ECS JSON (an HTML error page, a truncated body).
    case malformedResponse(statusCode: Int, reason: String)

    /// The ECS error type (`ClusterNotFoundException`), or nil when the API never answered with one.
    public var type: String? {
        if case .service(let type, _, _) = self { return type }
        return nil
    }

    public var description: String {
        switch self {
        case .service(let type, let message, _):
            return message.isEmpty ? type : "\(type): \(Self.oneLine(message))"
        case .unreachable(let endpoint, let reason):
            return "could not connect to the endpoint \(endpoint.absoluteString): \(Self.oneLine(reason))"
        case .malformedResponse(let statusCode, let reason):
            return "the endpoint answered HTTP \(statusCode) with a body that is not ECS JSON: \(Self.oneLine(reason))"
        }
    }

    private static func oneLine(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
    }
}
