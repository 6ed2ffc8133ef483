public import Foundation
public import SigV4
public import TaskDefinitions
#if canImport(FoundationNetworking)
public import FoundationNetworking
#endif

/// The ECS JSON 1.1 wire protocol as pure functions: building requests and reading answers, without a network.
///
/// `ECSClient` sends what these build; tests check them byte for byte.
public enum ECSWire {
    /// ECS's content type (JSON protocol version 1.1).
    public static let contentType = "application/x-amz-json-1.1"

    /// A `POST /` request for `operation` with `body` as its JSON document.
    ///
    /// When `region` is set, the request carries it in a SigV4-shaped `Authorization` credential scope, which is
    /// where ECS servers (Flotilla's included) read the region from. Flotilla does not authenticate requests, so
    /// the signature is left empty rather than computed from credentials ecsctl does not have.
    public static func request(
        endpoint: URL, operation: ECSOperation, body: JSONValue, credentials: AWSCredentials? = nil,
        region: String? = nil, date: Date = Date(), timeout: TimeInterval = 60
    ) -> URLRequest {
        request(
            endpoint: endpoint, target: operation.target, body: encode(body), credentials: credentials,
            region: region, date: date, timeout: timeout)
    }

    /// The region a request is signed for when none is configured: the control plane's own default.
    public static let defaultRegion = "us-east-1"

    /// A `POST /` request for the `X-Amz-Target` value `target` with `body` as it is: what every call sends, of
    /// ECS's operations and of the agent protocol's alike. With `credentials`, it is signed (SigV4, service `ecs`,
    /// `region` or `defaultRegion`) at `date`; without, it goes unsigned, and a control plane that checks
    /// signatures refuses it (`MissingAuthenticationTokenException`).
    public static func request(
        endpoint: URL, target: String, body: Data, credentials: AWSCredentials? = nil, region: String? = nil,
        date: Date = Date(), timeout: TimeInterval = 60
    ) -> URLRequest {
        var request = URLRequest(url: endpoint.appendingPathComponent(""), timeoutInterval: timeout)
        request.httpMethod = "POST"
        request.setValue(target, forHTTPHeaderField: "X-Amz-Target")
        request.setValue(contentType, forHTTPHeaderField: "Content-Type")
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        request.httpBody = body
        if let credentials { request.sign(with: credentials, region: region ?? defaultRegion, at: date) }
        return request
    }

    /// The JSON document of a request body: compact, keys sorted so the same call always sends the same bytes.
    public static func encode(_ body: JSONValue) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // JSONValue holds only JSON-representable values; its encoding cannot fail.
        return try! encoder.encode(body)
    }

    /// Reads an HTTP answer: a 2xx JSON document becomes the result, anything else an `ECSClientError`.
    ///
    /// An empty 2xx body (TagResource, UntagResource) is an empty object.
    public static func response(statusCode: Int, body: Data) throws(ECSClientError) -> JSONValue {
        let document: JSONValue?
        if body.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            document = (200..<300).contains(statusCode) ? .object([:]) : nil
        } else {
            document = try? JSONDecoder().decode(JSONValue.self, from: body)
        }
        if (200..<300).contains(statusCode) {
            guard let document else {
                throw .malformedResponse(statusCode: statusCode, reason: snippet(body))
            }
            return document
        }
        guard let document, let rawType = document["__type"]?.stringValue ?? document["code"]?.stringValue else {
            throw .malformedResponse(statusCode: statusCode, reason: body.isEmpty ? "empty body" : snippet(body))
        }
        let message = document["message"]?.stringValue ?? document["Message"]?.stringValue ?? ""
        throw .service(type: errorType(rawType), message: message, statusCode: statusCode)
    }

    /// An ECS error type as botocore reports it: `com.amazonaws.ecs#ClusterNotFoundException:http://...`
    /// becomes `ClusterNotFoundException` (botocore cuts at the first `:`, then keeps what follows the last `#`).
    public static func errorType(_ raw: String) -> String {
        var type = Substring(raw)
        if let colon = type.firstIndex(of: ":") { type = type[..<colon] }
        if let hash = type.lastIndex(of: "#") { type = type[type.index(after: hash)...] }
        return String(type)
    }

    private static func snippet(_ body: Data) -> String {
        let text = String(decoding: body.prefix(200), as: UTF8.self)
        return text.isEmpty ? "empty body" : text
    }
}
