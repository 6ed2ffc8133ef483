public import Foundation

/// An ECS task definition: the JSON users register, with ECS's field names.
///
/// Skeleton: the foundation issue fills in every ECS field, unknown-field preservation and validation.
/// The public surface below (type names, `decode(_:)`, `encodedJSON()`, the resource accessors) is the contract
/// the control plane codes against; extend it, do not rename it.
public struct TaskDefinition: Codable, Hashable, Sendable {
    public var family: String
    public var networkMode: NetworkMode?
    /// Task-level CPU as ECS accepts it: "256", "1 vCPU", "0.5 vcpu".
    public var cpu: String?
    /// Task-level memory as ECS accepts it: "512", "1 GB", "0.5GB".
    public var memory: String?
    public var containerDefinitions: [ContainerDefinition]

    // Registration metadata, set by the control plane, never by the user.
    public var taskDefinitionArn: String?
    public var revision: Int?
    public var status: String?
    public var registeredAt: Date?
    public var deregisteredAt: Date?

    public init(family: String, networkMode: NetworkMode? = nil, cpu: String? = nil, memory: String? = nil,
                containerDefinitions: [ContainerDefinition]) {
        self.family = family
        self.networkMode = networkMode
        self.cpu = cpu
        self.memory = memory
        self.containerDefinitions = containerDefinitions
    }
}

/// ECS network modes.
public enum NetworkMode: String, Codable, Hashable, Sendable, CaseIterable {
    case bridge, host, awsvpc, none
}

/// One container of a task definition.
public struct ContainerDefinition: Codable, Hashable, Sendable {
    public var name: String
    public var image: String
    public var cpu: Int?
    public var memory: Int?
    public var memoryReservation: Int?
    public var portMappings: [PortMapping]?
    public var essential: Bool?

    public init(name: String, image: String, cpu: Int? = nil, memory: Int? = nil, memoryReservation: Int? = nil,
                portMappings: [PortMapping]? = nil, essential: Bool? = nil) {
        self.name = name
        self.image = image
        self.cpu = cpu
        self.memory = memory
        self.memoryReservation = memoryReservation
        self.portMappings = portMappings
        self.essential = essential
    }
}

/// A container port, optionally bound to a host port (0 or absent in bridge mode: dynamic).
public struct PortMapping: Codable, Hashable, Sendable {
    public var containerPort: Int?
    public var hostPort: Int?
    public var `protocol`: String?
    public var name: String?

    public init(containerPort: Int?, hostPort: Int? = nil, protocol: String? = nil, name: String? = nil) {
        self.containerPort = containerPort
        self.hostPort = hostPort
        self.protocol = `protocol`
        self.name = name
    }
}

/// A path into task-definition JSON, printed as ECS users read it: `containerDefinitions[1].portMappings[0].hostPort`.
public struct FieldPath: Hashable, Sendable, CustomStringConvertible {
    public enum Component: Hashable, Sendable { case key(String), index(Int) }
    public var components: [Component]
    public init(_ components: [Component] = []) { self.components = components }
    public var description: String {
        var text = ""
        for component in components {
            switch component {
            case .key(let key): text += text.isEmpty ? key : ".\(key)"
            case .index(let index): text += "[\(index)]"
            }
        }
        return text
    }
}

/// One problem in a task definition: where, and what is wrong.
public struct ValidationIssue: Hashable, Sendable, CustomStringConvertible {
    public var path: FieldPath
    public var message: String
    public init(path: FieldPath, message: String) { self.path = path; self.message = message }
    public var description: String { path.components.isEmpty ? message : "\(path): \(message)" }
}

/// Why a task definition was refused.
public enum TaskDefinitionError: Error, Hashable, Sendable {
    /// The JSON does not match the ECS shape (syntax, a wrong type, a missing key).
    case malformed(ValidationIssue)
    /// Decoded, but breaks ECS rules: every issue, not just the first.
    case invalid([ValidationIssue])
}

extension TaskDefinition {
    /// Decodes and validates task-definition JSON as ECS's RegisterTaskDefinition does.
    public static func decode(_ json: Data) throws(TaskDefinitionError) -> TaskDefinition {
        do {
            return try JSONDecoder().decode(TaskDefinition.self, from: json)
        } catch {
            throw .malformed(ValidationIssue(path: FieldPath(), message: "\(error)"))
        }
    }

    /// The definition as ECS JSON (sorted keys, dates as epoch seconds like the ECS API).
    public func encodedJSON() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .secondsSince1970
        // Encoding plain Codable values into JSON cannot fail.
        return try! encoder.encode(self)
    }

    /// Task-level CPU in CPU units (1024 per vCPU), or nil when the task sets none.
    public var cpuUnits: Int? { cpu.flatMap { Int($0) } }
    /// Task-level memory in MiB, or nil when the task sets none.
    public var memoryMiB: Int? { memory.flatMap { Int($0) } }
}
