import FlotillaClient
import FlotillaTestKit
import Foundation
import TaskDefinitions
import Testing

/// `ecsctl` as users run it: the built executable against the real built `ecs-control-plane`.
@Suite(.serialized, .timeLimit(.minutes(10)))
struct EcsctlTests {
    /// The example web server task definition, registered with `--cli-input-json file://`.
    let webTaskDefinition = ControlPlaneProcess.repositoryRoot.appendingPathComponent("examples/taskdefs/web.json")

    func json(_ output: HostCommandResult) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(output.stdout.utf8))
    }

    @Test func serviceLifecycleThroughEcsctl() async throws {
        // Given a running control plane and a task definition file
        let controlPlane = try await ControlPlaneProcess()
        defer { controlPlane.terminate() }
        let endpoint = controlPlane.endpoint
        let file = webTaskDefinition

        // When the cluster is created
        let cluster = try await ecsctl(["create-cluster", "--cluster-name", "demo"], endpoint: endpoint)
        // Then the table shows it ACTIVE
        #expect(cluster.status == 0, "\(cluster.stderr)")
        #expect(cluster.stdout.hasPrefix("NAME  STATUS"))
        #expect(cluster.stdout.contains("demo  ACTIVE"))

        // When the task definition is registered from file://
        let registered = try await ecsctl(
            [
                "register-task-definition", "--cli-input-json", "file://\(file.path)",
                "--output", "json",
            ], endpoint: endpoint)
        #expect(registered.status == 0, "\(registered.stderr)")
        let definition = try json(registered)["taskDefinition"]
        #expect(definition?["family"] == .string("web"))
        #expect(definition?["revision"]?.intValue == 1)

        // When the service is created with 2 desired tasks
        let created = try await ecsctl(
            [
                "create-service", "--cluster", "demo", "--service-name", "web",
                "--task-definition", "web", "--desired-count", "2",
                "--deployment-configuration", "maximumPercent=200,minimumHealthyPercent=50",
            ],
            endpoint: endpoint)
        #expect(created.status == 0, "\(created.stderr)")
        #expect(created.stdout.hasPrefix("NAME  STATUS  DESIRED  RUNNING  PENDING  TASK DEFINITION\n"))
        #expect(created.stdout.contains("web   ACTIVE  2"))

        // Then describe-services shows it as a table and as ECS JSON
        let table = try await ecsctl(
            ["describe-services", "--cluster", "demo", "--services", "web"], endpoint: endpoint)
        #expect(table.status == 0, "\(table.stderr)")
        #expect(table.stdout.contains("web   ACTIVE  2"))
        #expect(table.stdout.contains("web:1"))
        let described = try await ecsctl(
            [
                "describe-services", "--cluster", "demo", "--services", "web",
                "--output", "json",
            ], endpoint: endpoint)
        #expect(described.status == 0, "\(described.stderr)")
        let service = try #require(try json(described)["services"]?.arrayValue?.first)
        #expect(service["serviceName"] == .string("web"))
        #expect(service["desiredCount"]?.intValue == 2)
        #expect(service["taskDefinition"]?.stringValue?.hasSuffix(":task-definition/web:1") == true)
        #expect(service["deploymentConfiguration"]?["maximumPercent"]?.intValue == 200)
        #expect(service["deploymentConfiguration"]?["minimumHealthyPercent"]?.intValue == 50)

        // When the service is scaled to 3
        let updated = try await ecsctl(
            [
                "update-service", "--cluster", "demo", "--service", "web",
                "--desired-count", "3", "--output", "json",
            ], endpoint: endpoint)
        #expect(updated.status == 0, "\(updated.stderr)")
        #expect(try json(updated)["service"]?["desiredCount"]?.intValue == 3)

        // And listed
        let listed = try await ecsctl(["list-services", "--cluster", "demo", "--output", "json"], endpoint: endpoint)
        #expect(listed.status == 0, "\(listed.stderr)")
        #expect(try json(listed)["serviceArns"]?.arrayValue?.count == 1)

        // When it is deleted with --force
        let deleted = try await ecsctl(
            [
                "delete-service", "--cluster", "demo", "--service", "web", "--force",
                "--output", "json",
            ], endpoint: endpoint)
        #expect(deleted.status == 0, "\(deleted.stderr)")
        let status = try json(deleted)["service"]?["status"]?.stringValue
        #expect(status == "DRAINING" || status == "INACTIVE")
    }

    @Test func unknownClusterIsOneLineOnStderr() async throws {
        // Given a control plane without the cluster `nowhere`
        let controlPlane = try await ControlPlaneProcess()
        defer { controlPlane.terminate() }

        // When a service of it is described
        let output = try await ecsctl(
            ["describe-services", "--cluster", "nowhere", "--services", "web"],
            endpoint: controlPlane.endpoint)

        // Then ecsctl prints ECS's error type and message as one line and fails
        #expect(output.status == 254)
        #expect(output.stdout.isEmpty)
        #expect(output.stderrLines.count == 1)
        #expect(output.stderr.hasPrefix("ecsctl: ClusterNotFoundException: "), "\(output.stderr)")
    }

    @Test func listFollowsNextTokenAndMaxItemsStopsWithAToken() async throws {
        // Given five clusters
        let controlPlane = try await ControlPlaneProcess()
        defer { controlPlane.terminate() }
        let endpoint = controlPlane.endpoint
        for index in 1...5 {
            let created = try await ecsctl(["create-cluster", "--cluster-name", "c\(index)"], endpoint: endpoint)
            #expect(created.status == 0, "\(created.stderr)")
        }

        // When they are listed one per page
        let all = try await ecsctl(["list-clusters", "--page-size", "1", "--output", "json"], endpoint: endpoint)
        #expect(all.status == 0, "\(all.stderr)")
        let arns = try json(all)["clusterArns"]?.arrayValue?.compactMap(\.stringValue) ?? []
        // Then every page was followed
        #expect(
            Set(arns.map { $0.split(separator: "/").last.map(String.init) ?? "" }).isSuperset(of: [
                "c1", "c2", "c3", "c4", "c5",
            ]))

        // When at most 2 are asked for
        let first = try await ecsctl(["list-clusters", "--max-items", "2", "--output", "json"], endpoint: endpoint)
        #expect(first.status == 0, "\(first.stderr)")
        let firstPage = try json(first)
        #expect(firstPage["clusterArns"]?.arrayValue?.count == 2)
        let token = try #require(firstPage["NextToken"]?.stringValue)

        // Then the token resumes where it stopped, and together they are the whole list
        let rest = try await ecsctl(
            ["list-clusters", "--starting-token", token, "--output", "json"], endpoint: endpoint)
        #expect(rest.status == 0, "\(rest.stderr)")
        let resumed = (firstPage["clusterArns"]?.arrayValue ?? []) + (try json(rest)["clusterArns"]?.arrayValue ?? [])
        #expect(resumed.compactMap(\.stringValue) == arns)
    }

    @Test func taskDefinitionsTagsTasksAndRegion() async throws {
        // Given a running control plane with the cluster `default`
        let controlPlane = try await ControlPlaneProcess()
        defer { controlPlane.terminate() }
        let endpoint = controlPlane.endpoint
        let examples = ControlPlaneProcess.repositoryRoot.appendingPathComponent("examples/taskdefs")
        #expect(try await ecsctl(["create-cluster"], endpoint: endpoint).status == 0)

        // When the worker example is registered twice
        for _ in 1...2 {
            let registered = try await ecsctl(
                [
                    "register-task-definition", "--cli-input-json",
                    "file://\(examples.path)/worker.json",
                ], endpoint: endpoint)
            #expect(registered.status == 0, "\(registered.stderr)")
        }
        // Then there are two revisions, newest first with --sort DESC, and the table names the latest
        let listed = try await ecsctl(
            [
                "list-task-definitions", "--family-prefix", "worker", "--sort", "DESC",
                "--output", "json",
            ], endpoint: endpoint)
        let arns = try json(listed)["taskDefinitionArns"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(arns.map { ECSText.shortName($0) } == ["worker:2", "worker:1"])
        let described = try await ecsctl(
            ["describe-task-definition", "--task-definition", "worker"], endpoint: endpoint)
        #expect(described.stdout.hasPrefix("TASK DEFINITION  STATUS"))
        #expect(described.stdout.contains("worker:2"))

        // When tags are added to a revision
        let arn = try #require(arns.first)
        let tagged = try await ecsctl(
            ["tag-resource", "--resource-arn", arn, "--tags", "key=team,value=42"],
            endpoint: endpoint)
        #expect(tagged.status == 0, "\(tagged.stderr)")
        #expect(tagged.stdout.isEmpty)
        // Then they are listed, values kept as strings
        let tags = try await ecsctl(
            ["list-tags-for-resource", "--resource-arn", arn, "--output", "json"], endpoint: endpoint)
        #expect(
            try json(tags)["tags"]?.arrayValue?.contains(.object(["key": .string("team"), "value": .string("42")]))
                == true)

        // When a task is run with no container instance in the cluster
        let run = try await ecsctl(["run-task", "--task-definition", "worker", "--count", "2"], endpoint: endpoint)
        // Then the call succeeds and ECS's failure is shown, not a task that pretends to run
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("Failures:"))

        // When an invalid example is registered
        let invalid = try await ecsctl(
            [
                "register-task-definition", "--cli-input-json",
                "file://\(examples.path)/invalid/duplicate-container-names.json",
            ], endpoint: endpoint)
        // Then the API's refusal is one line with the ECS error type
        #expect(invalid.status == 254)
        #expect(invalid.stderrLines.count == 1, "\(invalid.stderr)")
        #expect(
            invalid.stderr.contains("Container names must be unique within a Task Definition."), "\(invalid.stderr)")

        // When a region other than the control plane's is given before the verb
        let regional = try await ecsctl(
            ["--region", "eu-west-3", "create-cluster", "--cluster-name", "paris"], endpoint: endpoint)
        // Then the request is signed for it, and refused as AWS refuses a signature scoped to another region
        #expect(regional.status == 254)
        #expect(regional.stderr.contains("InvalidSignatureException"), "\(regional.stderr)")
        #expect(regional.stderr.contains("eu-west-3"), "\(regional.stderr)")
    }

    @Test(arguments: [
        (["create-cluster", "--bogus"], "--bogus"),
        (
            ["create-service", "--service-name", "web", "--task-definition", "web", "--desired-count", "-1"],
            "--desired-count"
        ),
        (["register-task-definition", "--cli-input-json", "file:///nonexistent/web.json"], "/nonexistent/web.json"),
        (["no-such-verb"], "no-such-verb"),
    ])
    func badArgumentsAreOneLineWithoutCallingTheAPI(arguments: [String], mentions: String) async throws {
        // When ecsctl is given bad arguments (no control plane is needed: none is called)
        let output = try await ecsctl(arguments, endpoint: "http://127.0.0.1:9")

        // Then it fails with one stderr line naming the problem
        #expect(output.status != 0)
        #expect(output.stdout.isEmpty)
        #expect(output.stderrLines.count == 1, "\(output.stderr)")
        #expect(output.stderr.hasPrefix("ecsctl: "))
        #expect(output.stderr.contains(mentions), "\(output.stderr)")
    }

    @Test func unreachableEndpointIsOneLineNamingIt() async throws {
        // Given a loopback port nothing listens on
        let port = try freePort()

        // When ecsctl calls it (the endpoint given before the verb, as the awscli allows)
        let output = try await ecsctl(["--endpoint-url", "http://127.0.0.1:\(port)", "list-clusters"])

        // Then it says which endpoint it could not reach
        #expect(output.status == 255)
        #expect(output.stderrLines.count == 1, "\(output.stderr)")
        #expect(
            output.stderr.hasPrefix("ecsctl: could not connect to the endpoint http://127.0.0.1:\(port)"),
            "\(output.stderr)")
    }

    @Test func anHTTPSControlPlaneIsVerifiedAgainstTheCABundleAndRefusedWithout() async throws {
        // Given a control plane serving HTTPS from its cluster CA
        let controlPlane = try await ControlPlaneProcess()
        defer { controlPlane.terminate() }

        // When ecsctl calls it trusting the CA through AWS_CA_BUNDLE, through --ca-bundle, and not at all
        let viaEnvironment = try await ecsctl(["list-clusters"], endpoint: controlPlane.endpoint)
        let viaFlag = try await ecsctl(
            ["list-clusters", "--ca-bundle", TestPKI.caBundle], endpoint: controlPlane.endpoint, caBundle: nil)
        let without = try await ecsctl(["list-clusters"], endpoint: controlPlane.endpoint, caBundle: nil)
        let unreadable = try await ecsctl(
            ["list-clusters", "--ca-bundle", "/nonexistent/ca.pem"], endpoint: controlPlane.endpoint, caBundle: nil)

        // Then the first two are answered; without the CA it refuses the certificate in one line naming the problem
        #expect(viaEnvironment.status == 0, "\(viaEnvironment.stderr)")
        #expect(viaFlag.status == 0, "\(viaFlag.stderr)")
        #expect(without.status == 255)
        #expect(without.stderrLines.count == 1, "\(without.stderr)")
        #expect(without.stderr.contains("the server's certificate is not signed by"), "\(without.stderr)")
        #expect(unreadable.status != 0)
        #expect(unreadable.stderr.contains("/nonexistent/ca.pem: cannot be read"), "\(unreadable.stderr)")
    }
}
