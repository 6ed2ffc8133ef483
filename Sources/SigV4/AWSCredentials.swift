/// An AWS access key: the key id, its secret and, for temporary credentials, the session token.
///
/// `description`, `debugDescription` and the mirror name the key id only, so logging or dumping a value never prints
/// the secret or the token.
public struct AWSCredentials: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    /// The access key id (`AKIA…`, `ASIA…` for temporary credentials).
    public var accessKeyID: String
    /// The secret access key: the HMAC key of every signature. Never printed.
    public var secretAccessKey: String
    /// The session token of temporary credentials, sent as `X-Amz-Security-Token`. Never printed.
    public var sessionToken: String?

    /// Credentials from their three parts.
    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }

    /// The key id and whether there is a session token; never the secret.
    public var description: String {
        "AWSCredentials(accessKeyID: \(accessKeyID), secretAccessKey: <redacted>"
            + (sessionToken == nil ? ")" : ", sessionToken: <redacted>)")
    }

    /// The same as `description`.
    public var debugDescription: String { description }

    /// The key id only, so `dump` never shows the secret.
    public var customMirror: Mirror {
        Mirror(self, children: ["accessKeyID": accessKeyID], displayStyle: .struct)
    }
}
