import FlotillaClient
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import TaskDefinitions
import Testing

@Suite(.timeLimit(.minutes(1)))
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

    @Test func regionTravelsInTheCredentialScope() throws {
        // Given a region and a fixed date
        let date = Date(timeIntervalSince1970: 1_795_000_000)  // 2026-11-18 UTC

        // When the request is built
        let request = ECSWire.request(
            endpoint: endpoint, operation: .describeServices, body: .object([:]),
            region: "eu-west-3", date: date)

        // Then the Authorization header carries the SigV4 scope with that region
        let authorization = try #require(request.value(forHTTPHeaderField: "Authorization"))
        #expect(authorization.hasPrefix("AWS4-HMAC-SHA256 Credential=ecsctl/20261118/eu-west-3/ecs/aws4_request,"))
    }

    @Test func everyOperationTargetsItsService() {
        let flotilla: [ECSOperation: String] = [
            .getContainerLogStream: "FlotillaV1", .createLoadBalancer: "FlotillaV1",
            .describeLoadBalancers: "FlotillaV1",
            .deleteLoadBalancer: "FlotillaV1", .reportTargetHealth: "FlotillaV1", .getJoinToken: "FlotillaAgentV1",
            .rotateJoinToken: "FlotillaAgentV1",
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
