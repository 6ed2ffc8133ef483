import Foundation
import FuzzDriver
import Scheduler

/// Any text into the ECS cluster query language: parsing answers an expression or a `ConstraintExpressionError`
/// (never a crash or a stack overflow, whatever the nesting), and a parsed expression evaluates against an instance.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzClusterQuery(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    let source = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    guard let expression = try? ConstraintExpression(parsing: source) else { return 0 }
    _ = expression.matches(instance, groups: ["service:web", "family:db"])
    return 0
}

private let instance = InstanceSnapshot(
    containerInstanceArn: "arn:aws:ecs:us-east-1:000000000000:container-instance/default/1", ec2InstanceId: "i-1",
    agentVersion: "1.80.0", registeredAt: Date(timeIntervalSince1970: 1_700_000_000), registeredCPU: 2048,
    registeredMemoryMiB: 4096,
    attributes: [
        "ecs.instance-type": "t3.medium", "ecs.availability-zone": "us-east-1a",
        "ecs.os-type": "linux", "stack": "prod",
    ], runningTasksCount: 2)

@_cdecl("FuzzClusterQuery_main")
public func fuzzClusterQueryMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    FuzzDriver.run(argc, argv, fuzzClusterQuery)
}
