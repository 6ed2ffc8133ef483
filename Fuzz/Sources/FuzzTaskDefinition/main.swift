import Foundation
import FuzzDriver
import TaskDefinitions

/// Any bytes into the task-definition decoder and validator: it must answer a definition or a
/// `TaskDefinitionError`, never crash, overflow the stack or leak.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTaskDefinition(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    let json = Data(bytes: data, count: size)
    if let definition = try? TaskDefinition.decode(json) {
        // What the control plane does next with a valid definition: resource math and re-encoding.
        _ = definition.requiredCPUUnits
        _ = definition.requiredMemoryMiB
        _ = try? JSONEncoder().encode(definition)
    }
    return 0
}

@_cdecl("FuzzTaskDefinition_main")
public func fuzzTaskDefinitionMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    FuzzDriver.run(argc, argv, fuzzTaskDefinition)
}
