import AgentProtocol
import ECSVocabulary
import Foundation
import ECSProtocol
import GRDB
import Logging
import TaskDefinitions

// MARK: - Rules

extension AgentRules {
    /// The poll's wait: what the agent asked, within `maxPollWait` and half the grace period.
    static func wait(_ seconds: Int?, configuration: ControlPlaneConfiguration) throws(ECSError) -> Duration {
        let seconds = try checkWait(seconds)
        return min(.seconds(seconds), configuration.maxPollWait, configuration.agentGracePeriod / 2)
    }
}

// MARK: - Rules over the store

/// An agent's instance after its caller checked out.
struct AgentSession: Sendable {
    var cluster: Cluster
    var instance: ContainerInstance
    var index: Int64
    /// The instance was `agentConnected: false` before this call.
    var reconnected: Bool
}

extension OperationContext {
    /// The instance the caller may act for: its instance credential's; nil (any) when the control plane checks no
    /// signature. Any other key, even an administrator's, is no agent.
    func instanceBinding(for arn: String) throws(ECSError) -> InstanceBinding? {
        if case .insecureNoAuth = authentication { return nil }
        guard let binding = principal.instance else { throw .credentialRefused(String(arn.prefix(300))) }
        return binding
    }
}

extension Database {
    /// Checks that the caller's credential (`binding`; nil: any) acts for the instance `arn` names, and records the
    /// contact (reconnecting the instance).
    func agentSession(
        cluster identifier: String?, instance arn: String, binding: InstanceBinding?, now: Date
    ) throws -> AgentSession {
        let cluster = try activeCluster(identifier)
        guard let id = ARN.lastComponent(of: arn, kind: "container-instance"),
            binding == nil || binding == InstanceBinding(cluster: cluster.clusterName, instanceID: id),
            let record = try agentRecord(instanceID: id, cluster: cluster.clusterName)
        else {
            throw ECSError.credentialRefused(String(arn.prefix(300)))
        }
        var instance = record.instance
        let reconnected = !instance.agentConnected && instance.status != .inactive
        if reconnected {
            instance.agentConnected = true
            instance.version += 1
            try saveContainerInstance(instance, cluster: cluster)
        }
        try recordContact(instanceID: id, cluster: cluster.clusterName, at: now)
        return AgentSession(cluster: cluster, instance: instance, index: record.desiredIndex, reconnected: reconnected)
    }

    /// The poll's answer: every task on the instance that is not both desired and reported STOPPED.
    ///
    /// A task whose stop is held while it drains from its load balancers (`stopTask`: DEACTIVATING,
    /// `deregisteringSince` set) is still desired RUNNING for its agent, which keeps it serving the connections
    /// already open; the release clears the column and its trigger wakes this poll with STOPPED.
    ///
    /// A task desired RUNNING carries its containers' secrets, read from the stores now (`resolveSecrets`): only this
    /// answer, to the instance that runs the task, holds them. One whose secrets cannot be read and that has not
    /// started (PROVISIONING or PENDING) is stopped instead (`failToStart`) and left out; one already past PENDING
    /// gets the values that still resolve (its agent started its containers with them already).
    func desiredTasks(of session: AgentSession, secrets: TaskSecretSource) throws -> PollDesiredTasksResponse {
        var definitions: [String: TaskDefinition] = [:]
        var answer = [DesiredTask]()
        for (stored, held) in try agentTasks(instanceID: session.instance.id, cluster: session.cluster.clusterName) {
            var task = stored
            if held { task.desiredStatus = .running }
            if definitions[task.taskDefinitionArn] == nil,
                let reference = try? TaskDefinitionReference(task.taskDefinitionArn)
            {
                definitions[task.taskDefinitionArn] = try taskDefinition(reference)
            }
            var secretEnvironment: [String: [String: String]]?
            if task.desiredStatus == .running, task.lastStatus < .stopped,
                let definition = definitions[task.taskDefinitionArn],
                definition.containerDefinitions.contains(where: { !($0.secrets ?? []).isEmpty })
            {
                switch try resolveSecrets(of: definition, from: secrets) {
                case .resolved(let values):
                    secretEnvironment = values
                case .failed(let reason) where task.lastStatus <= .pending && !held:
                    try failToStart(stored, reason: reason, cluster: session.cluster, now: secrets.now)
                    continue
                case .failed:
                    if case .resolved(let values) = try resolveSecrets(of: definition, from: secrets, lenient: true) {
                        secretEnvironment = values
                    }
                }
            }
            answer.append(
                DesiredTask(
                    taskArn: task.taskArn, desiredStatus: WireValue(task.desiredStatus),
                    lastStatus: WireValue(task.lastStatus), version: task.version,
                    taskDefinitionArn: task.taskDefinitionArn, taskDefinition: definitions[task.taskDefinitionArn],
                    overrides: task.overrides, containers: task.containers, startedBy: task.startedBy,
                    group: task.group,
                    stopCode: task.stopCode, stoppedReason: task.stoppedReason,
                    secretEnvironment: secretEnvironment))
        }
        let status = try instanceStatusText(instanceID: session.instance.id, cluster: session.cluster.clusterName)
        return PollDesiredTasksResponse(
            index: try desiredIndex(of: session.instance, cluster: session.cluster),
            containerInstanceStatus: status.map(WireValue.init(rawValue:)) ?? WireValue(.inactive),
            tasks: answer)
    }
}

extension OperationContext {
    func logContact(_ session: AgentSession) {
        guard session.reconnected else { return }
        logger.info(
            "container instance reconnected",
            metadata: [
                "cluster": "\(session.cluster.clusterName)", "instance.arn": "\(session.instance.containerInstanceArn)",
            ])
    }
}

// MARK: - Operations

extension ECSAPI {
    static let agentOperations: [String: OperationHandler] = joinTokenOperations.merging([
        "Register": OperationHandler { (request: RegisterAgentRequest, context) in
            // Who may register what: an instance credential re-registers its own instance; a join token registers
            // a new one (or, on a control plane that checks no signature, any).
            let ownInstance = context.principal.instance
            let ring: AccessKeyRing? =
                if case .sigV4(let ring) = context.authentication { ring } else { nil }
            let (cluster, instance, index, credential, replaced, isReregistration):
                (Cluster, ContainerInstance, Int64, AccessKey, [String], Bool)
            do {
                (cluster, instance, index, credential, replaced, isReregistration) = try await context.store.write {
                    db in
                    let cluster = try db.activeCluster(request.cluster)
                    let named = try request.containerInstanceArn
                        .flatMap { try db.containerInstance($0, in: cluster) }
                        .flatMap { $0.status == .inactive ? nil : $0 }
                    let existing: ContainerInstance?
                    if let ownInstance {
                        guard let named,
                            ownInstance == InstanceBinding(cluster: cluster.clusterName, instanceID: named.id)
                        else {
                            throw ECSError.credentialRefused(String((request.containerInstanceArn ?? "").prefix(300)))
                        }
                        existing = named
                    } else {
                        // Spends one use of the token in this transaction: two registrations racing for its last
                        // use are serialized by the write, and the second finds none left.
                        try db.admitJoinToken(request.joinToken ?? "", into: cluster, now: context.now)
                        if let named, ring != nil {
                            throw ECSError.reregistrationNeedsCredential(named.containerInstanceArn)
                        }
                        existing = named
                    }
                    let id = existing?.id ?? TaskRules.newID()
                    let resources = [
                        Resource(name: "CPU", type: "INTEGER", integerValue: request.resources.cpu),
                        Resource(name: "MEMORY", type: "INTEGER", integerValue: request.resources.memory),
                        Resource(
                            name: "PORTS", type: "STRINGSET",
                            stringSetValue: Set(request.resources.ports ?? []).sorted().map(String.init)),
                    ]
                    let instance = ContainerInstance(
                        containerInstanceArn: existing?.containerInstanceArn
                            ?? context.arn("container-instance", "\(cluster.clusterName)/\(id)"),
                        ec2InstanceId: request.hostname, version: (existing?.version ?? 0) + 1,
                        versionInfo: request.versionInfo,
                        remainingResources: resources, registeredResources: resources,
                        status: existing?.status ?? .active,
                        agentConnected: true, runningTasksCount: 0, pendingTasksCount: 0, attributes: nil,
                        registeredAt: existing?.registeredAt ?? context.now, tags: nil)
                    try db.saveContainerInstance(instance, cluster: cluster)
                    // The endpoint secret is kept sealed: exec and logs tokens are minted with it; never answered.
                    var sealedSecret: Data?
                    if request.agentEndpoint != nil, let secret = request.agentToken {
                        sealedSecret = try context.secretBox.sealEndpointSecret(
                            secret, cluster: cluster.clusterName, instanceID: id)
                    }
                    try db.recordRegistration(
                        instanceID: id, cluster: cluster.clusterName, at: context.now,
                        address: request.address, endpoint: request.agentEndpoint, sealedEndpointSecret: sealedSecret)
                    for attribute in request.attributes ?? [] {
                        try db.putAttribute(
                            name: attribute.name, value: attribute.value, targetID: id, cluster: cluster)
                    }
                    // The new instance credential replaces the previous ones in the same commit.
                    let credential = AccessKey.instanceCredential(
                        for: InstanceBinding(cluster: cluster.clusterName, instanceID: id), now: context.now,
                        lifetime: context.configuration.instanceCredentialLifetime)
                    var replaced: [String] = []
                    if let ring {
                        replaced = try db.deleteInstanceCredentials(cluster: cluster.clusterName, instanceID: id)
                        try db.putAccessKey(try ring.stored(credential))
                    }
                    return (
                        cluster, try db.described(instance, cluster: cluster),
                        try db.desiredIndex(of: instance, cluster: cluster), credential, replaced,
                        existing != nil
                    )
                }
            } catch let error as ECSError where error.type == "AccessDeniedException" {
                var metadata: Logger.Metadata = [
                    "cluster": "\(request.cluster ?? "default")",
                    "agent.hostname": "\(request.hostname.prefix(255))", "error": "\(error.message)",
                ]
                // The token's public id, never its secret: which token an operator should look at.
                if let presented = request.joinToken.flatMap(JoinTokenRules.parse) {
                    metadata["joinToken.id"] = "\(presented.id)"
                }
                context.logger.warning("agent registration refused", metadata: metadata)
                throw error
            }
            ring?.remove(replaced)
            ring?.insert(credential)
            context.logger.info(
                isReregistration ? "container instance re-registered" : "container instance registered",
                metadata: [
                    "cluster": "\(cluster.clusterName)", "instance.arn": "\(instance.containerInstanceArn)",
                    "agent.hostname": "\(request.hostname)", "accessKey.id": "\(credential.id)",
                ])
            return try RegisterAgentResponse(
                containerArn: instance.containerInstanceArn, credential: credential,
                endpoint: context.endpoint, index: index, instance: instance)
        },
        "RotateCredential": OperationHandler { (request: RotateCredentialRequest, context) in
            // Only the instance's own credential rotates it; the old one ends after a short grace, so calls already
            // signed with it still land.
            guard case .sigV4(let ring) = context.authentication else { throw ECSError.accessKeysNeedAuthentication }
            let binding = try context.instanceBinding(for: request.containerInstanceArn)
            let grace = context.now.addingTimeInterval(ControlPlaneConfiguration.rotationGrace.seconds)
            let (credential, previous) = try await context.store.write { db in
                let session = try db.agentSession(
                    cluster: request.cluster, instance: request.containerInstanceArn, binding: binding,
                    now: context.now)
                let credential = AccessKey.instanceCredential(
                    for: InstanceBinding(cluster: session.cluster.clusterName, instanceID: session.instance.id),
                    now: context.now, lifetime: context.configuration.instanceCredentialLifetime)
                try db.putAccessKey(try ring.stored(credential))
                let previous = try db.expireInstanceCredentials(
                    cluster: session.cluster.clusterName, instanceID: session.instance.id, keeping: credential.id,
                    at: grace)
                return (credential, previous)
            }
            ring.insert(credential)
            ring.expire(previous, at: grace)
            context.logger.info(
                "instance credential rotated",
                metadata: [
                    "instance.arn": "\(request.containerInstanceArn.prefix(300))", "accessKey.id": "\(credential.id)",
                ])
            return RotateCredentialResponse(
                accessKeyId: credential.id, credential: credential.secret, expiration: credential.expiresAt ?? context.now)
        },
        "PollDesiredTasks": OperationHandler { (request: PollDesiredTasksRequest, context) in
            let wait = try AgentRules.wait(request.waitSeconds, configuration: context.configuration)
            let held = request.index ?? 0
            let binding = try context.instanceBinding(for: request.containerInstanceArn)
            let session = try await context.store.write { db in
                try db.agentSession(
                    cluster: request.cluster, instance: request.containerInstanceArn, binding: binding,
                    now: context.now)
            }
            context.logContact(session)
            if session.index == held, wait > .zero {
                let notifier = context.store.desiredStateChanges
                let key = DesiredStateNotifier.Key(
                    cluster: session.cluster.clusterName, instanceID: session.instance.id)
                let outcome = await withTaskGroup(of: DesiredStateNotifier.Outcome.self) { group in
                    group.addTask { await notifier.waitForChange(of: key, from: held) }
                    group.addTask {
                        try? await Task.sleep(for: wait)
                        return .cancelled
                    }
                    let first = await group.next() ?? .cancelled
                    group.cancelAll()
                    return first
                }
                if outcome == .busy { throw ECSError.tooManyPolls(session.instance.containerInstanceArn) }
            }
            // The contact is stamped again at the end: a long poll is contact all along.
            return try await context.store.write { db in
                let session = try db.agentSession(
                    cluster: request.cluster, instance: request.containerInstanceArn, binding: binding,
                    now: context.clock())
                return try db.desiredTasks(
                    of: session,
                    secrets: TaskSecretSource(
                        box: context.secretBox, region: context.region, accountID: context.accountID,
                        now: context.clock()))
            }
        },
        "SubmitStateChanges": OperationHandler { (request: SubmitStateChangesRequest, context) in
            let changes = request.tasks ?? []
            let binding = try context.instanceBinding(for: request.containerInstanceArn)
            let (session, response) = try await context.store.write { db in
                let session = try db.agentSession(
                    cluster: request.cluster, instance: request.containerInstanceArn, binding: binding,
                    now: context.now)
                var response = SubmitStateChangesResponse(updated: [], unchanged: [], ignored: [])
                for change in changes {
                    guard let task = try db.task(change.taskArn, in: session.cluster),
                        task.containerInstanceArn == session.instance.containerInstanceArn
                    else {
                        response.ignored.append(
                            IgnoredStateChange(
                                taskArn: change.taskArn,
                                reason: "The task is not assigned to this container instance."))
                        continue
                    }
                    switch TaskStateMerge.apply(change, to: task, now: context.now) {
                    case .updated(let merged):
                        try db.saveTask(merged, cluster: session.cluster)
                        if task.lastStatus != .stopped {
                            try db.recordStartFailure(of: merged, cluster: session.cluster, now: context.now)
                        }
                        response.updated.append(task.taskArn)
                    case .unchanged:
                        response.unchanged.append(task.taskArn)
                    case .stale(let reason):
                        response.ignored.append(IgnoredStateChange(taskArn: task.taskArn, reason: reason))
                    }
                }
                if let metrics = request.metrics {
                    try db.recordMetrics(metrics, instanceID: session.instance.id, cluster: session.cluster.clusterName)
                }
                return (session, response)
            }
            context.logContact(session)
            return response
        },
    ]) { $1 }
}
