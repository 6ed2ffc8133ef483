import AgentProtocol
import FlotillaDigest
import Foundation
import Synchronization

/// The agent endpoint's check of a container access token: its MAC under the agent's endpoint secret, then the
/// token's task, container, action and expiry against the request, then (exec) that its nonce was never used.
///
/// Used exec nonces are kept until their token expires, at most `capacity` of them: a full ledger refuses new exec
/// sessions rather than forget one still valid (at one exec a second that takes a day of sessions inside six minutes).
final class ContainerAccessCheck: Sendable {
    /// Most exec nonces remembered at once.
    static let defaultCapacity = 100_000

    private let key: [UInt8]
    private let capacity: Int
    private let clock: @Sendable () -> Date
    /// nonce → its token's expiry (epoch seconds).
    private let usedExecNonces = Mutex<[String: Int64]>([:])

    /// - Parameter secret: the endpoint secret the agent registered (`agentToken`); the control plane MACs tokens
    ///   with it.
    init(secret: String, clock: @escaping @Sendable () -> Date, capacity: Int = ContainerAccessCheck.defaultCapacity) {
        key = Array(secret.utf8)
        self.capacity = capacity
        self.clock = clock
    }

    /// HMAC-SHA256 under the endpoint secret: the MAC of `ContainerAccessToken`.
    static func mac(_ payload: Data, key: [UInt8]) -> Data {
        Data(HMACSHA256.code(key: key, message: payload))
    }

    /// The MAC under `secret` (tests mint tokens with it).
    static func mac(_ payload: Data, secret: String) -> Data {
        mac(payload, key: Array(secret.utf8))
    }

    /// Checks `text` for `action` on `container` of `task`; an exec token is spent by passing.
    func authorize(
        _ text: String, task: String, container: String, action: ContainerAccessAction
    ) throws(ContainerAccessTokenError) {
        let key = self.key
        let token = try ContainerAccessToken(verifying: text, authenticatedBy: { Self.mac($0, key: key) })
        let now = clock()
        try token.check(task: task, container: container, action: action, now: now)
        guard action == .exec else { return }
        let seconds = now.timeIntervalSince1970
        let refusal: ContainerAccessTokenError? = usedExecNonces.withLock { used in
            if used[token.nonce] != nil { return .reused }
            // Forget expired nonces now and then (every 1024 sessions), and always before refusing for room.
            if used.count >= capacity || used.count % 1024 == 1023 {
                used = used.filter { Double($0.value) > seconds }
                if used.count >= capacity { return .tooManySessions }
            }
            used[token.nonce] = token.expiresAt
            return nil
        }
        if let refusal { throw refusal }
    }

    /// How many exec nonces are remembered (tests).
    var rememberedNonces: Int { usedExecNonces.withLock { $0.count } }
}
