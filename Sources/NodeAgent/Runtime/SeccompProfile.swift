internal import CFlotillaRuntime
import SystemPackage
#if canImport(Glibc)
import Glibc
#endif

/// The default seccomp profile: allow everything except the system calls Docker's default profile keeps from an
/// unprivileged container (kernel modules, kexec, mounts and namespaces, tracing, keyrings, bpf, reboot, swap,
/// clock setting, handle-based opens…), which fail with EPERM; plus clone with a CLONE_NEW* flag (EPERM) and
/// clone3 (ENOSYS, so libc falls back to the filterable clone). Privileged containers get no filter.
public enum SeccompProfile {
    public static let deniedSyscalls: [String] = [
        "acct", "add_key", "bpf", "clock_adjtime", "clock_settime", "create_module", "delete_module",
        "finit_module", "fsconfig", "fsmount", "fsopen", "fspick", "get_kernel_syms", "get_mempolicy",
        "init_module", "ioperm", "iopl", "kcmp", "kexec_file_load", "kexec_load", "keyctl", "lookup_dcookie",
        "mbind", "mount", "mount_setattr", "move_mount", "move_pages", "name_to_handle_at", "nfsservctl",
        "open_by_handle_at", "open_tree", "perf_event_open", "personality", "pivot_root", "process_vm_readv",
        "process_vm_writev", "ptrace", "query_module", "quotactl", "quotactl_fd", "reboot", "request_key",
        "set_mempolicy", "setns", "settimeofday", "stime", "swapoff", "swapon", "_sysctl", "syslog", "umount",
        "umount2", "unshare", "uselib", "userfaultfd", "ustat", "vm86", "vm86old",
    ]
}

/// A compiled seccomp program (struct sock_filter[]) owned by Swift until the spawn that loads it returns.
final class SeccompProgram: Sendable {
    // The buffer is written once by libseccomp in `init` and only read afterwards (by the child's copy).
    nonisolated(unsafe) let instructions: UnsafeMutableRawPointer
    let length: UInt32

    /// Compiles `denied` into a filter with libseccomp (flotilla_seccomp_compile).
    init(denied: [String], container: String) throws(RuntimeError) {
        var program: UnsafeMutableRawPointer? = nil
        var length: UInt32 = 0
        let cStrings = denied.map { strdup($0)! }
        defer { cStrings.forEach { free($0) } }
        let result = cStrings.map { UnsafePointer($0) }.withUnsafeBufferPointer { buffer in
            flotilla_seccomp_compile(buffer.baseAddress!, Int32(buffer.count), EPERM, 1, &program, &length)
        }
        guard result == 0, let program else {
            throw RuntimeError(stage: .seccompCompile, errno: .init(rawValue: result == 0 ? EIO : result),
                               container: container)
        }
        self.instructions = program
        self.length = length
    }

    deinit { free(instructions) }
}
