public import ECSProtocol
import ECSVocabulary
public import Foundation
import HTTPTypes
import Hummingbird
import SigV4

/// How the API knows who calls.
public enum APIAuthentication: Sendable {
    /// AWS Signature Version 4 with the ring's keys, on every operation (Register may instead show a join token).
    case sigV4(AccessKeyRing)
    /// `--insecure-no-auth`: every caller is an administrator. The executable allows it on loopback only.
    case insecureNoAuth
}

/// Who made a call, once its signature checked out.
struct Principal: Sendable {
    /// The access key id; nil for the two callers without one.
    var keyID: String?
    var name: String
    var scope: AccessKeyScope
    /// Set for an instance credential: the only instance it acts for.
    var instance: InstanceBinding?

    /// Every caller of a control plane started with `--insecure-no-auth`.
    static let insecureAdministrator = Principal(keyID: nil, name: "insecure-no-auth", scope: .admin)
    /// An unsigned `Register`, which proves itself with its join token instead (a bearer secret, as kubeadm's
    /// bootstrap tokens are: only their hashes are stored, so they cannot be SigV4 keys).
    static let joiningAgent = Principal(keyID: nil, name: "join-token", scope: .agent)
}

/// Which scope may call which operation.
enum OperationScopes {
    /// The operations of the agent scope: the agent protocol and what balancers read and report.
    static let agentOperations: Set<String> = [
        ECSWire.agentTargetPrefix + "Register", ECSWire.agentTargetPrefix + "PollDesiredTasks",
        ECSWire.agentTargetPrefix + "SubmitStateChanges", ECSWire.agentTargetPrefix + "RotateCredential",
        ECSWire.targetPrefix + "DiscoverPollEndpoint",
        ECSWire.flotillaTargetPrefix + "DescribeLoadBalancers", ECSWire.flotillaTargetPrefix + "ReportTargetHealth",
    ]

    /// Read-only operations that still need an administrator: they hand out access (keys, join tokens, logs) or
    /// say what would (the live join tokens). Every other join-token operation writes, so it is admin-only anyway.
    /// The secret stores' values (GetParameter*, GetSecretValue) are not Describe/List, so they need admin too; a
    /// read-only key sees their metadata only (DescribeParameters, DescribeSecret, ListSecrets).
    static let privilegedReads: Set<String> = [
        ECSWire.flotillaTargetPrefix + "ListAccessKeys", ECSWire.flotillaTargetPrefix + "GetContainerLogStream",
        ECSWire.agentTargetPrefix + "GetJoinToken", ECSWire.agentTargetPrefix + "ListJoinTokens",
    ]

    static func allows(_ scope: AccessKeyScope, _ route: ECSWire.Route) -> Bool {
        let operation = route.prefix + route.name
        switch scope {
        case .admin:
            return true
        case .readOnly:
            return route.prefix != ECSWire.agentTargetPrefix && !privilegedReads.contains(operation)
                && (route.name.hasPrefix("Describe") || route.name.hasPrefix("List"))
        case .agent:
            return agentOperations.contains(operation)
        }
    }

    /// The IAM-style action name of an operation, for refusals: `ecs:CreateCluster`, `flotilla:CreateAccessKey`.
    static func action(_ route: ECSWire.Route) -> String {
        let service =
            switch route.prefix {
            case ECSWire.agentTargetPrefix: "flotilla-agent"
            case ECSWire.flotillaTargetPrefix: "flotilla"
            case ECSWire.ssmTargetPrefix: "ssm"
            case ECSWire.secretsManagerTargetPrefix: "secretsmanager"
            default: "ecs"
            }
        return "\(service):\(route.name)"
    }
}

extension ECSError {
    /// `AccessDeniedException` as AWS words it, naming the key's user and the action.
    static func accessDenied(_ principal: Principal, _ route: ECSWire.Route, accountID: String) -> ECSError {
        ECSError(
            "AccessDeniedException",
            "User: arn:aws:iam::\(accountID):user/\(principal.name) is not authorized to perform: "
                + "\(OperationScopes.action(route)) (access key scope \(principal.scope.rawValue))")
    }

    /// An instance credential used for another instance.
    static func wrongInstance(_ arn: String) -> ECSError {
        ECSError(
            "AccessDeniedException",
            "containerInstanceArn: this credential acts for another container instance, not \(arn.prefix(300)).")
    }

    /// An instance credential past its expiration (STS's words for an expired session).
    static let expiredToken = ECSError(
        "ExpiredTokenException", "The security token included in the request is expired")

    init(_ failure: SigV4Failure) {
        self.init(failure.code, failure.message, status: HTTPResponse.Status(code: failure.httpStatus))
    }
}

extension ECSAPI {
    /// The caller of `request`: its signature checked against the ring, or nil when it carries none.
    ///
    /// - Throws: `ECSError` with AWS's refusal (unknown key, bad or expired signature, expired credential).
    func signer(of request: Request, body: Data, now: Date) throws -> Principal? {
        guard case .sigV4(let ring) = authentication else { return .insecureAdministrator }
        let signed = Self.sigV4Request(request, body: body)
        let authorization: SigV4Authorization
        do {
            authorization = try SigV4Verifier.authorization(of: signed)
        } catch let failure where failure.code == SigV4Failure.missingAuthenticationTokenCode {
            return nil
        } catch {
            throw ECSError(error)
        }
        guard let key = ring.key(authorization.accessKeyID) else { throw ECSError(SigV4Failure.unrecognizedClient) }
        do {
            // Signed for this control plane's region: its ARNs carry it (AWS refuses another region's scope too);
            // and for the service the target names (`aws ssm` signs for ssm, `aws secretsmanager` for secretsmanager).
            let service = request.headers[.amzTarget].flatMap(TargetPrefix.init(target:))?.signingName
                ?? TargetPrefix.ecs.signingName
            try SigV4Verifier.verify(
                signed, authorization, secretAccessKey: key.secret, now: now, service: service,
                region: configuration.region)
        } catch {
            throw ECSError(error)
        }
        if let expiresAt = key.expiresAt, expiresAt <= now { throw ECSError.expiredToken }
        return Principal(keyID: key.id, name: key.name, scope: key.scope, instance: key.instance)
    }

    /// What SigV4 signs, as this request arrived: the raw path and query, every header and the host.
    static func sigV4Request(_ request: Request, body: Data) -> SigV4Request {
        let target = request.head.path ?? "/"
        let (path, query) =
            target.firstIndex(of: "?").map { (String(target[..<$0]), String(target[target.index(after: $0)...])) }
            ?? (target, "")
        var headers = request.headers.map { (name: $0.name.rawName, value: $0.value) }
        if let authority = request.head.authority { headers.append((name: "host", value: authority)) }
        return SigV4Request(
            method: request.method.rawValue, path: path, query: query, headers: headers, body: Array(body))
    }

    /// The operation `target` names. For an unsigned request whatever is wrong with the target is the missing
    /// signature, as AWS answers: only a joining agent's Register goes unsigned.
    static func route(_ target: String?, signer: Principal?) throws(ECSError) -> ECSWire.Route {
        guard signer == nil else { return try ECSWire.resolve(target: target) }
        guard let route = try? ECSWire.resolve(target: target) else {
            throw ECSError(SigV4Failure.missingAuthenticationToken)
        }
        return route
    }

    /// Checks that `principal` may call `route`; the unsigned may only join.
    func authorize(_ principal: Principal?, _ route: ECSWire.Route) throws(ECSError) -> Principal {
        guard let principal else {
            guard route.prefix == ECSWire.agentTargetPrefix, route.name == "Register" else {
                throw ECSError(SigV4Failure.missingAuthenticationToken)
            }
            return .joiningAgent
        }
        guard OperationScopes.allows(principal.scope, route) else {
            throw .accessDenied(principal, route, accountID: configuration.accountID)
        }
        return principal
    }
}
