/// An HTTP request as SigV4 sees it: the server's view of what it received, or the client's of what it will send.
public struct SigV4Request: Sendable {
    /// The method, e.g. `POST` (upper-cased when canonicalized).
    public var method: String
    /// The raw request-target path as on the wire, percent-encoded, without the query (`/`).
    public var path: String
    /// The raw query string without `?` (`""` when there is none).
    public var query: String
    /// The headers as received: any case, repeats allowed. Must include `Host`.
    public var headers: [(name: String, value: String)]
    /// The body bytes.
    public var body: [UInt8]

    /// A request from its parts.
    public init(
        method: String, path: String, query: String = "", headers: [(name: String, value: String)], body: [UInt8]
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
    }

    /// Every value of the header `name` (compared case-insensitively), in order.
    func values(of name: String) -> [String] {
        let lowered = name.lowercased()
        return headers.filter { $0.name.lowercased() == lowered }.map(\.value)
    }
}
