import Foundation
import TaskDefinitions
import Testing

/// One broken rule: a definition breaking only that rule, and the single issue ECS-style validation must report.
struct RuleCase: Sendable, CustomTestStringConvertible {
    let rule: String
    let json: String
    let path: String
    let message: String

    init(_ rule: String, _ json: String, _ path: String, _ message: String) {
        self.rule = rule
        self.json = json
        self.path = path
        self.message = message
    }

    var testDescription: String { rule }
}

private let c = Fixture.container
private let nameRule = "Up to 255 letters (uppercase and lowercase), numbers, underscores, and hyphens are allowed."

@Suite(.timeLimit(.minutes(10)))
struct ValidationRuleTests {
    static let taskRules: [RuleCase] = [
        RuleCase(
            "family is required", #"{"containerDefinitions":[\#(c("app", ""))]}"#,
            "family", "Family should not be null or empty."),
        RuleCase(
            "family characters", #"{"family":"my app!","containerDefinitions":[\#(c("app", ""))]}"#,
            "family", "Family contains invalid characters. \(nameRule)"),
        RuleCase(
            "family length",
            #"{"family":"\#(String(repeating: "f", count: 256))","containerDefinitions":[\#(c("app", ""))]}"#,
            "family", "Family must be at most 255 characters long, got 256."),
        RuleCase(
            "container list is required", #"{"family":"t"}"#,
            "containerDefinitions", "Container list cannot be empty."),
        RuleCase(
            "container list not empty", Fixture.task(),
            "containerDefinitions", "Container list cannot be empty."),
        RuleCase(
            "at most 10 containers", Fixture.task((0..<11).map { c("c\($0)", "") }.joined(separator: ",")),
            "containerDefinitions", "Too many containers. A task definition holds at most 10, got 11."),
        RuleCase(
            "task cpu parses", Fixture.task(c("app", ""), extra: #","cpu":"lots""#),
            "cpu", #"Invalid 'cpu' setting for task. Expected CPU units ("256") or vCPUs ("0.5 vCPU"), got "lots"."#),
        RuleCase(
            "task cpu range", Fixture.task(c("app", ""), extra: #","cpu":"64""#),
            "cpu",
            "Invalid 'cpu' setting for task. Must be between 128 and 196608 CPU units (0.125 to 192 vCPU), got 64."),
        RuleCase(
            "task cpu covers containers",
            Fixture.task(c("a", #","cpu":200"#), c("b", #","cpu":100"#), extra: #","cpu":"256""#),
            "cpu",
            "The sum of all container 'cpu' values cannot be greater than the value of the task 'cpu'. "
                + "Containers reserve 300 CPU units, the task has 256."),
        RuleCase(
            "task memory parses", Fixture.task(c("app", ""), extra: #","memory":"1 TB""#),
            "memory", #"Invalid 'memory' setting for task. Expected MiB ("512") or GB ("0.5 GB"), got "1 TB"."#),
        RuleCase(
            "task memory absurd", Fixture.task(c("app", ""), extra: #","memory":"5000 GB""#),
            "memory", "Invalid 'memory' setting for task. Must be between 6 MiB and 4194304 MiB (4 TiB), got 5120000."),
        RuleCase(
            "container memory within task memory",
            Fixture.task(#"{"name":"app","image":"i","memory":256}"#, extra: #","memory":"128""#),
            "containerDefinitions[0].memory",
            "The 'memory' setting for container 'app' is greater than for the task. "
                + "The container has 256 MiB, the task 128 MiB."),
        RuleCase(
            "reservations within task memory",
            Fixture.task(
                #"{"name":"a","image":"i","memoryReservation":100}"#,
                #"{"name":"b","image":"i","memoryReservation":100}"#,
                extra: #","memory":"128""#),
            "memory",
            "The sum of all container 'memoryReservation' values cannot be greater than the value of the "
                + "task 'memory'. Containers reserve 200 MiB, the task has 128 MiB."),
        RuleCase(
            "launch types", Fixture.task(c("app", ""), extra: #","requiresCompatibilities":["EC3"]"#),
            "requiresCompatibilities[0]", "must be one of EC2, EXTERNAL, FARGATE, got 'EC3'"),
        RuleCase(
            "volume name required", Fixture.task(c("app", ""), extra: #","volumes":[{"host":{"sourcePath":"/data"}}]"#),
            "volumes[0].name", "Volume.name should not be null or empty."),
        RuleCase(
            "volume names unique", Fixture.task(c("app", ""), extra: #","volumes":[{"name":"v"},{"name":"v"}]"#),
            "volumes[1].name", "Volume names must be unique within a Task Definition."),
        RuleCase(
            "volume host path absolute",
            Fixture.task(c("app", ""), extra: #","volumes":[{"name":"v","host":{"sourcePath":"data"}}]"#),
            "volumes[0].host.sourcePath", "must be an absolute path, got 'data'"),
        RuleCase(
            "placement constraint type",
            Fixture.task(c("app", ""), extra: #","placementConstraints":[{"type":"distinctInstance"}]"#),
            "placementConstraints[0].type",
            "must be memberOf (the only constraint type a task definition takes), got 'distinctInstance'"),
        RuleCase(
            "memberOf needs an expression",
            Fixture.task(c("app", ""), extra: #","placementConstraints":[{"type":"memberOf"}]"#),
            "placementConstraints[0].expression", "is required for a memberOf constraint"),
        RuleCase(
            "tag key reserved", Fixture.task(c("app", ""), extra: #","tags":[{"key":"aws:owner","value":"x"}]"#),
            "tags[0].key", "Tag keys beginning with 'aws:' are reserved."),
        RuleCase(
            "tag key length", Fixture.task(c("app", ""), extra: #","tags":[{"key":"","value":"x"}]"#),
            "tags[0].key", "must be 1 to 128 characters long, got 0"),
    ]

    static let containerRules: [RuleCase] = [
        RuleCase(
            "container name required", Fixture.task(#"{"image":"i","memory":64}"#),
            "containerDefinitions[0].name", "Container.name should not be null or empty."),
        RuleCase(
            "container name characters", Fixture.task(c("web server", "")),
            "containerDefinitions[0].name", "Invalid container name 'web server'. \(nameRule)"),
        RuleCase(
            "container names unique", Fixture.task(c("app", ""), c("app", "")),
            "containerDefinitions[1].name", "Container names must be unique within a Task Definition."),
        RuleCase(
            "image required", Fixture.task(#"{"name":"app","memory":64}"#),
            "containerDefinitions[0].image", "Container.image should not be null or empty."),
        RuleCase(
            "image characters", Fixture.task(#"{"name":"app","image":"busy box","memory":64}"#),
            "containerDefinitions[0].image",
            "Invalid image 'busy box'. Up to 255 letters (uppercase and lowercase), "
                + "numbers, hyphens, underscores, colons, periods, forward slashes, number signs and '@' are allowed."),
        RuleCase(
            "container cpu range", Fixture.task(c("app", #","cpu":-1"#)),
            "containerDefinitions[0].cpu",
            "Invalid 'cpu' setting for container 'app'. Must be between 0 and 196608 CPU units, got -1."),
        RuleCase(
            "container memory minimum", Fixture.task(#"{"name":"app","image":"i","memory":2}"#),
            "containerDefinitions[0].memory",
            "Invalid 'memory' setting for container 'app'. Must be between 6 MiB and 4194304 MiB (4 TiB), got 2."),
        RuleCase(
            "container memory absurd", Fixture.task(#"{"name":"app","image":"i","memory":5242880}"#),
            "containerDefinitions[0].memory",
            "Invalid 'memory' setting for container 'app'. Must be between 6 MiB and 4194304 MiB (4 TiB), got 5242880."),
        RuleCase(
            "memory reservation range", Fixture.task(c("app", #","memoryReservation":0"#)),
            "containerDefinitions[0].memoryReservation",
            "Invalid 'memoryReservation' setting for container 'app'. "
                + "Must be between 1 MiB and 4194304 MiB (4 TiB), got 0."),
        RuleCase(
            "memory or reservation present", Fixture.task(#"{"name":"app","image":"i"}"#),
            "containerDefinitions[0].memory",
            "Invalid setting for container 'app'. At least one of 'memory' or "
                + "'memoryReservation' must be specified."),
        RuleCase(
            "reservation at most memory", Fixture.task(c("app", #","memoryReservation":128"#)),
            "containerDefinitions[0].memoryReservation",
            "Invalid setting for container 'app'. 'memoryReservation' (128) "
                + "must be less than or equal to 'memory' (64)."),
        RuleCase(
            "an essential container", Fixture.task(c("a", #","essential":false"#), c("b", #","essential":false"#)),
            "containerDefinitions", "Task definition doesn't have any essential container."),
        RuleCase(
            "stop timeout range", Fixture.task(c("app", #","stopTimeout":121"#)),
            "containerDefinitions[0].stopTimeout",
            "Invalid 'stopTimeout' setting for container 'app'. Must be between 0 and 120 seconds, got 121."),
        RuleCase(
            "environment names", Fixture.task(c("app", #","environment":[{"name":"","value":"x"}]"#)),
            "containerDefinitions[0].environment[0].name",
            "Invalid 'environment' setting for container 'app'. "
                + "Variable names should not be null or empty."),
        RuleCase(
            "mount point volume exists",
            Fixture.task(c("app", #","mountPoints":[{"sourceVolume":"data","containerPath":"/data"}]"#)),
            "containerDefinitions[0].mountPoints[0].sourceVolume",
            "Invalid 'mountPoints' setting for container 'app'. Unknown volume 'data'."),
        RuleCase(
            "mount point path absolute",
            Fixture.task(
                c("app", #","mountPoints":[{"sourceVolume":"data","containerPath":"data"}]"#),
                extra: #","volumes":[{"name":"data"}]"#),
            "containerDefinitions[0].mountPoints[0].containerPath",
            "Invalid 'mountPoints' setting for container 'app'. "
                + "'containerPath' must be an absolute path, got 'data'."),
        RuleCase(
            "volumesFrom container exists", Fixture.task(c("app", #","volumesFrom":[{"sourceContainer":"db"}]"#)),
            "containerDefinitions[0].volumesFrom[0].sourceContainer",
            "Invalid 'volumesFrom' setting for container 'app'. Unknown container 'db'."),
    ]

    static let portRules: [RuleCase] = [
        RuleCase(
            "container port range", Fixture.task(c("app", #","portMappings":[{"containerPort":0}]"#)),
            "containerDefinitions[0].portMappings[0].containerPort",
            "Invalid 'containerPort' setting for container 'app'. "
                + "Must be between 1 and 65535, got 0."),
        RuleCase(
            "container port required", Fixture.task(c("app", #","portMappings":[{"hostPort":80}]"#)),
            "containerDefinitions[0].portMappings[0].containerPort",
            "Invalid 'containerPort' setting for container 'app'. It is required."),
        RuleCase(
            "host port range", Fixture.task(c("app", #","portMappings":[{"containerPort":80,"hostPort":70000}]"#)),
            "containerDefinitions[0].portMappings[0].hostPort",
            "Invalid 'hostPort' setting for container 'app'. "
                + "Must be between 0 and 65535, got 70000."),
        RuleCase(
            "protocol tcp or udp", Fixture.task(c("app", #","portMappings":[{"containerPort":80,"protocol":"sctp"}]"#)),
            "containerDefinitions[0].portMappings[0].protocol",
            "Invalid 'protocol' setting for container 'app'. Must be tcp or udp, got 'sctp'."),
        RuleCase(
            "awsvpc ports match",
            Fixture.task(
                c("app", #","portMappings":[{"containerPort":80,"hostPort":8080}]"#), extra: #","networkMode":"awsvpc""#
            ),
            "containerDefinitions[0].portMappings[0].hostPort",
            "When networkMode=awsvpc, the host ports and container ports in port mappings must match."),
        RuleCase(
            "host ports match",
            Fixture.task(
                c("app", #","portMappings":[{"containerPort":80,"hostPort":8080}]"#), extra: #","networkMode":"host""#),
            "containerDefinitions[0].portMappings[0].hostPort",
            "When networkMode=host, the host ports and container ports in port mappings must match."),
        RuleCase(
            "no ports without a network",
            Fixture.task(c("app", #","portMappings":[{"containerPort":80}]"#), extra: #","networkMode":"none""#),
            "containerDefinitions[0].portMappings", "Port mappings are not supported when networkMode=none."),
        RuleCase(
            "bridge host port once per task",
            Fixture.task(
                c("a", #","portMappings":[{"containerPort":80,"hostPort":8080}]"#),
                c("b", #","portMappings":[{"containerPort":81,"hostPort":8080}]"#)),
            "containerDefinitions[1].portMappings[0].hostPort", "TCP host port '8080' is mapped multiple times in task."
        ),
        RuleCase(
            "host-mode implied host port once per task",
            Fixture.task(
                c("a", #","portMappings":[{"containerPort":80}]"#), c("b", #","portMappings":[{"containerPort":80}]"#),
                extra: #","networkMode":"host""#),
            "containerDefinitions[1].portMappings[0].containerPort",
            "TCP host port '80' is mapped multiple times in task."),
        RuleCase(
            "awsvpc port once per task",
            Fixture.task(
                c("a", #","portMappings":[{"containerPort":53,"protocol":"udp"}]"#),
                c("b", #","portMappings":[{"containerPort":53,"protocol":"udp"}]"#), extra: #","networkMode":"awsvpc""#),
            "containerDefinitions[1].portMappings[0].containerPort",
            "UDP host port '53' is mapped multiple times in task."),
        RuleCase(
            "container port once per container",
            Fixture.task(c("app", #","portMappings":[{"containerPort":80},{"containerPort":80,"hostPort":0}]"#)),
            "containerDefinitions[0].portMappings[1].containerPort",
            "Container port 80 is used in more than one port mapping for container app"),
        RuleCase(
            "at most 1000 port mappings",
            Fixture.task(
                c(
                    "app",
                    #","portMappings":[\#((1...1001).map { #"{"containerPort":\#($0)}"# }.joined(separator: ","))]"#)),
            "containerDefinitions[0].portMappings",
            "Too many port mappings for container 'app'. A container holds at most 1000, got 1001."),
    ]

    static let dependencyRules: [RuleCase] = [
        RuleCase(
            "dependency exists", Fixture.task(c("app", #","dependsOn":[{"containerName":"db","condition":"START"}]"#)),
            "containerDefinitions[0].dependsOn[0].containerName",
            "Cannot depend on container 'db' because it does not exist."),
        RuleCase(
            "no self dependency",
            Fixture.task(c("app", #","dependsOn":[{"containerName":"app","condition":"START"}]"#)),
            "containerDefinitions[0].dependsOn[0].containerName", "Container 'app' cannot depend on itself."),
        RuleCase(
            "no two-container cycle",
            Fixture.task(
                c("a", #","dependsOn":[{"containerName":"b","condition":"START"}]"#),
                c("b", #","dependsOn":[{"containerName":"a","condition":"START"}]"#)),
            "containerDefinitions[0].dependsOn", "Container dependencies should not have a cycle: a -> b -> a."),
        RuleCase(
            "no cycle behind a chain",
            Fixture.task(
                c("a", #","dependsOn":[{"containerName":"b","condition":"START"}]"#),
                c("b", #","dependsOn":[{"containerName":"c","condition":"START"}]"#),
                c("c", #","dependsOn":[{"containerName":"b","condition":"START"}]"#)),
            "containerDefinitions[1].dependsOn", "Container dependencies should not have a cycle: b -> c -> b."),
        RuleCase(
            "SUCCESS only on non-essential",
            Fixture.task(
                c("migrate", ""), c("app", #","dependsOn":[{"containerName":"migrate","condition":"SUCCESS"}]"#)),
            "containerDefinitions[1].dependsOn[0].condition",
            "A dependency container with SUCCESS or COMPLETE condition cannot be "
                + "an essential container. Container 'migrate' is essential."),
        RuleCase(
            "COMPLETE only on non-essential",
            Fixture.task(
                c("migrate", #","essential":true"#),
                c("app", #","dependsOn":[{"containerName":"migrate","condition":"COMPLETE"}]"#)),
            "containerDefinitions[1].dependsOn[0].condition",
            "A dependency container with SUCCESS or COMPLETE condition cannot be "
                + "an essential container. Container 'migrate' is essential."),
        RuleCase(
            "HEALTHY needs a health check",
            Fixture.task(c("db", ""), c("app", #","dependsOn":[{"containerName":"db","condition":"HEALTHY"}]"#)),
            "containerDefinitions[1].dependsOn[0].condition",
            "Cannot depend on container 'db' with condition HEALTHY because it has no healthCheck."),
    ]

    static let healthCheckRules: [RuleCase] = {
        let prefix = "Invalid 'healthCheck' setting for container 'app'."
        func check(_ members: String) -> String { Fixture.task(c("app", #","healthCheck":{\#(members)}"#)) }
        return [
            RuleCase(
                "health command form", check(#""command":["curl","-f"]"#),
                "containerDefinitions[0].healthCheck.command",
                #"\#(prefix) The command must be ["CMD", executable, arguments...] or ["CMD-SHELL", script], got ["curl", "-f"]."#
            ),
            RuleCase(
                "health command has a command", check(#""command":["CMD-SHELL"]"#),
                "containerDefinitions[0].healthCheck.command",
                #"\#(prefix) The command must be ["CMD", executable, arguments...] or ["CMD-SHELL", script], got ["CMD-SHELL"]."#
            ),
            RuleCase(
                "interval low", check(#""command":["CMD","true"],"interval":4"#),
                "containerDefinitions[0].healthCheck.interval",
                "\(prefix) 'interval' must be between 5 and 300 seconds, got 4."),
            RuleCase(
                "interval high", check(#""command":["CMD","true"],"interval":301"#),
                "containerDefinitions[0].healthCheck.interval",
                "\(prefix) 'interval' must be between 5 and 300 seconds, got 301."),
            RuleCase(
                "timeout low", check(#""command":["CMD","true"],"timeout":1"#),
                "containerDefinitions[0].healthCheck.timeout",
                "\(prefix) 'timeout' must be between 2 and 60 seconds, got 1."),
            RuleCase(
                "timeout high", check(#""command":["CMD","true"],"timeout":61"#),
                "containerDefinitions[0].healthCheck.timeout",
                "\(prefix) 'timeout' must be between 2 and 60 seconds, got 61."),
            RuleCase(
                "retries low", check(#""command":["CMD","true"],"retries":0"#),
                "containerDefinitions[0].healthCheck.retries",
                "\(prefix) 'retries' must be between 1 and 10, got 0."),
            RuleCase(
                "retries high", check(#""command":["CMD","true"],"retries":11"#),
                "containerDefinitions[0].healthCheck.retries",
                "\(prefix) 'retries' must be between 1 and 10, got 11."),
            RuleCase(
                "start period low", check(#""command":["CMD","true"],"startPeriod":-1"#),
                "containerDefinitions[0].healthCheck.startPeriod",
                "\(prefix) 'startPeriod' must be between 0 and 300 seconds, got -1."),
            RuleCase(
                "start period high", check(#""command":["CMD","true"],"startPeriod":301"#),
                "containerDefinitions[0].healthCheck.startPeriod",
                "\(prefix) 'startPeriod' must be between 0 and 300 seconds, got 301."),
            RuleCase(
                "start interval label not seconds",
                Fixture.task(c("app", #","dockerLabels":{"flotilla.healthCheck.startInterval":"250ms"}"#)),
                "containerDefinitions[0].dockerLabels",
                "Invalid docker label 'flotilla.healthCheck.startInterval' for container 'app'. It must be a number of "
                    + "seconds between 0.05 and 300, got '250ms'."),
            RuleCase(
                "start interval label too short",
                Fixture.task(c("app", #","dockerLabels":{"flotilla.healthCheck.startInterval":"0.01"}"#)),
                "containerDefinitions[0].dockerLabels",
                "Invalid docker label 'flotilla.healthCheck.startInterval' for container 'app'. It must be a number of "
                    + "seconds between 0.05 and 300, got '0.01'."),
        ]
    }()

    static let linuxRules: [RuleCase] = [
        RuleCase(
            "ulimit names", Fixture.task(c("app", #","ulimits":[{"name":"files","softLimit":1,"hardLimit":1}]"#)),
            "containerDefinitions[0].ulimits[0].name",
            "Invalid 'ulimits' setting for container 'app'. Unknown ulimit 'files'; expected one of "
                + "core, cpu, data, fsize, locks, memlock, msgqueue, nice, nofile, nproc, rss, rtprio, rttime, sigpending, stack."
        ),
        RuleCase(
            "ulimit soft at most hard",
            Fixture.task(c("app", #","ulimits":[{"name":"nofile","softLimit":8192,"hardLimit":1024}]"#)),
            "containerDefinitions[0].ulimits[0].softLimit",
            "Invalid 'ulimits' setting for container 'app'. 'softLimit' (8192) must be "
                + "less than or equal to 'hardLimit' (1024)."),
        RuleCase(
            "ulimit set once",
            Fixture.task(
                c(
                    "app",
                    #","ulimits":[{"name":"nofile","softLimit":1,"hardLimit":1},{"name":"nofile","softLimit":2,"hardLimit":2}]"#
                )),
            "containerDefinitions[0].ulimits[1].name",
            "Invalid 'ulimits' setting for container 'app'. Ulimit 'nofile' is set more than once."),
        RuleCase(
            "capability names",
            Fixture.task(c("app", #","linuxParameters":{"capabilities":{"add":["CAP_NET_ADMIN"]}}"#)),
            "containerDefinitions[0].linuxParameters.capabilities.add[0]",
            "Invalid 'linuxParameters' setting for container 'app'. "
                + "Unknown capability 'CAP_NET_ADMIN'."),
        RuleCase(
            "shared memory size", Fixture.task(c("app", #","linuxParameters":{"sharedMemorySize":0}"#)),
            "containerDefinitions[0].linuxParameters.sharedMemorySize",
            "Invalid 'linuxParameters' setting for container 'app'. "
                + "'sharedMemorySize' must be between 1 and 4194304 MiB, got 0."),
        RuleCase(
            "tmpfs path absolute",
            Fixture.task(c("app", #","linuxParameters":{"tmpfs":[{"containerPath":"tmp","size":64}]}"#)),
            "containerDefinitions[0].linuxParameters.tmpfs[0].containerPath",
            "Invalid 'linuxParameters' setting for container 'app'. "
                + "tmpfs 'containerPath' must be an absolute path, got 'tmp'."),
        RuleCase(
            "device host path absolute",
            Fixture.task(
                c("app", #","linuxParameters":{"devices":[{"hostPath":"dev/fuse","containerPath":"/dev/fuse"}]}"#)),
            "containerDefinitions[0].linuxParameters.devices[0].hostPath",
            "Invalid 'linuxParameters' setting for container 'app'. "
                + "device 'hostPath' must be an absolute path without '.' or '..', got 'dev/fuse'."),
        RuleCase(
            "device container path under /dev",
            Fixture.task(
                c(
                    "app",
                    #","linuxParameters":{"devices":[{"hostPath":"/dev/fuse","containerPath":"/etc/../dev/fuse"}]}"#)),
            "containerDefinitions[0].linuxParameters.devices[0].containerPath",
            "Invalid 'linuxParameters' setting for container 'app'. "
                + "device 'containerPath' must be an absolute path under /dev without '.' or '..', got '/etc/../dev/fuse'."
        ),
        RuleCase(
            "device default container path under /dev",
            Fixture.task(c("app", #","linuxParameters":{"devices":[{"hostPath":"/srv/node"}]}"#)),
            "containerDefinitions[0].linuxParameters.devices[0].hostPath",
            "Invalid 'linuxParameters' setting for container 'app'. "
                + "device 'containerPath' must be an absolute path under /dev without '.' or '..', got '/srv/node'."),
        RuleCase(
            "device permission names",
            Fixture.task(
                c("app", #","linuxParameters":{"devices":[{"hostPath":"/dev/fuse","permissions":["read","execute"]}]}"#)
            ),
            "containerDefinitions[0].linuxParameters.devices[0].permissions[1]",
            "Invalid 'linuxParameters' setting for container 'app'. "
                + "Unknown device permission 'execute'; expected one of read, write, mknod."),
        RuleCase(
            "device permission once",
            Fixture.task(
                c("app", #","linuxParameters":{"devices":[{"hostPath":"/dev/fuse","permissions":["read","read"]}]}"#)),
            "containerDefinitions[0].linuxParameters.devices[0].permissions[1]",
            "Invalid 'linuxParameters' setting for container 'app'. "
                + "Device permission 'read' is listed more than once."),
    ]

    @Test(
        "each rule reports exactly its issue at its JSON path",
        arguments: taskRules + containerRules + portRules + dependencyRules + healthCheckRules + linuxRules)
    func rule(_ rule: RuleCase) throws {
        // Given a definition that breaks one rule
        // When it is decoded
        let error = try #require(Fixture.error(decoding: rule.json))
        // Then the one issue names the field and says what is wrong
        #expect(
            error == .invalid([ValidationIssue(path: Self.path(rule.path), message: rule.message)]),
            "\(error)")
    }

    @Test("every broken rule is reported, not only the first")
    func everyIssue() throws {
        // Given a definition with three unrelated mistakes in two containers
        let json = Fixture.task(
            #"{"name":"a","image":"i"}"#,
            c(
                "b",
                #","portMappings":[{"containerPort":80,"hostPort":70000}],"healthCheck":{"command":["CMD","true"],"retries":0}"#
            ))
        // When it is decoded
        let error = try #require(Fixture.error(decoding: json))
        // Then all three are listed, in document order, and the description joins them
        #expect(
            error.issues.map(\.path.description) == [
                "containerDefinitions[0].memory",
                "containerDefinitions[1].portMappings[0].hostPort",
                "containerDefinitions[1].healthCheck.retries",
            ])
        #expect(error.description == error.issues.map(\.description).joined(separator: "; "))
        #expect(error.description.hasPrefix("containerDefinitions[0].memory: Invalid setting for container 'a'."))
    }

    @Test(
        "valid edge cases pass",
        arguments: [
            Fixture.task(
                c(
                    "app",
                    #","portMappings":[{"containerPort":53,"hostPort":53,"protocol":"tcp"},{"containerPort":53,"hostPort":53,"protocol":"udp"}]"#
                )),
            Fixture.task(
                c("app", #","portMappings":[{"containerPort":80,"hostPort":0}]"#), extra: #","networkMode":"awsvpc""#),
            Fixture.task(
                c("app", #","portMappings":[{"containerPort":80,"hostPort":80}]"#), extra: #","networkMode":"host""#),
            Fixture.task(
                c("a", #","portMappings":[{"containerPort":80}]"#), c("b", #","portMappings":[{"containerPort":80}]"#)),
            Fixture.task(#"{"name":"app","image":"i"}"#, extra: #","memory":"0.5 GB","cpu":"1 vCPU""#),
            Fixture.task(
                c("init", #","essential":false"#),
                c("app", #","dependsOn":[{"containerName":"init","condition":"SUCCESS"}]"#)),
            Fixture.task(c("app", #","ulimits":[{"name":"memlock","softLimit":-1,"hardLimit":-1}]"#)),
            Fixture.task(
                c("app", ""),
                extra:
                    #","family":"f","taskDefinitionArn":"arn:aws:ecs:us-east-1:1:task-definition/f:3","revision":"three","status":7,"registeredAt":"yesterday""#
            )
            .replacingOccurrences(of: #""family":"t","#, with: ""),
        ])
    func validEdgeCases(_ json: String) {
        #expect(Fixture.error(decoding: json) == nil)
    }

    /// Parses `containerDefinitions[1].portMappings[0].hostPort` back into a path.
    static func path(_ text: String) -> FieldPath {
        var components: [FieldPath.Component] = []
        for part in text.split(separator: ".") {
            let pieces = part.split(separator: "[")
            if let key = pieces.first, !part.hasPrefix("[") { components.append(.key(String(key))) }
            for index in pieces.dropFirst() { components.append(.index(Int(index.dropLast())!)) }
        }
        return FieldPath(components)
    }
}
