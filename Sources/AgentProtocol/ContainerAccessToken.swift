public import Foundation

// The bearer token of the agent endpoint's logs and exec: minted by the control plane for one task, container and
// action (`ExecuteCommand`, `FlotillaV1.GetContainerLogStream`), checked by the agent. Both sides share the agent's
// endpoint secret (sent at Register, kept sealed by the control plane); the MAC itself (HMAC-SHA256 under that secret)
// is the caller's, so this target stays pure.

/// What a container access token allows: one of the agent endpoint's two container routes.
public enum ContainerAccessAction: String, Codable, Hashable, Sendable, CaseIterable {
    case exec
    case logs

    /// How long a token for this action is valid: an exec token only has to start its session; a log token may
    /// follow a log from a slow terminal.
    public var lifetime: TimeInterval {
        switch self {
        case .exec: 60
        case .logs: 300
        }
    }
}

/// `base64url(payload) "." base64url(HMAC-SHA256(agent secret, payload))`, the payload
/// `{"action", "container", "expiresAt", "nonce", "task"}` (JSON, sorted keys, `expiresAt` in epoch seconds).
///
/// An exec token is good once (the agent remembers its nonce until it expires); a log token may be used again until
/// it expires, so a followed log can be reopened.
public struct ContainerAccessToken: Codable, Hashable, Sendable {
    /// The task id (the last part of the task ARN), as the endpoint's path spells it.
    public var task: String
    public var container: String
    public var action: ContainerAccessAction
    /// Epoch seconds.
    public var expiresAt: Int64
    /// 16 random bytes in hex: what makes two tokens for the same task, container and second differ.
    public var nonce: String

    /// How far ahead of the agent's clock a token's expiry may be beyond its lifetime: the two hosts' clocks may
    /// differ by this much, as SigV4 allows.
    public static let allowedClockSkew: TimeInterval = 300

    public init(task: String, container: String, action: ContainerAccessAction, expiresAt: Int64, nonce: String) {
        self.task = task
        self.container = container
        self.action = action
        self.expiresAt = expiresAt
        self.nonce = nonce
    }

    /// A new token for `action` on `container` of `task`, valid for the action's lifetime from `now`.
    public static func mint(
        task: String, container: String, action: ContainerAccessAction, now: Date,
        using generator: inout some RandomNumberGenerator
    ) -> ContainerAccessToken {
        let nonce = (0..<16).map { _ in String(format: "%02x", UInt8.random(in: .min ... .max, using: &generator)) }
        return ContainerAccessToken(
            task: task, container: container, action: action,
            expiresAt: Int64((now.timeIntervalSince1970 + action.lifetime).rounded(.down)), nonce: nonce.joined())
    }

    /// The token's text, its payload authenticated by `mac` (HMAC-SHA256 under the agent's secret).
    public func encoded(authenticatedBy mac: (Data) -> Data) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        // Five plain fields always encode.
        let payload = try! encoder.encode(self)
        return Self.base64URL(payload) + "." + Self.base64URL(mac(payload))
    }

    /// The token `text` carries, when its MAC is `mac`'s for its payload (compared in constant time).
    ///
    /// - Throws: `.malformed` or `.forged`; the payload is read only once the MAC checks out.
    public init(verifying text: String, authenticatedBy mac: (Data) -> Data) throws(ContainerAccessTokenError) {
        guard text.utf8.count <= 2048 else { throw .malformed }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let payload = Self.data(base64URL: parts[0]),
            let given = Self.data(base64URL: parts[1])
        else { throw .malformed }
        guard Self.constantTimeEqual(Array(given), Array(mac(payload))) else { throw .forged }
        guard let token = try? JSONDecoder().decode(ContainerAccessToken.self, from: payload) else { throw .malformed }
        self = token
    }

    /// Checks that the token allows `action` on `container` of `task` at `now`.
    public func check(
        task: String, container: String, action: ContainerAccessAction, now: Date
    ) throws(ContainerAccessTokenError) {
        guard self.action == action else { throw .wrongAction(token: self.action, request: action) }
        guard self.task == task else { throw .wrongTask }
        guard self.container == container else { throw .wrongContainer }
        let seconds = now.timeIntervalSince1970
        guard Double(expiresAt) > seconds else { throw .expired }
        guard Double(expiresAt) <= seconds + action.lifetime + Self.allowedClockSkew else { throw .tooLong }
    }

    /// Compares every byte whatever the first difference, so the time taken tells nothing about the MAC.
    public static func constantTimeEqual(_ given: [UInt8], _ expected: [UInt8]) -> Bool {
        var difference: UInt8 = given.count == expected.count ? 0 : 1
        for index in expected.indices {
            difference |= expected[index] ^ (index < given.count ? given[index] : 0)
        }
        return difference == 0
    }

    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func data(base64URL text: Substring) -> Data? {
        guard !text.isEmpty, text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
        else { return nil }
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        return Data(base64Encoded: base64)
    }
}

/// Why the agent endpoint refuses a container access token: one line each, for the `AccessDeniedException`.
public enum ContainerAccessTokenError: Error, Hashable, Sendable, CustomStringConvertible {
    case malformed
    /// The MAC is not the agent secret's: another agent's token, an edited one, or the agent's own secret.
    case forged
    case wrongAction(token: ContainerAccessAction, request: ContainerAccessAction)
    case wrongTask
    case wrongContainer
    case expired
    /// Expires further ahead than any token the control plane mints.
    case tooLong
    /// An exec token used before.
    case reused
    /// The agent remembers as many unexpired exec tokens as it may; it takes no new exec session until some expire.
    case tooManySessions

    public var description: String {
        switch self {
        case .malformed: "the token is not a container access token from ExecuteCommand or GetContainerLogStream."
        case .forged: "the token was not issued for this agent."
        case .wrongAction(let token, let request): "the token is for \(token), not \(request)."
        case .wrongTask: "the token is for another task."
        case .wrongContainer: "the token is for another container."
        case .expired: "the token has expired; ask the control plane for a new one."
        case .tooLong: "the token expires later than any the control plane issues."
        case .reused: "the exec token was already used; each exec needs a new one."
        case .tooManySessions: "too many exec sessions in the last minutes; try again shortly."
        }
    }
}
