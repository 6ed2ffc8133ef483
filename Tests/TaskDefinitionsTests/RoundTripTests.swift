import Foundation
import TaskDefinitions
import Testing

@Suite(.timeLimit(.minutes(10)))
struct RoundTripTests {
    static let withUnknownFields = #"""
        {
          "family": "rt",
          "ipcMode": "task",
          "runtimePlatform": {"cpuArchitecture": "X86_64", "operatingSystemFamily": "LINUX"},
          "ephemeralStorage": {"sizeInGiB": 30},
          "volumes": [{"name": "data", "host": {"sourcePath": "/srv/data"}, "configuredAtLaunch": false}],
          "containerDefinitions": [{
            "name": "app",
            "image": "flotilla/busybox:1",
            "memory": 64,
            "links": ["db:database"],
            "interactive": true,
            "startTimeout": null,
            "resourceRequirements": [{"type": "GPU", "value": "1"}],
            "portMappings": [{"containerPort": 80, "hostPort": 0, "appProtocol": "http", "containerPortRange": null}],
            "healthCheck": {"command": ["CMD", "true"], "futureOption": 1.5},
            "linuxParameters": {"initProcessEnabled": true, "maxSwap": 512, "devices": [{"hostPath": "/dev/fuse"}]},
            "mountPoints": [{"sourceVolume": "data", "containerPath": "/data", "readOnly": true, "propagation": "rshared"}],
            "environment": [{"name": "A", "value": "1", "note": "x"}],
            "secrets": [{"name": "TOKEN", "valueFrom": "arn:aws:ssm:us-east-1:1:parameter/t", "version": 2}],
            "ulimits": [{"name": "nofile", "softLimit": 1024, "hardLimit": 2048, "scope": "task"}],
            "logConfiguration": {"logDriver": "json-file", "options": {"max-size": "10m"}, "mode": "non-blocking"},
            "extraHosts": [{"hostname": "db", "ipAddress": "127.0.0.2", "ttl": 5}]
          }, {
            "name": "sidecar",
            "image": "flotilla/busybox:1",
            "memoryReservation": 16,
            "essential": false,
            "volumesFrom": [{"sourceContainer": "app", "readOnly": true, "future": []}],
            "dependsOn": [{"containerName": "app", "condition": "HEALTHY", "timeout": 30}],
            "linuxParameters": {"capabilities": {"add": ["NET_ADMIN"], "ambient": ["NET_RAW"]}, "tmpfs": [{"containerPath": "/run", "size": 16, "uid": 0}]}
          }],
          "placementConstraints": [{"type": "memberOf", "expression": "attribute:zone == a", "weight": 1}],
          "tags": [{"key": "team", "value": "infra", "propagate": true}]
        }
        """#

    @Test("fields Flotilla does not model survive decode and encode, at every level")
    func unknownFieldsRoundTrip() throws {
        // Given a definition with fields the model does not know, at task, container and nested levels
        let input = Data(Self.withUnknownFields.utf8)
        // When it is decoded and encoded again
        let definition = try TaskDefinition.decode(input)
        let output = definition.encodedJSON()
        // Then the JSON is the same value, field for field
        let before = try JSONDecoder().decode(JSONValue.self, from: input)
        let after = try JSONDecoder().decode(JSONValue.self, from: output)
        #expect(after == before)
        #expect(definition.unknownFields["ipcMode"] == .string("task"))
        let container = try #require(definition.containerDefinitions.first)
        #expect(container.unknownFields["links"] == .array([.string("db:database")]))
        #expect(container.unknownFields["startTimeout"] == .null)
        #expect(container.portMappings?.first?.unknownFields["appProtocol"] == .string("http"))
        #expect(container.healthCheck?.unknownFields["futureOption"] == .number(1.5))
        #expect(container.linuxParameters?.unknownFields["maxSwap"] == .number(512))
        #expect(container.linuxParameters?.devices == [Device(hostPath: "/dev/fuse")])
        #expect(definition.volumes?.first?.unknownFields["configuredAtLaunch"] == .bool(false))
        #expect(container.mountPoints?.first?.unknownFields["propagation"] == .string("rshared"))
        #expect(container.ulimits?.first?.unknownFields["scope"] == .string("task"))
        let sidecar = definition.containerDefinitions[1]
        #expect(sidecar.dependsOn?.first?.unknownFields["timeout"] == .number(30))
        #expect(sidecar.linuxParameters?.capabilities?.unknownFields["ambient"] == .array([.string("NET_RAW")]))
        #expect(definition.tags?.first?.unknownFields["propagate"] == .bool(true))
    }

    @Test("unknown fields survive being embedded in another Codable value")
    func embedded() throws {
        struct Envelope: Codable { var taskDefinition: TaskDefinition }
        let definition = try TaskDefinition.decode(Data(Self.withUnknownFields.utf8))
        let data = try JSONEncoder().encode(Envelope(taskDefinition: definition))
        let back = try JSONDecoder().decode(Envelope.self, from: data)
        #expect(back.taskDefinition == definition)
    }

    @Test("registration metadata in input is tolerated, and dates are written as epoch seconds")
    func metadata() throws {
        // Given describe-task-definition output fed back to registration, with the CLI's ISO dates
        let json = Fixture.task(
            Fixture.container(),
            extra:
                #","revision":4,"status":"ACTIVE","taskDefinitionArn":"arn:aws:ecs:us-east-1:123456789012:task-definition/t:4","registeredAt":"2024-01-02T03:04:05.250Z","deregisteredAt":1700000000.5,"compatibilities":["EC2"]"#
        )
        // When decoded
        var definition = try TaskDefinition.decode(Data(json.utf8))
        // Then it is accepted with the metadata read, and unknown describe fields kept
        #expect(definition.revision == 4)
        #expect(definition.registeredAt == Date(timeIntervalSince1970: 1_704_164_645.25))
        #expect(definition.deregisteredAt == Date(timeIntervalSince1970: 1_700_000_000.5))
        #expect(definition.unknownFields["compatibilities"] == .array([.string("EC2")]))
        // And the control plane's values encode as ECS does, whatever the encoder's date strategy
        definition.registeredAt = Date(timeIntervalSince1970: 1_700_000_000)
        definition.deregisteredAt = nil
        let encoded = try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(definition))
        #expect(encoded["registeredAt"] == .number(1_700_000_000))
        #expect(encoded["deregisteredAt"] == nil)
    }

    @Test("a task-level cpu or memory written as a number is kept as ECS's string")
    func numericTaskSizes() throws {
        let definition = try TaskDefinition.decode(
            Data(Fixture.task(Fixture.container(), extra: #","cpu":256,"memory":512"#).utf8))
        #expect(definition.cpu == "256")
        #expect(definition.memory == "512")
    }

    @Test("a definition built in code encodes and decodes to itself")
    func builtInCode() throws {
        let definition = TaskDefinition(
            family: "built", networkMode: .host, cpu: "0.5 vCPU", memory: "1 GB",
            containerDefinitions: [
                ContainerDefinition(
                    name: "app", image: "flotilla/busybox:1", cpu: 256,
                    portMappings: [PortMapping(containerPort: 8080, protocol: "tcp")],
                    healthCheck: HealthCheck(command: ["CMD-SHELL", "true"]),
                    ulimits: [Ulimit(name: "nofile", softLimit: 1024, hardLimit: 2048)],
                    linuxParameters: LinuxParameters(
                        capabilities: KernelCapabilities(add: ["NET_ADMIN"]),
                        initProcessEnabled: true))
            ])
        #expect(definition.validationIssues() == [])
        #expect(try TaskDefinition.decode(definition.encodedJSON()) == definition)
    }
}
