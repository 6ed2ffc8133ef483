import ECSVocabulary
public import Foundation

/// The agent protocol's framing: its operations (`X-Amz-Target: FlotillaAgentV1.<Operation>`, `TargetPrefix.agent`),
/// the limits both sides hold to, and the JSON coders (dates as epoch seconds, as ECS sends them).
public enum AgentWire {
    /// Task state changes in one `SubmitStateChanges` batch.
    public static let maxBatch = 100

    /// The protocol's operations.
    public enum Operation: String, Sendable, CaseIterable {
        case register = "Register"
        case pollDesiredTasks = "PollDesiredTasks"
        case submitStateChanges = "SubmitStateChanges"
        case rotateCredential = "RotateCredential"

        /// The `X-Amz-Target` header value.
        public var target: String { TargetPrefix.agent.target(rawValue) }
    }

    /// A decoder for the protocol's bodies.
    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        return decoder
    }

    /// An encoder for the protocol's bodies (keys sorted: the same change always sends the same bytes).
    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .secondsSince1970
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}
