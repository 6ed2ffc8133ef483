#ifndef CFLOTILLA_RUNTIME_H
#define CFLOTILLA_RUNTIME_H

/// The C shim of Flotilla's namespace runtime.
///
/// Only what must happen between `clone` and `execve` lives here. After `clone` the child is a copy of a
/// multithreaded Swift process: the Swift runtime may hold locks or allocate, so the child may only make
/// async-signal-safe system calls on memory the parent prepared. Swift (NodeAgent/Runtime) makes every policy
/// decision — the mount table, capability sets, the seccomp program compiled by libseccomp, rlimits, user ids — and
/// owns every file descriptor; this shim only applies them. runc does the same in C for the same reason (nsenter).

#include <stdint.h>
#include <sys/types.h>

/// The step of container setup that failed; reported with the errno through the error pipe.
typedef enum {
    FLOTILLA_STAGE_NONE = 0,
    FLOTILLA_STAGE_CLONE = 1,
    FLOTILLA_STAGE_CGROUP = 2,
    FLOTILLA_STAGE_SETNS = 3,
    FLOTILLA_STAGE_MOUNT_PRIVATE = 4,
    FLOTILLA_STAGE_MOUNT = 5,
    FLOTILLA_STAGE_PIVOT_ROOT = 6,
    FLOTILLA_STAGE_HOSTNAME = 7,
    FLOTILLA_STAGE_RLIMITS = 8,
    FLOTILLA_STAGE_CAPABILITY_BOUNDING = 9,
    FLOTILLA_STAGE_INIT_FORK = 10,
    FLOTILLA_STAGE_USER = 11,
    FLOTILLA_STAGE_CAPABILITIES = 12,
    FLOTILLA_STAGE_NO_NEW_PRIVS = 13,
    FLOTILLA_STAGE_SECCOMP = 14,
    FLOTILLA_STAGE_CHDIR = 15,
    FLOTILLA_STAGE_EXEC = 16,
    FLOTILLA_STAGE_STDIO = 17,
} flotilla_stage;

/// What one mount-table entry does.
typedef enum {
    FLOTILLA_MOUNT_OP_MOUNT = 0,        ///< mount(source, target, fstype, flags, data)
    FLOTILLA_MOUNT_OP_SYMLINK = 1,      ///< symlink(source, target)
} flotilla_mount_op;

/// What to create at the target before mounting (mount points that the image lacks).
typedef enum {
    FLOTILLA_MOUNT_MAKE_NONE = 0,
    FLOTILLA_MOUNT_MAKE_DIRECTORY = 1,
    FLOTILLA_MOUNT_MAKE_FILE = 2,
} flotilla_mount_make;

/// One entry of the mount table, applied in order before pivot_root. Paths are host paths (the new root included).
typedef struct {
    const char *_Nullable source;
    const char *_Nonnull target;
    const char *_Nullable fstype;
    unsigned long flags;
    const char *_Nullable data;
    int32_t op;     ///< flotilla_mount_op
    int32_t make;   ///< flotilla_mount_make
} flotilla_mount;

typedef struct {
    int32_t resource;
    uint64_t soft;
    uint64_t hard;
} flotilla_rlimit;

_Static_assert(sizeof(flotilla_rlimit) == 24, "flotilla_rlimit layout is shared with Swift");

/// Everything the child needs, prepared by the parent. The child only reads it.
typedef struct {
    // Process
    const char *_Nullable const *_Nonnull argv;
    const char *_Nullable const *_Nonnull envp;
    const char *_Nonnull search_path;           ///< PATH used to find argv[0] when it has no '/'
    const char *_Nonnull working_directory;
    uint32_t uid;
    uint32_t gid;
    const uint32_t *_Nullable groups;
    int32_t group_count;
    uint64_t capabilities;                      ///< bit n = capability n; bounding, permitted, effective, inheritable
    int32_t no_new_privileges;
    const void *_Nullable seccomp_filter;       ///< struct sock_filter[], from flotilla_seccomp_compile; NULL = none
    uint32_t seccomp_filter_length;             ///< number of sock_filter instructions
    const flotilla_rlimit *_Nullable rlimits;
    int32_t rlimit_count;

    // Container (ignored when join_pidfd >= 0)
    uint64_t namespace_flags;                   ///< CLONE_NEW* for the clone; never CLONE_NEWNET
    int32_t network_namespace_fd;               ///< setns(fd, CLONE_NEWNET) before mounting; -1 = stay in the host's
    const flotilla_mount *_Nullable mounts;
    int32_t mount_count;
    const char *_Nullable new_root;             ///< pivot_root target; NULL = no pivot
    const char *_Nullable hostname;

    // Exec into a running container
    int32_t join_pidfd;                         ///< pidfd of the container's PID 1, or -1 to create a container
    uint64_t join_namespaces;                   ///< CLONE_NEW* to setns into from join_pidfd

    // File descriptors (the parent owns them; the child dups/uses them)
    const int32_t *_Nullable cgroup_procs_fds;  ///< v1 tasks / v2 cgroup.procs opened for writing; the child writes "0"
    int32_t cgroup_procs_count;
    int32_t cgroup_fd;                          ///< v2 cgroup directory to clone into (CLONE_INTO_CGROUP); -1 = none.
                                                ///< When the kernel refuses, the child writes cgroup_procs_fds instead
    int32_t stdin_fd;
    int32_t stdout_fd;                          ///< with log_dir_fd >= 0 ignored: init copies into rotated logs
    int32_t stderr_fd;
    int32_t log_dir_fd;                         ///< directory of stdout.log / stderr.log; -1 = use stdout_fd/stderr_fd
    uint64_t log_max_bytes;
    int32_t log_max_files;
    int32_t status_fd;                          ///< init writes the command's wait status here (4 bytes); -1 = none
} flotilla_spawn_request;

/// Clones the init process (clone3 with CLONE_PIDFD, else clone + pidfd_open) into new namespaces and, given
/// `cgroup_fd`, into its cgroup (else it joins the cgroup itself), which sets up mounts, pivot_root, hostname and rlimits, then forks the command and stays as its PID 1
/// (reaping zombies, forwarding signals, copying output into rotated logs). The seccomp filter is loaded by the init
/// just before it forks the command, which inherits it; the command then gets the user, the capabilities,
/// no_new_privs and the working directory, and execs.
/// With `join_pidfd >= 0` the clone instead setns()es into that process's namespaces (exec into a container).
/// Returns 0 once the command has exec'd, with pid/pidfd of the init process; or an errno value with
/// *failed_stage set (the child has then been reaped).
/// Why C: everything after clone runs in a copy of a multithreaded process.
int flotilla_spawn(const flotilla_spawn_request *_Nonnull request, pid_t *_Nonnull pid,
                   int *_Nonnull pidfd, flotilla_stage *_Nonnull failed_stage);

/// What a seccomp rule does with a matching system call.
typedef enum {
    FLOTILLA_SECCOMP_ALLOW = 0,
    FLOTILLA_SECCOMP_ERRNO = 1,   ///< fail with `errno_value`
} flotilla_seccomp_action;

/// How a rule compares one argument (libseccomp's scmp_compare, the subset profiles use).
typedef enum {
    FLOTILLA_SECCOMP_ARG_ANY = 0,         ///< no argument condition
    FLOTILLA_SECCOMP_ARG_EQ = 1,          ///< arg == value
    FLOTILLA_SECCOMP_ARG_NE = 2,          ///< arg != value
    FLOTILLA_SECCOMP_ARG_MASKED_EQ = 3,   ///< (arg & mask) == value
} flotilla_seccomp_compare;

/// One rule of a profile: a system call by name, an action, and at most one argument condition.
typedef struct {
    const char *_Nonnull name;
    int32_t action;          ///< flotilla_seccomp_action
    int32_t errno_value;     ///< for FLOTILLA_SECCOMP_ERRNO
    int32_t compare;         ///< flotilla_seccomp_compare
    uint32_t argument;       ///< argument index (0-5) for a condition
    uint64_t value;
    uint64_t mask;           ///< for FLOTILLA_SECCOMP_ARG_MASKED_EQ
} flotilla_seccomp_rule;

_Static_assert(sizeof(flotilla_seccomp_rule) == 40, "flotilla_seccomp_rule layout is shared with Swift");

/// Compiles an allowlist filter: every system call no rule matches fails with `default_errno`; rules naming system
/// calls libseccomp does not know are skipped (as Docker skips them), and native calls numbered above the newest it
/// knows fail with ENOSYS (as in runc), so libc falls back to older calls. The filter also covers the native
/// architecture's compat ABIs (x86 and x32 on x86_64, arm on aarch64), as Docker's archMap does. Writes a malloc'd
/// struct sock_filter array to *program and its length to *length. Returns 0 or an errno value.
/// Why C: libseccomp is a C library; this runs in the parent, before clone.
int flotilla_seccomp_compile(int32_t default_errno, const flotilla_seccomp_rule *_Nonnull rules, int32_t count,
                             void *_Nullable *_Nonnull program, uint32_t *_Nonnull length);

/// One cgroup device rule: the type ('a' all, 'b' block, 'c' char), major and minor (-1 = any) and the access
/// allowed (bits: 1 mknod, 2 read, 4 write, as BPF_DEVCG_ACC_*).
typedef struct {
    int32_t type;
    int32_t major;
    int32_t minor;
    int32_t access;
} flotilla_device_rule;

_Static_assert(sizeof(flotilla_device_rule) == 16, "flotilla_device_rule layout is shared with Swift");

/// cgroup v2 device policy: loads a BPF_PROG_TYPE_CGROUP_DEVICE program that allows exactly `rules` (everything
/// else is denied) and attaches it to the cgroup directory `cgroup_fd` (BPF_F_ALLOW_MULTI: programs of parent
/// cgroups still apply). Returns 0 or an errno value with *failed_step set to 1 (load) or 2 (attach); on load
/// failure the verifier's log is not kept. The program lives as long as the cgroup.
/// Why C: bpf(2) takes kernel structs (union bpf_attr, struct bpf_insn) that linux/bpf.h defines for C; runc and
/// crun write the same small instruction array by hand.
int flotilla_device_filter_attach(int cgroup_fd, const flotilla_device_rule *_Nullable rules, int32_t count,
                                  int32_t *_Nonnull failed_step);

/// The highest capability number the running kernel knows (/proc/sys/kernel/cap_last_cap), or 40.
int flotilla_last_capability(void);

/// Opens a pidfd for a running process (pidfd_open). Returns the fd or -1 with errno set.
int flotilla_pidfd_open(pid_t pid);

/// Sends a signal through a pidfd (pidfd_send_signal). Returns 0 or -1 with errno set.
int flotilla_pidfd_send_signal(int pidfd, int signal);

/// Waits for a process through its pidfd to become exited (poll), up to timeout_ms (-1 = forever).
/// Returns 1 if it exited, 0 on timeout, -1 with errno on error.
int flotilla_pidfd_wait_exit(int pidfd, int timeout_ms);

/// Reaps a child through its pidfd (waitid P_PIDFD). Returns 0 and the raw wait status, or -1 with errno.
int flotilla_pidfd_reap(int pidfd, int *_Nonnull status);

#endif
