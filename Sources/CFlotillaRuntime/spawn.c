#ifndef _GNU_SOURCE
#error "_GNU_SOURCE must come from Package.swift"
#endif
#include "CFlotillaRuntime.h"
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <linux/filter.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif
#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif
#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif
#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif

struct flotilla_error_message {
    int32_t stage;
    int32_t error;
};
_Static_assert(sizeof(struct flotilla_error_message) == 8, "error pipe message is 8 bytes");

_Noreturn void flotilla_child_fail(int error_fd, flotilla_stage stage, int error) {
    struct flotilla_error_message message = { .stage = (int32_t)stage, .error = error };
    ssize_t written;
    do {
        written = write(error_fd, &message, sizeof(message));
    } while (written < 0 && errno == EINTR);
    _exit(127);
}

// MARK: - Child helpers (async-signal-safe only)

/// Points 0, 1, 2 at `null_fd` and closes every other descriptor except `keep` (the supervisor's own), so a
/// detached container holds none of the agent's files, pipes or terminals.
static void flotilla_close_except(int null_fd, int *keep, int count) {
    if (null_fd >= 0) {
        dup2(null_fd, STDIN_FILENO);
        dup2(null_fd, STDOUT_FILENO);
        dup2(null_fd, STDERR_FILENO);
    }
    for (int i = 1; i < count; i++) {   // insertion sort: at most a handful of descriptors
        for (int j = i; j > 0 && keep[j - 1] > keep[j]; j--) { int t = keep[j]; keep[j] = keep[j - 1]; keep[j - 1] = t; }
    }
    unsigned int next = 3;
    for (int i = 0; i < count; i++) {
        if (keep[i] < (int)next) continue;
        if ((unsigned int)keep[i] > next) syscall(SYS_close_range, next, (unsigned int)keep[i] - 1, 0);
        next = (unsigned int)keep[i] + 1;
    }
    syscall(SYS_close_range, next, ~0U, 0);
}

static size_t flotilla_strlen(const char *s) {
    size_t n = 0;
    while (s[n] != '\0') n++;
    return n;
}

/// mkdir -p of every parent of `path` (not `path` itself). Paths longer than PATH_MAX fail with ENAMETOOLONG.
static int flotilla_make_parents(const char *path) {
    char buffer[4096];
    size_t length = flotilla_strlen(path);
    if (length >= sizeof(buffer)) { errno = ENAMETOOLONG; return -1; }
    memcpy(buffer, path, length + 1);
    for (size_t i = 1; i < length; i++) {
        if (buffer[i] != '/') continue;
        buffer[i] = '\0';
        if (mkdir(buffer, 0755) < 0 && errno != EEXIST) return -1;
        buffer[i] = '/';
    }
    return 0;
}

static void flotilla_apply_mounts(const flotilla_spawn_request *request, int error_fd) {
    for (int32_t i = 0; i < request->mount_count; i++) {
        const flotilla_mount *entry = &request->mounts[i];
        // Targets are made where missing; their parents only when that fails with ENOENT (mostly they exist: a
        // mkdir per path component for every entry would be a hundred system calls per container).
        if (entry->make == FLOTILLA_MOUNT_MAKE_DIRECTORY) {
            int made = mkdir(entry->target, 0755);
            if (made < 0 && errno == ENOENT && flotilla_make_parents(entry->target) == 0) made = mkdir(entry->target, 0755);
            if (made < 0 && errno != EEXIST) flotilla_child_fail(error_fd, FLOTILLA_STAGE_MOUNT, errno);
        } else if (entry->make == FLOTILLA_MOUNT_MAKE_FILE) {
            // Read-only: an existing file in the image (or the runtime's mount-point layer) is not copied up into
            // the container's upper directory. O_NOFOLLOW: a symlink there is refused (ELOOP), never mounted over.
            int fd = open(entry->target, O_RDONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
            if (fd < 0 && errno == ENOENT && flotilla_make_parents(entry->target) == 0)
                fd = open(entry->target, O_RDONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
            if (fd < 0 && errno != EEXIST && errno != EISDIR) flotilla_child_fail(error_fd, FLOTILLA_STAGE_MOUNT, errno);
            if (fd >= 0) close(fd);
        }
        if (entry->op == FLOTILLA_MOUNT_OP_SYMLINK) {
            int linked = symlink(entry->source, entry->target);
            if (linked < 0 && errno == ENOENT && flotilla_make_parents(entry->target) == 0)
                linked = symlink(entry->source, entry->target);
            if (linked < 0 && errno != EEXIST) flotilla_child_fail(error_fd, FLOTILLA_STAGE_MOUNT, errno);
            continue;
        }
        if (mount(entry->source, entry->target, entry->fstype, entry->flags, entry->data) < 0)
            flotilla_child_fail(error_fd, FLOTILLA_STAGE_MOUNT, errno);
    }
}

static void flotilla_join_cgroup(const flotilla_spawn_request *request, int error_fd) {
    for (int32_t i = 0; i < request->cgroup_procs_count; i++) {
        // "0" is the writer itself, whatever PID namespace it is in: the one thread on v1 (`tasks`, which skips
        // the kernel's global threadgroup lock), the process on v2 (`cgroup.procs`).
        if (pwrite(request->cgroup_procs_fds[i], "0", 1, 0) < 0)
            flotilla_child_fail(error_fd, FLOTILLA_STAGE_CGROUP, errno);
    }
}

static void flotilla_drop_bounding_set(const flotilla_spawn_request *request, int error_fd) {
    for (int cap = 0; cap < 64; cap++) {
        if (request->capabilities & (UINT64_C(1) << cap)) continue;
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
            if (errno == EINVAL) break;   // past the kernel's last capability
            flotilla_child_fail(error_fd, FLOTILLA_STAGE_CAPABILITY_BOUNDING, errno);
        }
    }
}

static void flotilla_set_capabilities(const flotilla_spawn_request *request, int error_fd) {
    struct __user_cap_header_struct header = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
    struct __user_cap_data_struct data[2];
    uint32_t low = (uint32_t)(request->capabilities & 0xffffffffu);
    uint32_t high = (uint32_t)(request->capabilities >> 32);
    data[0].effective = data[0].permitted = data[0].inheritable = low;
    data[1].effective = data[1].permitted = data[1].inheritable = high;
    if (syscall(SYS_capset, &header, data) < 0) flotilla_child_fail(error_fd, FLOTILLA_STAGE_CAPABILITIES, errno);
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
}

static void flotilla_load_seccomp(const flotilla_spawn_request *request, int error_fd) {
    if (request->seccomp_filter == NULL) return;
    struct sock_fprog program = {
        .len = (unsigned short)request->seccomp_filter_length,
        .filter = (struct sock_filter *)request->seccomp_filter,
    };
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &program) < 0) {
        if (errno != ENOSYS || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program, 0, 0) < 0)
            flotilla_child_fail(error_fd, FLOTILLA_STAGE_SECCOMP, errno);
    }
}

static void flotilla_reset_signal_handlers(void) {
    struct sigaction action;
    memset(&action, 0, sizeof(action));
    action.sa_handler = SIG_DFL;
    for (int signal = 1; signal < _NSIG; signal++) {
        if (signal == SIGKILL || signal == SIGSTOP) continue;
        sigaction(signal, &action, NULL);   // fails harmlessly for signals glibc reserves
    }
}

/// execve argv[0], searching `search_path` when it has no '/'. Returns the errno to report.
static int flotilla_execute(const flotilla_spawn_request *request) {
    const char *file = request->argv[0];
    char *const *argv = (char *const *)request->argv;
    char *const *envp = (char *const *)request->envp;
    for (const char *c = file; *c != '\0'; c++) {
        if (*c == '/') { execve(file, argv, envp); return errno; }
    }
    size_t file_length = flotilla_strlen(file);
    int reported = ENOENT;
    const char *segment = request->search_path;
    char candidate[4096];
    while (1) {
        const char *end = segment;
        while (*end != '\0' && *end != ':') end++;
        size_t directory_length = (size_t)(end - segment);
        if (directory_length > 0 && directory_length + 1 + file_length < sizeof(candidate)) {
            memcpy(candidate, segment, directory_length);
            candidate[directory_length] = '/';
            memcpy(candidate + directory_length + 1, file, file_length + 1);
            execve(candidate, argv, envp);
            if (errno != ENOENT && errno != ENOTDIR) reported = errno;
        }
        if (*end == '\0') break;
        segment = end + 1;
    }
    return reported;
}

/// The command: stdio, user, capabilities, no_new_privs, working directory, execve. It runs under the seccomp filter
/// its supervisor loaded before forking it: every call here is one the default profile allows.
_Noreturn static void flotilla_command_main(const flotilla_spawn_request *request, int error_fd,
                                            int stdout_fd, int stderr_fd) {
    if (request->stdin_fd >= 0 && dup2(request->stdin_fd, STDIN_FILENO) < 0)
        flotilla_child_fail(error_fd, FLOTILLA_STAGE_STDIO, errno);
    if (stdout_fd >= 0 && dup2(stdout_fd, STDOUT_FILENO) < 0)
        flotilla_child_fail(error_fd, FLOTILLA_STAGE_STDIO, errno);
    if (stderr_fd >= 0 && dup2(stderr_fd, STDERR_FILENO) < 0)
        flotilla_child_fail(error_fd, FLOTILLA_STAGE_STDIO, errno);
    // Every other descriptor of the agent closes at exec (the error pipe included, which signals success).
    syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);

    // Raw syscalls: glibc's set*id wrappers signal every thread it believes exists, and this copy has one.
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) flotilla_child_fail(error_fd, FLOTILLA_STAGE_USER, errno);
    if (syscall(SYS_setgroups, (size_t)request->group_count, request->groups) < 0)
        flotilla_child_fail(error_fd, FLOTILLA_STAGE_USER, errno);
    if (syscall(SYS_setresgid, request->gid, request->gid, request->gid) < 0)
        flotilla_child_fail(error_fd, FLOTILLA_STAGE_USER, errno);
    if (syscall(SYS_setresuid, request->uid, request->uid, request->uid) < 0)
        flotilla_child_fail(error_fd, FLOTILLA_STAGE_USER, errno);
    flotilla_set_capabilities(request, error_fd);
    if (request->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        flotilla_child_fail(error_fd, FLOTILLA_STAGE_NO_NEW_PRIVS, errno);
    if (chdir(request->working_directory) < 0) flotilla_child_fail(error_fd, FLOTILLA_STAGE_CHDIR, errno);

    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    flotilla_child_fail(error_fd, FLOTILLA_STAGE_EXEC, flotilla_execute(request));
}

/// The cloned process: joins the cgroup (unless clone put it there) and namespaces, sets up the root, then forks the
/// command and supervises it.
_Noreturn static void flotilla_child_main(const flotilla_spawn_request *request, int error_fd, int in_cgroup) {
    flotilla_reset_signal_handlers();   // signals stay blocked: the supervisor takes them from a signalfd
    if (!in_cgroup) flotilla_join_cgroup(request, error_fd);

    if (request->join_pidfd >= 0) {
        if (setns(request->join_pidfd, (int)request->join_namespaces) < 0)
            flotilla_child_fail(error_fd, FLOTILLA_STAGE_SETNS, errno);
    } else {
        if (request->network_namespace_fd >= 0 && setns(request->network_namespace_fd, CLONE_NEWNET) < 0)
            flotilla_child_fail(error_fd, FLOTILLA_STAGE_SETNS, errno);
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
            flotilla_child_fail(error_fd, FLOTILLA_STAGE_MOUNT_PRIVATE, errno);
        flotilla_apply_mounts(request, error_fd);
        if (request->new_root != NULL) {
            // pivot_root(".", "."): the old root ends up stacked on the new one and is detached at once.
            if (chdir(request->new_root) < 0) flotilla_child_fail(error_fd, FLOTILLA_STAGE_PIVOT_ROOT, errno);
            if (syscall(SYS_pivot_root, ".", ".") < 0) flotilla_child_fail(error_fd, FLOTILLA_STAGE_PIVOT_ROOT, errno);
            if (umount2(".", MNT_DETACH) < 0) flotilla_child_fail(error_fd, FLOTILLA_STAGE_PIVOT_ROOT, errno);
            if (chdir("/") < 0) flotilla_child_fail(error_fd, FLOTILLA_STAGE_PIVOT_ROOT, errno);
        }
        if (request->hostname != NULL &&
            sethostname(request->hostname, flotilla_strlen(request->hostname)) < 0)
            flotilla_child_fail(error_fd, FLOTILLA_STAGE_HOSTNAME, errno);
    }
    for (int32_t i = 0; i < request->rlimit_count; i++) {
        struct rlimit limit = { .rlim_cur = request->rlimits[i].soft, .rlim_max = request->rlimits[i].hard };
        if (setrlimit(request->rlimits[i].resource, &limit) < 0)
            flotilla_child_fail(error_fd, FLOTILLA_STAGE_RLIMITS, errno);
    }
    flotilla_drop_bounding_set(request, error_fd);

    int logging = request->join_pidfd < 0 && request->log_dir_fd >= 0;
    int out_pipe[2] = { -1, -1 }, err_pipe[2] = { -1, -1 };
    if (logging && (pipe2(out_pipe, O_CLOEXEC) < 0 || pipe2(err_pipe, O_CLOEXEC) < 0))
        flotilla_child_fail(error_fd, FLOTILLA_STAGE_STDIO, errno);

    // Named and made non-dumpable before the command exists, so the command never sees the agent's thread name as
    // PID 1's; both are reset for the command by its execve. Not dumpable: the container's root cannot read this
    // copy of the agent's memory through /proc/1/mem.
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    prctl(PR_SET_NAME, request->join_pidfd >= 0 ? "flotilla-exec" : "flotilla-init", 0, 0, 0);

    // The seccomp filter, loaded once here (the supervisor still holds CAP_SYS_ADMIN, so no_new_privs is not needed
    // for it yet) and inherited by the command through the clone below: one load per container instead of two
    // (the kernel copies, JITs and caches a filter of a thousand instructions on each load). Everything the
    // supervisor and the command do from here on is allowed by the default profile.
    flotilla_load_seccomp(request, error_fd);

    // Fork-like clone (no glibc fork: its atfork handlers take locks another thread of the agent may hold).
    // After a setns(CLONE_NEWPID) this child is the first one inside the container's PID namespace.
    pid_t command = (pid_t)syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
    if (command < 0) flotilla_child_fail(error_fd, FLOTILLA_STAGE_INIT_FORK, errno);
    if (command == 0) {
        if (logging) { close(out_pipe[0]); close(err_pipe[0]); }
        flotilla_command_main(request, error_fd,
                              logging ? out_pipe[1] : request->stdout_fd,
                              logging ? err_pipe[1] : request->stderr_fd);
    }
    if (logging) { close(out_pipe[1]); close(err_pipe[1]); }
    // The supervisor keeps root (uid 0) but only the container's capabilities, under the same seccomp filter.
    flotilla_set_capabilities(request, error_fd);
    if (request->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        flotilla_child_fail(error_fd, FLOTILLA_STAGE_NO_NEW_PRIVS, errno);
    int keep[] = { out_pipe[0], err_pipe[0], request->status_fd, logging ? request->log_dir_fd : -1 };
    // Closes error_fd too: the command's copy closes at exec, and that EOF tells the agent it exec'd.
    flotilla_close_except(request->stdin_fd, keep, 4);
    flotilla_supervise(command, out_pipe[0], err_pipe[0], request);
}

// MARK: - Parent side

int flotilla_spawn(const flotilla_spawn_request *request, pid_t *pid, int *pidfd, flotilla_stage *failed_stage) {
    *failed_stage = FLOTILLA_STAGE_NONE;
    *pid = -1;
    *pidfd = -1;
    int error_pipe[2];
    if (pipe2(error_pipe, O_CLOEXEC) < 0) { *failed_stage = FLOTILLA_STAGE_CLONE; return errno; }

    // Block every signal across clone so no handler of the agent ever runs in the child.
    sigset_t all, previous;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &previous);

    uint64_t namespaces = request->join_pidfd >= 0 ? 0 : request->namespace_flags;
    int child_pidfd = -1;
    // v2: born in the cgroup (CLONE_INTO_CGROUP, Linux 5.7+), so nobody writes cgroup.procs, whose write takes the
    // kernel's global threadgroup lock. Refused (older kernel, not a cgroup2 directory): the child joins itself.
    int in_cgroup = request->cgroup_fd >= 0;
    struct clone_args arguments;
    memset(&arguments, 0, sizeof(arguments));
    arguments.flags = CLONE_PIDFD | namespaces | (in_cgroup ? CLONE_INTO_CGROUP : 0);
    arguments.pidfd = (uint64_t)(uintptr_t)&child_pidfd;
    arguments.exit_signal = SIGCHLD;
    arguments.cgroup = in_cgroup ? (uint64_t)request->cgroup_fd : 0;
    pid_t child = (pid_t)syscall(SYS_clone3, &arguments, sizeof(arguments));
    if (child < 0 && in_cgroup && errno != ENOSYS) {
        in_cgroup = 0;
        arguments.flags &= ~CLONE_INTO_CGROUP;
        arguments.cgroup = 0;
        child = (pid_t)syscall(SYS_clone3, &arguments, sizeof(arguments));
    }
    if (child < 0 && (errno == ENOSYS || errno == E2BIG)) {
        in_cgroup = 0;
        child = (pid_t)syscall(SYS_clone, (unsigned long)namespaces | SIGCHLD, 0, 0, 0, 0);
        child_pidfd = -1;
    }
    if (child == 0) {
        close(error_pipe[0]);
        flotilla_child_main(request, error_pipe[1], in_cgroup);
    }
    int clone_error = errno;
    pthread_sigmask(SIG_SETMASK, &previous, NULL);
    close(error_pipe[1]);
    if (child < 0) {
        close(error_pipe[0]);
        *failed_stage = FLOTILLA_STAGE_CLONE;
        return clone_error;
    }
    if (child_pidfd < 0) {
        child_pidfd = (int)syscall(SYS_pidfd_open, child, 0);
        if (child_pidfd < 0) {
            int error = errno;
            kill(child, SIGKILL);
            waitpid(child, NULL, 0);
            close(error_pipe[0]);
            *failed_stage = FLOTILLA_STAGE_CLONE;
            return error;
        }
    }

    struct flotilla_error_message message;
    size_t received = 0;
    while (received < sizeof(message)) {
        ssize_t n = read(error_pipe[0], (char *)&message + received, sizeof(message) - received);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        received += (size_t)n;
    }
    close(error_pipe[0]);
    if (received == sizeof(message)) {
        // Setup failed: the child (or the command, whose supervisor then exits) has _exit'ed; reap it.
        kill(child, SIGKILL);
        siginfo_t info;
        while (syscall(SYS_waitid, P_PIDFD, child_pidfd, &info, WEXITED, NULL) < 0 && errno == EINTR) {}
        close(child_pidfd);
        *failed_stage = (flotilla_stage)message.stage;
        return message.error;
    }
    *pid = child;
    *pidfd = child_pidfd;
    return 0;
}

int flotilla_pidfd_open(pid_t pid) {
    return (int)syscall(SYS_pidfd_open, pid, 0);
}

int flotilla_pidfd_send_signal(int pidfd, int signal) {
    return (int)syscall(SYS_pidfd_send_signal, pidfd, signal, NULL, 0);
}

int flotilla_pidfd_wait_exit(int pidfd, int timeout_ms) {
    struct pollfd entry = { .fd = pidfd, .events = POLLIN };
    while (1) {
        int ready = poll(&entry, 1, timeout_ms);
        if (ready < 0 && errno == EINTR) continue;
        if (ready < 0) return -1;
        return ready > 0 ? 1 : 0;
    }
}

int flotilla_pidfd_reap(int pidfd, int *status) {
    siginfo_t info;
    memset(&info, 0, sizeof(info));
    while (syscall(SYS_waitid, P_PIDFD, pidfd, &info, WEXITED, NULL) < 0) {
        if (errno != EINTR) return -1;
    }
    if (info.si_code == CLD_EXITED) *status = (info.si_status & 0xff) << 8;
    else *status = info.si_status & 0x7f;
    return 0;
}

int flotilla_last_capability(void) {
    int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 40;
    char buffer[16];
    ssize_t n = read(fd, buffer, sizeof(buffer) - 1);
    close(fd);
    if (n <= 0) return 40;
    int value = 0;
    for (ssize_t i = 0; i < n && buffer[i] >= '0' && buffer[i] <= '9'; i++) value = value * 10 + (buffer[i] - '0');
    return value;
}
