import ECSVocabulary
import FlotillaTestKit
import Foundation
import SigV4
import TaskDefinitions
import Testing

/// Issue 13's findings, tried against the running `ecs-control-plane` as someone on the same network would, with
/// nothing but its address (and, for the takeover, the join token and a victim's ARN).
@Suite("An attacker with the control plane's address", .serialized, .timeLimit(.minutes(10)))
struct AttackerTests {
    let nobody = AWSCredentials(accessKeyID: "AKFLATTACKER00000000", secretAccessKey: "guessed")

    @Test("Unsigned and garbage-signed calls are refused on every API, and nothing is written")
    func noSignatureNoAccess() async throws {
        let server = try await ControlPlaneProcess()
        defer { server.terminate() }
        let attempts: [(String, String)] = [
            (TargetPrefix.ecs.target("CreateCluster"), #"{"clusterName": "owned"}"#),
            (TargetPrefix.ecs.target("ListClusters"), "{}"),
            (TargetPrefix.agent.target("GetJoinToken"), #"{"cluster": "default"}"#),
            (TargetPrefix.agent.target("RotateJoinToken"), #"{"cluster": "default"}"#),
            (TargetPrefix.ecs.target("ExecuteCommand"), #"{"task": "t", "command": "sh", "interactive": true}"#),
            (TargetPrefix.flotilla.target("CreateLoadBalancer"), #"{"loadBalancerName": "p", "listenerPort": 1}"#),
            (TargetPrefix.flotilla.target("CreateAccessKey"), #"{"name": "mine", "scope": "admin"}"#),
        ]
        for (target, body) in attempts {
            let unsigned = try await server.post(target, body, as: nil)
            #expect(unsigned.status == 400, "\(target)")
            #expect(errorType(unsigned.body) == "MissingAuthenticationTokenException", "\(target)")
            let forged = try await server.post(target, body, as: nobody)
            #expect(errorType(forged.body) == "UnrecognizedClientException", "\(target)")
            let badSecret = try await server.post(
                target, body,
                as: AWSCredentials(accessKeyID: TestAccessKeys.administrator.accessKeyID, secretAccessKey: "guessed"))
            #expect(errorType(badSecret.body) == "InvalidSignatureException", "\(target)")
        }
        let clusters = try await server.call("ListClusters")
        #expect(clusterCount(clusters.body) == 0)
        #expect(try await server.call("ListClusters", as: nil).status == 400)
    }

    @Test("A join token and a victim's ARN do not take over the victim's instance")
    func noTakeover() async throws {
        let server = try await ControlPlaneProcess()
        defer { server.terminate() }
        _ = try await server.call("CreateCluster", #"{"clusterName": "default"}"#)
        let (_, tokenBody) = try await server.post(TargetPrefix.agent.target("GetJoinToken"), "{}")
        let token = try #require(json(tokenBody)["joinToken"]?.stringValue)
        // The victim joins (unsigned, with the token, as an agent does) and gets its instance credential
        let (_, victimBody) = try await server.post(
            TargetPrefix.agent.target("Register"), registration(token: token, hostname: "victim"), as: nil)
        let victim = json(victimBody)
        let arn = try #require(victim["containerInstanceArn"]?.stringValue)
        let credential = AWSCredentials(
            accessKeyID: victim["accessKeyId"]?.stringValue ?? "", secretAccessKey: victim["credential"]?.stringValue ?? "")
        // The attacker registers naming the victim's ARN
        let (status, takeover) = try await server.post(
            TargetPrefix.agent.target("Register"), registration(token: token, hostname: "attacker", previous: arn),
            as: nil)
        #expect(status == 403)
        #expect(errorType(takeover) == "AccessDeniedException")
        // and cannot poll as the victim with any key it has
        let poll = #"{"containerInstanceArn": "\#(arn)", "index": 0, "waitSeconds": 0}"#
        #expect(try await server.post(TargetPrefix.agent.target("PollDesiredTasks"), poll, as: nil).status == 400)
        // The victim keeps its instance and its credential
        let (victimPoll, _) = try await server.post(TargetPrefix.agent.target("PollDesiredTasks"), poll, as: credential)
        #expect(victimPoll == 200)
        let (_, described) = try await server.call(
            "DescribeContainerInstances", #"{"containerInstances": ["\#(arn)"]}"#)
        #expect(json(described)["containerInstances"]?[0]?["ec2InstanceId"]?.stringValue == "victim")
    }

    @Test("The data directory is 0700, its files 0600, and no key or join token secret is stored or logged in clear")
    func dataAtRest() async throws {
        let server = try await ControlPlaneProcess(arguments: ["--log-level", "trace"])
        defer { server.terminate() }
        let (status, made) = try await server.post(
            TargetPrefix.flotilla.target("CreateAccessKey"), #"{"name": "ci", "scope": "admin"}"#)
        #expect(status == 200)
        let secret = try #require(json(made)["accessKey"]?["secretAccessKey"]?.stringValue)
        _ = try await server.call("CreateCluster", #"{"clusterName": "default"}"#)
        let (_, tokenBody) = try await server.post(TargetPrefix.agent.target("CreateJoinToken"), "{}")
        let joinToken = try #require(json(tokenBody)["joinToken"]?.stringValue)
        // `<id>.<secret>.sha256:<CA hash>`: the secret is the second part.
        let joinSecret = String(joinToken.split(separator: ".")[1])
        _ = try await server.post(
            TargetPrefix.agent.target("Register"), registration(token: joinToken, hostname: "h"), as: nil)
        let directory = server.dataDirectory.path
        #expect(try mode(directory) == 0o700)
        let files = try FileManager.default.contentsOfDirectory(atPath: directory)
        #expect(files.contains("flotilla.sqlite") && files.contains("master.key"))
        for file in files {
            #expect(try mode(directory + "/" + file) == 0o600, "\(file)")
            let bytes = try Data(contentsOf: URL(fileURLWithPath: directory + "/" + file))
            #expect(bytes.range(of: Data(secret.utf8)) == nil, "\(file) holds the new key's secret")
            #expect(bytes.range(of: Data(joinSecret.utf8)) == nil, "\(file) holds the join token's secret")
            #expect(
                bytes.range(of: Data(TestAccessKeys.administrator.secretAccessKey.utf8)) == nil,
                "\(file) holds the administrator's secret")
        }
        // Nor in its log, at debug or any level
        let log = server.daemon.logTail(lines: 10_000)
        #expect(!log.contains(secret) && !log.contains(TestAccessKeys.administrator.secretAccessKey))
        #expect(!log.contains(joinSecret) && log.contains(String(joinToken.prefix(6))))
    }

    private func registration(token: String, hostname: String, previous: String? = nil) -> String {
        """
        {"joinToken": "\(token)", "hostname": "\(hostname)", \(previous.map { #""containerInstanceArn": "\#($0)","# } ?? "")
         "resources": {"cpu": 1024, "memory": 1024}}
        """
    }

    private func json(_ data: Data) -> JSONValue { (try? JSONDecoder().decode(JSONValue.self, from: data)) ?? .null }

    private func errorType(_ data: Data) -> String? { json(data)["__type"]?.stringValue }

    private func clusterCount(_ data: Data) -> Int? { json(data)["clusterArns"]?.arrayValue?.count }

    private func mode(_ path: String) throws -> Int {
        try (FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }
}
