import ECSProtocol
import Foundation
import Testing

@Suite("ECS wire: routing, content type, decoding and checks before the store", .timeLimit(.minutes(10)))
struct ECSWireTests {
    static let json = "application/x-amz-json-1.1"

    /// The error `ECSWire.request` answers for these request parts (nil when it accepts them).
    static func refusal(_ target: String?, body: String, contentType: String? = json) -> ECSError? {
        do {
            _ = try ECSWire.request(target: target, contentType: contentType, body: Data(body.utf8))
            return nil
        } catch {
            return ECSWire.ecsError(from: error)
        }
    }

    @Test func everyRoutedOperationTakesTheInputItsTableNames() throws {
        for (prefix, inputs) in ECSOperationInputs.byPrefix {
            for (name, input) in inputs {
                let route = try ECSWire.resolve(target: prefix + name)
                #expect(route.prefix == prefix && route.name == name)
                #expect(ObjectIdentifier(route.input) == ObjectIdentifier(input))
            }
        }
    }

    @Test(
        arguments: [
            (nil, "UnknownOperationException", "Missing X-Amz-Target header."),
            (
                "AmazonEC2ContainerServiceV20141113.LaunchRockets", "UnknownOperationException",
                "Unknown operation LaunchRockets."
            ),
            (
                "DynamoDB_20120810.ListTables", "UnknownOperationException",
                "Unknown operation DynamoDB_20120810.ListTables."
            ),
        ] as [(String?, String, String)])
    func unknownTargetsAreRefused(target: String?, type: String, message: String) {
        #expect(Self.refusal(target, body: "{}") == ECSError(type, message))
    }

    @Test func otherContentTypesAreRefusedAndParametersIgnored() {
        #expect(
            Self.refusal("AmazonEC2ContainerServiceV20141113.ListClusters", body: "{}", contentType: "text/plain")
                == .serialization("Content-Type must be application/x-amz-json-1.1, got \"text/plain\"."))
        #expect(
            Self.refusal(
                "AmazonEC2ContainerServiceV20141113.ListClusters", body: "{}",
                contentType: "Application/JSON; charset=utf-8") == nil)
    }

    @Test func aBodyOfWhitespaceIsAnEmptyObject() {
        #expect(Self.refusal("AmazonEC2ContainerServiceV20141113.ListClusters", body: " \r\n\t") == nil)
        #expect(
            Self.refusal("AmazonEC2ContainerServiceV20141113.ListClusters", body: "[]")
                == .serialization("The request body is not a JSON object."))
    }

    @Test func decodingErrorsAndChecksNameTheField() {
        #expect(
            Self.refusal("AmazonEC2ContainerServiceV20141113.DescribeServices", body: #"{"cluster": "prod"}"#)
                == .invalidParameter("services: is required."))
        #expect(
            Self.refusal("AmazonEC2ContainerServiceV20141113.RunTask", body: #"{"taskDefinition": "web", "count": 11}"#)
                == .invalidParameter("count: must be between 1 and 10, got 11."))
    }

    @Test func anErrorThatIsNotTheRequestsIsNotAnECSError() {
        struct DiskFull: Error {}
        #expect(ECSWire.ecsError(from: DiskFull()) == nil)
    }
}
