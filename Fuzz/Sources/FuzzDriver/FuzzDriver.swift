/// Hands a fuzz target's entry point to libFuzzer's driver.
///
/// SwiftPM links an executable with `main` defined as `<Module>_main` (so tests can link executables), which keeps
/// libFuzzer's own `main` out of the link; each target therefore exports `<Module>_main` and calls `run` from it.
public enum FuzzDriver {
    public typealias Callback = @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt

    /// Runs libFuzzer (`LLVMFuzzerRunDriver`) with the process's arguments and `callback` as the fuzz target.
    public static func run(
        _ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
        _ callback: Callback
    ) -> CInt {
        var count = argc
        var arguments = argv
        return LLVMFuzzerRunDriver(&count, &arguments, callback)
    }
}

@_silgen_name("LLVMFuzzerRunDriver")
private func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: FuzzDriver.Callback
) -> CInt
