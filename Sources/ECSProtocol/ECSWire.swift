public import ECSVocabulary
public import Foundation

/// The input of one operation: decoded from the request body, then checked on its own, before the store is asked.
public protocol ECSRequest: Sendable {
    /// Decodes the request body; a body of whitespace only is `{}`. Throws `ECSError` or `DecodingError`.
    static func decode(_ body: Data) throws -> Self
    /// ECS's checks that need nothing but the request, in the order the operation applies them: the first problem,
    /// naming the field. What needs the store (does the cluster exist?) is the operation's.
    func validate() throws(ECSError)
}

extension ECSRequest {
    public func validate() throws(ECSError) {}
}

extension ECSRequest where Self: Decodable {
    /// The body as JSON of the request's shape (`RequestDecoding`).
    public static func decode(_ body: Data) throws -> Self { try RequestDecoding.decode(Self.self, from: body) }
}

/// The ECS JSON 1.1 wire up to an operation's checked input: `POST /` with `X-Amz-Target: <prefix><Operation>`,
/// a JSON content type and a JSON object body.
///
/// Pure: the control plane's `ECSAPI` calls these steps in this order around reading the body, and the request fuzz
/// target (`Fuzz/`) calls them on arbitrary bytes. Every failure is an `ECSError` (`ecsError(from:)`).
public enum ECSWire {
    /// ECS's operations: the routing key of `TargetPrefix.ecs` (the prefix and its dot).
    public static let targetPrefix = TargetPrefix.ecs.dotted
    /// The agent protocol and the join token operations (`TargetPrefix.agent`).
    public static let agentTargetPrefix = TargetPrefix.agent.dotted
    /// Flotilla's own user-facing operations (`TargetPrefix.flotilla`).
    public static let flotillaTargetPrefix = TargetPrefix.flotilla.dotted
    /// The parameter store (`TargetPrefix.ssm`).
    public static let ssmTargetPrefix = TargetPrefix.ssm.dotted
    /// The secret store (`TargetPrefix.secretsManager`).
    public static let secretsManagerTargetPrefix = TargetPrefix.secretsManager.dotted
    public static let acceptedContentTypes: Set<String> = ["application/x-amz-json-1.1", "application/json"]

    /// An operation as `X-Amz-Target` names it.
    public struct Route: Sendable {
        public var prefix: String
        public var name: String
        public var input: any ECSRequest.Type
    }

    /// The operation `target` names: the table of its prefix (up to the last dot), then the name after it.
    public static func resolve(target: String?) throws(ECSError) -> Route {
        guard let target, !target.isEmpty else {
            throw ECSError("UnknownOperationException", "Missing X-Amz-Target header.")
        }
        guard let dot = target.lastIndex(of: "."), let operations = ECSOperationInputs.byPrefix[String(target[...dot])]
        else {
            throw ECSError.unknownOperation(String(target.prefix(200)))
        }
        let name = String(target[target.index(after: dot)...])
        guard let input = operations[name] else { throw ECSError.unknownOperation(String(name.prefix(200))) }
        return Route(prefix: String(target[...dot]), name: name, input: input)
    }

    /// Accepts ECS's JSON media types, parameters and case aside.
    public static func checkContentType(_ header: String?) throws(ECSError) {
        let mediaType = header?.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        guard let mediaType, acceptedContentTypes.contains(mediaType) else {
            throw ECSError.serialization(
                "Content-Type must be application/x-amz-json-1.1, got \(header.map { "\"\($0.prefix(100))\"" } ?? "none")."
            )
        }
    }

    /// The route's input from `body`, decoded and checked (`ECSRequest.validate`).
    public static func request(_ route: Route, body: Data) throws -> any ECSRequest {
        let request = try route.input.decode(body)
        try request.validate()
        return request
    }

    /// The whole pipeline from what a client sends: target, content type, body.
    public static func request(target: String?, contentType: String?, body: Data) throws -> (Route, any ECSRequest) {
        let route = try resolve(target: target)
        try checkContentType(contentType)
        return (route, try request(route, body: body))
    }

    /// A failure of the steps above as ECS answers it; nil for anything else (a fault of the server, not the request).
    public static func ecsError(from error: any Error) -> ECSError? {
        switch error {
        case let error as ECSError: error
        case let error as DecodingError: RequestDecoding.ecsError(from: error)
        default: nil
        }
    }

    /// The body to decode: one of whitespace only (awscli sends none for operations without input) is `{}`.
    public static func object(_ body: Data) -> Data {
        body.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) ? Data("{}".utf8) : body
    }
}
