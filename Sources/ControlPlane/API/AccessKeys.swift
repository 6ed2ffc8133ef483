import ECSProtocol
import Foundation
import GRDB
import Logging

/// `{"accessKey": {...}}`: the new key, with the only copy of its secret the control plane ever shows.
struct AccessKeyResponse: Encodable {
    var accessKey: AccessKeyDescription
}

/// `{"accessKeys": [...]}`, without secrets.
struct AccessKeysResponse: Encodable {
    var accessKeys: [AccessKeyDescription]
}

extension ECSError {
    static func accessKeyNotFound(_ id: String) -> ECSError {
        ECSError("ResourceNotFoundException", "The access key with id \(id) cannot be found.")
    }

    static let accessKeysNeedAuthentication = ECSError.client(
        "Access keys need a control plane that checks signatures; this one runs with --insecure-no-auth.")
}

extension OperationContext {
    /// The ring of a signing control plane.
    func accessKeyRing() throws(ECSError) -> AccessKeyRing {
        guard case .sigV4(let ring) = authentication else { throw .accessKeysNeedAuthentication }
        return ring
    }

    func describe(_ key: AccessKey, secret: Bool = false) -> AccessKeyDescription {
        AccessKeyDescription(
            accessKeyId: key.id, name: key.name, scope: key.scope, createDate: key.createdAt.timeIntervalSince1970,
            containerInstanceArn: key.instance.map { arn("container-instance", "\($0.cluster)/\($0.instanceID)") },
            expiration: key.expiresAt?.timeIntervalSince1970, secretAccessKey: secret ? key.secret : nil)
    }
}

extension ECSAPI {
    static let accessKeyOperations: [String: OperationHandler] = [
        "CreateAccessKey": OperationHandler { (request: CreateAccessKeyRequest, context) in
            let ring = try context.accessKeyRing()
            let key = AccessKey(
                id: AccessKeyMaterial.newID(), name: request.name, scope: request.scope,
                secret: AccessKeyMaterial.newSecret(), createdAt: context.now)
            let row = try ring.stored(key)
            try await context.store.write { db in
                guard try !db.accessKeyNameExists(request.name) else {
                    throw ECSError.invalidParameter("name: an access key named \(request.name) already exists.")
                }
                try db.putAccessKey(row)
            }
            ring.insert(key)
            context.logger.info(
                "access key created",
                metadata: [
                    "accessKey.id": "\(key.id)", "accessKey.name": "\(key.name)",
                    "accessKey.scope": "\(key.scope.rawValue)", "by": "\(context.principal.name)",
                ])
            return AccessKeyResponse(accessKey: context.describe(key, secret: true))
        },
        "ListAccessKeys": OperationHandler { (_: ListAccessKeysRequest, context) in
            AccessKeysResponse(accessKeys: try context.accessKeyRing().all.map { context.describe($0) })
        },
        "DeleteAccessKey": OperationHandler { (request: DeleteAccessKeyRequest, context) in
            let ring = try context.accessKeyRing()
            guard let key = ring.key(request.accessKeyId) else { throw ECSError.accessKeyNotFound(request.accessKeyId) }
            if key.scope == .admin, key.instance == nil,
                ring.all.filter({ $0.scope == .admin && $0.instance == nil }).count == 1
            {
                throw ECSError.client(
                    "accessKeyId: \(key.id) is the last admin key; create another admin key before deleting it.")
            }
            let deleted = try await context.store.write { db in try db.deleteAccessKey(id: key.id) }
            ring.remove([key.id])
            guard deleted else { throw ECSError.accessKeyNotFound(request.accessKeyId) }
            context.logger.info(
                "access key deleted",
                metadata: ["accessKey.id": "\(key.id)", "accessKey.name": "\(key.name)", "by": "\(context.principal.name)"])
            return AccessKeyResponse(accessKey: context.describe(key))
        },
    ]
}
