internal import CFlotillaRuntime
import SystemPackage
#if canImport(Glibc)
import Glibc
#endif

/// The default seccomp profile, equivalent to Docker's (moby `profiles/seccomp/default.json`): an allowlist.
///
/// Every system call no rule allows fails with EPERM. Allowed: the common list (no io_uring: Docker stopped
/// allowing `io_uring_setup`, `io_uring_enter` and `io_uring_register` in 2023, as their kernel code keeps yielding
/// escapes), `socket` for every family but AF_VSOCK, `personality` with the five personas Docker allows, the
/// architecture's own calls (x86_64, aarch64), and the calls gated by a capability the container holds (CAP_SYS_ADMIN:
/// mount, unshare, setns, clone with namespace flags, ...; CAP_SYS_PTRACE: ptrace's relatives; ...). Without
/// CAP_SYS_ADMIN, clone is allowed only without CLONE_NEW* flags and clone3 fails with ENOSYS (its flags live in
/// memory seccomp cannot read; libc then falls back to clone). Docker's `minKernel: 4.8` rule (ptrace,
/// process_vm_readv/writev) is unconditional: the runtime needs a newer kernel anyway (pidfds, clone3).
/// Privileged containers get no filter.
public enum SeccompProfile {
    /// One rule: the system calls, what happens to them, and at most one argument condition.
    public struct Rule: Hashable, Sendable {
        public enum Action: Hashable, Sendable {
            case allow
            case fail(errno: Int32)
        }

        public enum Condition: Hashable, Sendable {
            case equal(argument: UInt32, value: UInt64)
            case notEqual(argument: UInt32, value: UInt64)
            /// `(argument & mask) == value`.
            case maskedEqual(argument: UInt32, mask: UInt64, value: UInt64)
        }

        public var names: [String]
        public var action: Action
        public var condition: Condition?

        public init(_ names: [String], _ action: Action = .allow, when condition: Condition? = nil) {
            self.names = names
            self.action = action
            self.condition = condition
        }
    }

    /// What a system call no rule matches gets.
    public static let defaultErrno = EPERM

    /// Allowed for every container.
    public static let allowed: [String] = [
        "accept", "accept4", "access", "adjtimex", "alarm", "bind", "brk", "cachestat", "capget", "capset", "chdir",
        "chmod", "chown", "chown32", "clock_adjtime", "clock_adjtime64", "clock_getres", "clock_getres_time64",
        "clock_gettime", "clock_gettime64", "clock_nanosleep", "clock_nanosleep_time64", "close", "close_range",
        "connect", "copy_file_range", "creat", "dup", "dup2", "dup3", "epoll_create", "epoll_create1", "epoll_ctl",
        "epoll_ctl_old", "epoll_pwait", "epoll_pwait2", "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2",
        "execve", "execveat", "exit", "exit_group", "faccessat", "faccessat2", "fadvise64", "fadvise64_64",
        "fallocate", "fanotify_mark", "fchdir", "fchmod", "fchmodat", "fchmodat2", "fchown", "fchown32", "fchownat",
        "fcntl", "fcntl64", "fdatasync", "fgetxattr", "flistxattr", "flock", "fork", "fremovexattr", "fsetxattr",
        "fstat", "fstat64", "fstatat64", "fstatfs", "fstatfs64", "fsync", "ftruncate", "ftruncate64", "futex",
        "futex_requeue", "futex_time64", "futex_wait", "futex_waitv", "futex_wake", "futimesat", "getcpu", "getcwd",
        "getdents", "getdents64", "getegid", "getegid32", "geteuid", "geteuid32", "getgid", "getgid32", "getgroups",
        "getgroups32", "getitimer", "getpeername", "getpgid", "getpgrp", "getpid", "getppid", "getpriority",
        "getrandom", "getresgid", "getresgid32", "getresuid", "getresuid32", "getrlimit", "get_robust_list",
        "getrusage", "getsid", "getsockname", "getsockopt", "get_thread_area", "gettid", "gettimeofday", "getuid",
        "getuid32", "getxattr", "inotify_add_watch", "inotify_init", "inotify_init1", "inotify_rm_watch",
        "io_cancel", "ioctl", "io_destroy", "io_getevents", "io_pgetevents", "io_pgetevents_time64", "ioprio_get",
        "ioprio_set", "io_setup", "io_submit", "ipc", "kill", "landlock_add_rule", "landlock_create_ruleset",
        "landlock_restrict_self", "lchown", "lchown32", "lgetxattr", "link", "linkat", "listen", "listxattr",
        "llistxattr", "_llseek", "lremovexattr", "lseek", "lsetxattr", "lstat", "lstat64", "madvise",
        "map_shadow_stack", "membarrier", "memfd_create", "memfd_secret", "mincore", "mkdir", "mkdirat", "mknod",
        "mknodat", "mlock", "mlock2", "mlockall", "mmap", "mmap2", "mprotect", "mq_getsetattr", "mq_notify",
        "mq_open", "mq_timedreceive", "mq_timedreceive_time64", "mq_timedsend", "mq_timedsend_time64", "mq_unlink",
        "mremap", "msgctl", "msgget", "msgrcv", "msgsnd", "msync", "munlock", "munlockall", "munmap",
        "name_to_handle_at", "nanosleep", "newfstatat", "_newselect", "open", "openat", "openat2", "pause",
        "pidfd_open", "pidfd_send_signal", "pipe", "pipe2", "pkey_alloc", "pkey_free", "pkey_mprotect", "poll",
        "ppoll", "ppoll_time64", "prctl", "pread64", "preadv", "preadv2", "prlimit64", "process_mrelease",
        "process_vm_readv", "process_vm_writev", "pselect6", "pselect6_time64", "ptrace", "pwrite64", "pwritev",
        "pwritev2", "read", "readahead", "readlink", "readlinkat", "readv", "recv", "recvfrom", "recvmmsg",
        "recvmmsg_time64", "recvmsg", "remap_file_pages", "removexattr", "rename", "renameat", "renameat2",
        "restart_syscall", "rmdir", "rseq", "rt_sigaction", "rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo",
        "rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait", "rt_sigtimedwait_time64", "rt_tgsigqueueinfo",
        "sched_getaffinity", "sched_getattr", "sched_getparam", "sched_get_priority_max", "sched_get_priority_min",
        "sched_getscheduler", "sched_rr_get_interval", "sched_rr_get_interval_time64", "sched_setaffinity",
        "sched_setattr", "sched_setparam", "sched_setscheduler", "sched_yield", "seccomp", "select", "semctl",
        "semget", "semop", "semtimedop", "semtimedop_time64", "send", "sendfile", "sendfile64", "sendmmsg",
        "sendmsg", "sendto", "setfsgid", "setfsgid32", "setfsuid", "setfsuid32", "setgid", "setgid32", "setgroups",
        "setgroups32", "setitimer", "setpgid", "setpriority", "setregid", "setregid32", "setresgid", "setresgid32",
        "setresuid", "setresuid32", "setreuid", "setreuid32", "setrlimit", "set_robust_list", "setsid",
        "setsockopt", "set_thread_area", "set_tid_address", "setuid", "setuid32", "setxattr", "shmat", "shmctl",
        "shmdt", "shmget", "shutdown", "sigaltstack", "signalfd", "signalfd4", "sigprocmask", "sigreturn",
        "socketcall", "socketpair", "splice", "stat", "stat64", "statfs", "statfs64", "statx", "symlink",
        "symlinkat", "sync", "sync_file_range", "syncfs", "sysinfo", "tee", "tgkill", "time", "timer_create",
        "timer_delete", "timer_getoverrun", "timer_gettime", "timer_gettime64", "timer_settime", "timer_settime64",
        "timerfd_create", "timerfd_gettime", "timerfd_gettime64", "timerfd_settime", "timerfd_settime64", "times",
        "tkill", "truncate", "truncate64", "ugetrlimit", "umask", "uname", "unlink", "unlinkat", "utime",
        "utimensat", "utimensat_time64", "utimes", "vfork", "vmsplice", "wait4", "waitid", "waitpid", "write",
        "writev",
    ]

    /// Never allowed by the default profile, whatever the capabilities (the test suite checks they stay out).
    public static let alwaysDenied: [String] = ["io_uring_setup", "io_uring_enter", "io_uring_register"]

    /// Calls allowed only when the container holds the capability.
    public static let capabilityGated: [(capability: String, names: [String])] = [
        ("DAC_READ_SEARCH", ["open_by_handle_at"]),
        (
            "SYS_ADMIN",
            [
                "bpf", "clone", "clone3", "fanotify_init", "fsconfig", "fsmount", "fsopen", "fspick",
                "lookup_dcookie", "mount", "mount_setattr", "move_mount", "open_tree", "perf_event_open",
                "quotactl", "quotactl_fd", "setdomainname", "sethostname", "setns", "syslog", "umount",
                "umount2", "unshare",
            ]
        ),
        ("SYS_BOOT", ["reboot"]),
        ("SYS_CHROOT", ["chroot"]),
        ("SYS_MODULE", ["delete_module", "init_module", "finit_module"]),
        ("SYS_PACCT", ["acct"]),
        ("SYS_PTRACE", ["kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv", "process_vm_writev", "ptrace"]),
        ("SYS_RAWIO", ["iopl", "ioperm"]),
        ("SYS_TIME", ["settimeofday", "stime", "clock_settime", "clock_settime64"]),
        ("SYS_TTY_CONFIG", ["vhangup"]),
        ("SYS_NICE", ["get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"]),
        ("SYSLOG", ["syslog"]),
        ("BPF", ["bpf"]),
        ("PERFMON", ["perf_event_open"]),
    ]

    /// The native architecture's own calls (and its compat ABI's, which the filter also covers).
    public static let architectureSpecific: [String] = {
        #if arch(x86_64)
        return ["arch_prctl", "modify_ldt"]
        #elseif arch(arm64)
        return ["arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2", "breakpoint", "cacheflush", "set_tls"]
        #else
        return []
        #endif
    }()

    /// CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET.
    static let namespaceCloneFlags: UInt64 = 0x7E02_0000
    /// AF_VSOCK: talking to the hypervisor is not a container's business.
    static let vsockFamily: UInt64 = 40

    /// The rules for a container holding `capabilities` (bit n = capability n).
    public static func rules(capabilities: UInt64) -> [Rule] {
        func holds(_ name: String) -> Bool {
            guard let number = Capabilities.number(of: name), number < 64 else { return false }
            return capabilities & (UInt64(1) << UInt64(number)) != 0
        }
        var rules = [Rule(allowed), Rule(["socket"], when: .notEqual(argument: 0, value: vsockFamily))]
        for persona: UInt64 in [0x0, 0x8, 0x20000, 0x20008, 0xffff_ffff] {
            rules.append(Rule(["personality"], when: .equal(argument: 0, value: persona)))
        }
        if !architectureSpecific.isEmpty { rules.append(Rule(architectureSpecific)) }
        for (capability, names) in capabilityGated where holds(capability) {
            rules.append(Rule(names))
        }
        if !holds("SYS_ADMIN") {
            rules.append(Rule(["clone"], when: .maskedEqual(argument: 0, mask: namespaceCloneFlags, value: 0)))
            rules.append(Rule(["clone3"], .fail(errno: ENOSYS)))
        }
        return rules
    }
}

/// A compiled seccomp program (struct sock_filter[]) owned by Swift until the spawn that loads it returns.
final class SeccompProgram: Sendable {
    // The buffer is written once by libseccomp in `init` and only read afterwards (by the child's copy).
    nonisolated(unsafe) let instructions: UnsafeMutableRawPointer
    let length: UInt32

    /// Compiles `rules` into an allowlist filter with libseccomp (flotilla_seccomp_compile): calls no rule
    /// matches fail with `defaultErrno`.
    init(
        rules: [SeccompProfile.Rule], defaultErrno: Int32 = SeccompProfile.defaultErrno,
        container: String
    ) throws(RuntimeError) {
        var program: UnsafeMutableRawPointer? = nil
        var length: UInt32 = 0
        var names: [UnsafeMutablePointer<CChar>] = []
        defer { names.forEach { free($0) } }
        var cRules: [flotilla_seccomp_rule] = []
        for rule in rules {
            let (action, errnoValue): (Int32, Int32) =
                switch rule.action {
                case .allow: (Int32(FLOTILLA_SECCOMP_ALLOW.rawValue), 0)
                case .fail(let errno): (Int32(FLOTILLA_SECCOMP_ERRNO.rawValue), errno)
                }
            var compare = Int32(FLOTILLA_SECCOMP_ARG_ANY.rawValue)
            var argument: UInt32 = 0, value: UInt64 = 0, mask: UInt64 = 0
            switch rule.condition {
            case nil: break
            case .equal(let index, let operand):
                (compare, argument, value) = (Int32(FLOTILLA_SECCOMP_ARG_EQ.rawValue), index, operand)
            case .notEqual(let index, let operand):
                (compare, argument, value) = (Int32(FLOTILLA_SECCOMP_ARG_NE.rawValue), index, operand)
            case .maskedEqual(let index, let bits, let operand):
                (compare, argument, mask, value) = (
                    Int32(FLOTILLA_SECCOMP_ARG_MASKED_EQ.rawValue), index, bits, operand
                )
            }
            for name in rule.names {
                let cName = strdup(name)!
                names.append(cName)
                cRules.append(
                    flotilla_seccomp_rule(
                        name: cName, action: action, errno_value: errnoValue,
                        compare: compare, argument: argument, value: value, mask: mask))
            }
        }
        let result = cRules.withUnsafeBufferPointer { buffer in
            flotilla_seccomp_compile(defaultErrno, buffer.baseAddress!, Int32(buffer.count), &program, &length)
        }
        guard result == 0, let program else {
            throw RuntimeError(
                stage: .seccompCompile, errno: .init(rawValue: result == 0 ? EIO : result),
                container: container)
        }
        self.instructions = program
        self.length = length
    }

    deinit { free(instructions) }
}
