import ControlPlane
import FlotillaTestKit
import Foundation
import TaskDefinitions
import Testing

@Suite("ECS API: attributes, account settings, tags", .timeLimit(.minutes(10)))
struct AttributeSettingTagAPITests {
    @Test("PutAttributes, ListAttributes, DeleteAttributes on a container instance")
    func attributes() async throws {
        try await withControlPlane { client in
            try await client.createCluster()
            let instance = try await client.registerInstance()
            let put = try await client.ok(
                "PutAttributes", #"{"attributes": [{"name": "stack", "value": "prod", "targetId": "\#(instance)"}]}"#)
            #expect(put["attributes"]?[0]?["targetId"]?.stringValue == instance)
            let listed = try await client.ok(
                "ListAttributes", #"{"targetType": "container-instance", "attributeName": "stack"}"#)
            #expect(listed["attributes"]?[0]?["value"]?.stringValue == "prod")
            let byValue = try await client.ok(
                "ListAttributes",
                #"{"targetType": "container-instance", "attributeName": "stack", "attributeValue": "dev"}"#)
            #expect(byValue["attributes"]?.arrayValue?.isEmpty == true)
            let described = try await client.ok(
                "DescribeContainerInstances", #"{"containerInstances": ["\#(instance)"]}"#)
            #expect(
                described["containerInstances"]?[0]?["attributes"]?.arrayValue?.contains {
                    $0["name"]?.stringValue == "stack"
                } == true)
            try await client.ok("DeleteAttributes", #"{"attributes": [{"name": "stack", "targetId": "\#(instance)"}]}"#)
            let after = try await client.ok(
                "ListAttributes", #"{"targetType": "container-instance", "attributeName": "stack"}"#)
            #expect(after["attributes"]?.arrayValue?.isEmpty == true)
        }
    }

    @Test("Attribute errors: unknown target, limit of 10, bad names, bad target type")
    func attributeErrors() async throws {
        try await withControlPlane { client in
            try await client.createCluster()
            let instance = try await client.registerInstance()
            let missing = try await client.ecs(
                "PutAttributes", #"{"attributes": [{"name": "a", "value": "b", "targetId": "ghost"}]}"#)
            #expect(missing.errorType == "TargetNotFoundException")
            for batch in 0..<2 {
                let attributes = (0..<5).map {
                    #"{"name": "a\#(batch)\#($0)", "value": "v", "targetId": "\#(instance)"}"#
                }
                try await client.ok("PutAttributes", #"{"attributes": [\#(attributes.joined(separator: ","))]}"#)
            }
            let eleventh = try await client.ecs(
                "PutAttributes", #"{"attributes": [{"name": "one-more", "value": "v", "targetId": "\#(instance)"}]}"#)
            #expect(eleventh.errorType == "AttributeLimitExceededException")
            let listed = try await client.ok("ListAttributes", #"{"targetType": "container-instance"}"#)
            #expect(listed["attributes"]?.arrayValue?.contains { $0["name"]?.stringValue == "one-more" } == false)
            let badName = try await client.ecs(
                "PutAttributes", #"{"attributes": [{"name": "a b", "value": "v", "targetId": "\#(instance)"}]}"#)
            #expect(badName.errorType == "InvalidParameterException")
            let badType = try await client.ecs("ListAttributes", #"{"targetType": "planet"}"#)
            #expect(badType.errorType == "InvalidParameterException")
        }
    }

    @Test("Account settings: put, list (effective), delete")
    func accountSettings() async throws {
        try await withControlPlane { client in
            let put = try await client.ok("PutAccountSetting", #"{"name": "containerInsights", "value": "enabled"}"#)
            #expect(put["setting"]?["principalArn"]?.stringValue == "arn:aws:iam::000000000000:root")
            let listed = try await client.ok("ListAccountSettings", #"{"name": "containerInsights"}"#)
            #expect(listed["settings"]?[0]?["value"]?.stringValue == "enabled")
            let effective = try await client.ok(
                "ListAccountSettings", #"{"effectiveSettings": true, "maxResults": 10}"#)
            #expect(effective["settings"]?.arrayValue?.count == 10)
            try await client.ok("DeleteAccountSetting", #"{"name": "containerInsights"}"#)
            let after = try await client.ok("ListAccountSettings")
            #expect(after["settings"]?.arrayValue?.isEmpty == true)
            let badName = try await client.ecs("PutAccountSetting", #"{"name": "warpDrive", "value": "enabled"}"#)
            #expect(badName.errorType == "InvalidParameterException")
            let badValue = try await client.ecs(
                "PutAccountSetting", #"{"name": "containerInsights", "value": "sometimes"}"#)
            #expect(badValue.errorType == "InvalidParameterException")
            let tooMany = try await client.ecs("ListAccountSettings", #"{"maxResults": 11}"#)
            #expect(tooMany.errorType == "InvalidParameterException")
        }
    }

    @Test("TagResource, UntagResource, ListTagsForResource on every kind of resource")
    func tags() async throws {
        try await withControlPlane { client in
            try await client.createCluster()
            let definition = try await client.registerWeb()
            let arns = [
                "arn:aws:ecs:us-east-1:000000000000:cluster/default",
                definition["taskDefinition"]?["taskDefinitionArn"]?.stringValue ?? "",
            ]
            for arn in arns {
                try await client.ok(
                    "TagResource",
                    #"{"resourceArn": "\#(arn)", "tags": [{"key": "env", "value": "test"}, {"key": "x", "value": "y"}]}"#
                )
                try await client.ok("UntagResource", #"{"resourceArn": "\#(arn)", "tagKeys": ["x"]}"#)
                let listed = try await client.ok("ListTagsForResource", #"{"resourceArn": "\#(arn)"}"#)
                #expect(listed["tags"]?.arrayValue?.contains { $0["key"]?.stringValue == "env" } == true)
                #expect(listed["tags"]?.arrayValue?.contains { $0["key"]?.stringValue == "x" } == false)
            }
            let missing = try await client.ecs(
                "ListTagsForResource", #"{"resourceArn": "arn:aws:ecs:us-east-1:000000000000:cluster/ghost"}"#)
            #expect(missing.errorType == "ResourceNotFoundException")
            let notARN = try await client.ecs("TagResource", #"{"resourceArn": "ghost", "tags": []}"#)
            #expect(notARN.errorType == "InvalidParameterException")
        }
    }

    @Test("10k tags, empty keys and reserved prefixes are refused; nothing half-written")
    func absurdTags() async throws {
        try await withControlPlane { client in
            try await client.createCluster()
            let arn = "arn:aws:ecs:us-east-1:000000000000:cluster/default"
            let many = (0..<10_000).map { #"{"key": "k\#($0)", "value": "v"}"# }.joined(separator: ",")
            let reply = try await client.ecs("TagResource", #"{"resourceArn": "\#(arn)", "tags": [\#(many)]}"#)
            #expect(reply.errorType == "InvalidParameterException")
            // 30 + 30 passes the per-call check but not the per-resource limit: the second call must leave no trace
            let first = (0..<30).map { #"{"key": "a\#($0)", "value": "v"}"# }.joined(separator: ",")
            let second = (0..<30).map { #"{"key": "b\#($0)", "value": "v"}"# }.joined(separator: ",")
            try await client.ok("TagResource", #"{"resourceArn": "\#(arn)", "tags": [\#(first)]}"#)
            let over = try await client.ecs("TagResource", #"{"resourceArn": "\#(arn)", "tags": [\#(second)]}"#)
            #expect(over.errorType == "InvalidParameterException")
            let listed = try await client.ok("ListTagsForResource", #"{"resourceArn": "\#(arn)"}"#)
            #expect(listed["tags"]?.arrayValue?.count == 30)
            for bad in [#"{"key": "", "value": "v"}"#, #"{"key": "aws:x", "value": "v"}"#] {
                let reply = try await client.ecs("TagResource", #"{"resourceArn": "\#(arn)", "tags": [\#(bad)]}"#)
                #expect(reply.errorType == "InvalidParameterException")
            }
        }
    }
}
