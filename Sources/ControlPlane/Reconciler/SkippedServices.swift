import ECSProtocol
import ECSVocabulary
import Foundation
import GRDB
import TaskDefinitions

/// Services whose stored data cannot be parsed or planned (written by an older version, or by hand into SQLite).
///
/// `schedulingState` leaves such a service out of the snapshot, so the scheduler neither places nor stops its tasks
/// (they are left as they are), and names why in `SchedulingState.skippedServices`. The pass then adds ECS's
/// "(service NAME) was unable to ..." event to the service, when its document can still be read, and logs the
/// problem once; the other services of the cluster reconcile as usual.
enum SkippedServices {
    /// The service event for a skipped service.
    static func event(service: String, problem: String) -> String {
        "(service \(service)) was unable to place or stop tasks because its stored configuration cannot be used: \(problem)"
    }
}

extension Database {
    /// The ACTIVE services of `cluster` in name order, decoded one by one: a document that does not decode is
    /// returned in `unreadable` with the error instead of failing the whole cluster.
    func readableServices(cluster: String) throws -> (services: [ECSService], unreadable: [String: String]) {
        var services: [ECSService] = []
        var unreadable: [String: String] = [:]
        for row in try activeServiceDocuments(cluster: cluster) {
            do {
                services.append(try Documents.decode(ECSService.self, from: row.document))
            } catch {
                unreadable[row.name] = "the service document cannot be decoded: \(Self.describeDecoding(error))"
            }
        }
        return (services, unreadable)
    }

    /// Why the task definition `arn` cannot be read, when it exists but does not decode; nil when it is readable or
    /// simply gone (a missing definition only drops its deployment, as before).
    func unreadableTaskDefinition(_ arn: String) -> String? {
        guard let reference = try? TaskDefinitionReference(arn) else { return nil }
        do {
            _ = try taskDefinition(reference)
            return nil
        } catch {
            return "task definition \(arn) cannot be decoded: \(Self.describeDecoding(error))"
        }
    }

    /// Adds the skipped-service event to every readable skipped service, unless the same event was added within
    /// `ServiceEvents.repeatInterval`. Returns the services that got one.
    func recordSkippedServices(_ skipped: [String: String], cluster: String, now: Date) throws -> [String] {
        var recorded: [String] = []
        guard let clusterRecord = try self.cluster(cluster) else { return [] }
        for (name, problem) in skipped.sorted(by: { $0.key < $1.key }) {
            guard let text = try serviceDocument(name, cluster: cluster),
                var service = try? Documents.decode(ECSService.self, from: text)
            else { continue }
            let message = SkippedServices.event(service: name, problem: problem)
            guard
                !service.events.contains(where: {
                    $0.message == message && now.timeIntervalSince($0.createdAt) < ServiceEvents.repeatInterval
                })
            else { continue }
            service.events.insert(ServiceEvent(id: ServiceRules.eventID(), createdAt: now, message: message), at: 0)
            service.events = Array(service.events.prefix(ServiceRules.maxEvents))
            try saveService(service, cluster: clusterRecord)
            recorded.append(name)
        }
        return recorded
    }

    /// A decoding error as one short line: the field path and what was wrong.
    static func describeDecoding(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "\(error)" }
        switch error {
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            let path = RequestDecoding.path(context.codingPath)
            return path.isEmpty ? context.debugDescription : "\(path): \(context.debugDescription)"
        case .keyNotFound(let key, let context):
            return "\(RequestDecoding.path(context.codingPath + [key])): is required"
        @unknown default:
            return "\(error)"
        }
    }
}
