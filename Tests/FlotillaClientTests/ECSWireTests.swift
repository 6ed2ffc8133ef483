import FlotillaClient
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import TaskDefinitions
import SigV4
import Testing

@Suite(.timeLimit(.minutes(10)))
struct ECSWireTests {
    let endpoint = URL(string: "http://127.0.0.1:8080")!

    @Test func requestIsAnECSJSON11PostToTheRoot() throws {
        // Given a CreateCluster call
        let body: JSONValue = .object(["clusterName": .string("prod"), "tags": .array([])])

        // When the request is built
        let request = ECSWire.request(endpoint: endpoint, operation: .createCluster, body: body)

        // Then it is POST / with ECS's target, content type and the body as compact sorted JSON
        #expect(request.httpMethod == "POST")
        #expect(request.url?.absoluteString == "http://127.0.0.1:8080/")
        #expect(request.value(forHTTPHeaderField: "X-Amz-Target") == "AmazonEC2ContainerServiceV20141113.CreateCluster")
        #expect(request.value(forHTTPHeaderField: "Content-Type") == "application/x-amz-json-1.1")
        #expect(request.value(forHTTPHeaderField: "Authorization") == nil)
        let sent = try #require(request.httpBody)
        #expect(String(decoding: sent, as: UTF8.self) == #"{"clusterName":"prod","tags":[]}"#)
    }

    @Test func endpointWithAPathKeepsIt() {
        let request = ECSWire.request(
            endpoint: URL(string: "http://127.0.0.1:9000/ecs")!, operation: .listClusters,
            body: .object([:]))
        #expect(request.url?.absoluteString == "http://127.0.0.1:9000/ecs/")
    }

    @Test func requestsAreSignedForTheRegionWithTheKey() throws {
        // Given a key, a region and a fixed date
        let date = Date(timeIntervalSince1970: 1_795_000_000)  // 2026-11-18 UTC
        let key = AWSCredentials(accessKeyID: "AKFLCLIENTTEST000000", secretAccessKey: "client-test-secret")

        // When the request is built with and without the key
        let signed = ECSWire.request(
            endpoint: endpoint, operation: .describeServices, body: .object([:]), credentials: key,
            region: "eu-west-3", date: date)
        let unsigned = ECSWire.request(endpoint: endpoint, operation: .describeServices, body: .object([:]))

        // Then the signed one carries SigV4 with that scope, and verifies as the control plane checks it
        let authorization = try #require(signed.value(forHTTPHeaderField: "Authorization"))
        #expect(authorization.hasPrefix("AWS4-HMAC-SHA256 Credential=AKFLCLIENTTEST000000/20261118/eu-west-3/ecs/aws4_request,"))
        #expect(signed.value(forHTTPHeaderField: "X-Amz-Date") == "20261118T110640Z")
        var headers = (signed.allHTTPHeaderFields ?? [:]).map { (name: $0.key, value: $0.value) }
        headers.append((name: "Host", value: "127.0.0.1:8080"))
        let received = SigV4Request(
            method: "POST", path: "/", headers: headers, body: Array(signed.httpBody ?? Data()))
        let claim = try SigV4Verifier.authorization(of: received)
        try SigV4Verifier.verify(received, claim, secretAccessKey: key.secretAccessKey, now: date, region: "eu-west-3")
        #expect(unsigned.value(forHTTPHeaderField: "Authorization") == nil)
    }

    @Test func everyOperationTargetsItsService() {
        let flotilla: [ECSOperation: String] = [
            .getContainerLogStream: "FlotillaV1", .createLoadBalancer: "FlotillaV1",
            .describeLoadBalancers: "FlotillaV1",
            .deleteLoadBalancer: "FlotillaV1", .reportTargetHealth: "FlotillaV1", .getJoinToken: "FlotillaAgentV1",
            .rotateJoinToken: "FlotillaAgentV1", .createJoinToken: "FlotillaAgentV1",
            .listJoinTokens: "FlotillaAgentV1", .deleteJoinToken: "FlotillaAgentV1", .createAccessKey: "FlotillaV1",
            .listAccessKeys: "FlotillaV1",
            .deleteAccessKey: "FlotillaV1",
        ]
        for operation in ECSOperation.allCases {
            let prefix = flotilla[operation] ?? "AmazonEC2ContainerServiceV20141113"
            #expect(operation.target == "\(prefix).\(operation.rawValue)")
        }
    }

    @Test func successfulAnswerIsItsJSONDocument() throws {
        let body = Data(#"{"cluster":{"clusterName":"prod","status":"ACTIVE","activeServicesCount":0}}"#.utf8)
        let answer = try ECSWire.response(statusCode: 200, body: body)
        #expect(answer["cluster"]?["clusterName"]?.stringValue == "prod")
        #expect(answer["cluster"]?["activeServicesCount"]?.intValue == 0)
    }

    @Test func emptySuccessfulAnswerIsAnEmptyObject() throws {
        // TagResource answers {} or nothing at all
        #expect(try ECSWire.response(statusCode: 200, body: Data()) == .object([:]))
    }

    @Test(arguments: [
        (
            #"{"__type":"ClusterNotFoundException","message":"Cluster not found."}"#, 400,
            "ClusterNotFoundException", "Cluster not found."
        ),
        (
            #"{"__type":"com.amazonaws.ecs#ServiceNotActiveException","message":"Service was not ACTIVE."}"#, 400,
            "ServiceNotActiveException", "Service was not ACTIVE."
        ),
        (
            #"{"__type":"com.amazon.coral.service#UnknownOperationException:http://internal.amazon.com/","message":"x"}"#,
            400,
            "UnknownOperationException", "x"
        ),
        (#"{"__type":"ServerException","message":"database is locked"}"#, 500, "ServerException", "database is locked"),
        (#"{"__type":"ClientException"}"#, 400, "ClientException", ""),
    ])
    func errorAnswersBecomeTypedErrors(body: String, status: Int, type: String, message: String) {
        // When an ECS error document is read
        let error = #expect(throws: ECSClientError.self) {
            try ECSWire.response(statusCode: status, body: Data(body.utf8))
        }
        // Then it is a service error with botocore's type and the message
        #expect(error == .service(type: type, message: message, statusCode: status))
        #expect(error?.type == type)
    }

    @Test func serviceErrorReadsAsOneLine() {
        let error = ECSClientError.service(
            type: "ClusterNotFoundException", message: "Cluster\nnot found.", statusCode: 400)
        #expect(error.description == "ClusterNotFoundException: Cluster not found.")
    }

    @Test(arguments: [
        (502, "<html><body>Bad Gateway</body></html>"),
        (500, ""),
        (200, "not json"),
        (400, #"{"message":"no type"}"#),
    ])
    func answersThatAreNotECSJSONAreMalformed(status: Int, body: String) {
        let error = #expect(throws: ECSClientError.self) {
            try ECSWire.response(statusCode: status, body: Data(body.utf8))
        }
        guard case .malformedResponse(let statusCode, _)? = error else {
            Issue.record("expected malformedResponse, got \(String(describing: error))")
            return
        }
        #expect(statusCode == status)
        #expect(error?.type == nil)
    }

    @Test func unreachableNamesTheEndpoint() {
        let error = ECSClientError.unreachable(endpoint: endpoint, reason: "connection refused")
        #expect(error.description == "could not connect to the endpoint http://127.0.0.1:8080: connection refused")
    }
}
