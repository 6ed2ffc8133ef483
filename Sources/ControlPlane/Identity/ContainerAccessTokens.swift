import AgentProtocol
import FlotillaDigest
import Foundation

// Agents' endpoint secrets and the container access tokens minted with them. An agent sends its secret at Register;
// the store keeps it sealed, bound to the instance's row, and no operation answers it. `ExecuteCommand` and
// `GetContainerLogStream` answer a token for one task, container and action instead, which the agent checks
// (`ContainerAccessToken`: HMAC-SHA256 under the secret, expiry, and once only for exec).

extension SecretBox {
    /// The endpoint secret of `instanceID` in `cluster`, sealed for that instance's row.
    func sealEndpointSecret(_ secret: String, cluster: String, instanceID: String) throws -> Data {
        try seal(secret, context: Self.endpointSecretContext(cluster: cluster, instanceID: instanceID))
    }

    /// The secret `sealEndpointSecret` sealed for the same instance.
    func openEndpointSecret(_ sealed: Data, cluster: String, instanceID: String) throws -> String {
        try open(sealed, context: Self.endpointSecretContext(cluster: cluster, instanceID: instanceID))
    }

    private static func endpointSecretContext(cluster: String, instanceID: String) -> String {
        "agent-endpoint-secret/\(cluster)/\(instanceID)"
    }
}

extension ContainerAccessToken {
    /// A new token for `action` on `container` of `task`, MACed with the agent's endpoint `secret`: its text.
    static func minted(
        task: String, container: String, action: ContainerAccessAction, now: Date, secret: String
    ) -> String {
        var generator = SystemRandomNumberGenerator()
        let key = Array(secret.utf8)
        return mint(task: task, container: container, action: action, now: now, using: &generator)
            .encoded(authenticatedBy: { Data(HMACSHA256.code(key: key, message: $0)) })
    }
}
