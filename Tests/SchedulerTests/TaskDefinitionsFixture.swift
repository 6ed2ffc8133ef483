import TaskDefinitions

enum TaskDefinitionsFixture {
    static func definition(mode: NetworkMode, cpu: String?, memory: String?) -> TaskDefinition {
        TaskDefinition(
            family: "web", networkMode: mode, cpu: cpu, memory: memory,
            containerDefinitions: [
                ContainerDefinition(
                    name: "app", image: "app", cpu: 256, memory: 512,
                    portMappings: [
                        PortMapping(containerPort: 8080, hostPort: 8080), PortMapping(containerPort: 9090, hostPort: 0),
                    ]),
                ContainerDefinition(
                    name: "dns", image: "dns", cpu: 128, memoryReservation: 256,
                    portMappings: [PortMapping(containerPort: 53, protocol: "udp")]),
            ])
    }
}
