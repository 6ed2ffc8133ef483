#ifndef _GNU_SOURCE
#error "_GNU_SOURCE must come from Package.swift"
#endif
// Compiles the seccomp program with libseccomp in the agent, before clone: the child only loads the bytes.
#include "CFlotillaRuntime.h"

#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

int flotilla_seccomp_compile(const char *const *names, int32_t count, int32_t errno_value,
                             int32_t deny_namespace_clone, void **program, uint32_t *length) {
    *program = NULL;
    *length = 0;
    scmp_filter_ctx context = seccomp_init(SCMP_ACT_ALLOW);
    if (context == NULL) return ENOMEM;
    int result = 0;
    int memory = -1;
    // The child sets no_new_privs itself (and only when asked); the exported program must not assume it.
    if ((result = seccomp_attr_set(context, SCMP_FLTATR_CTL_NNP, 0)) < 0) goto done;
    for (int32_t i = 0; i < count; i++) {
        int number = seccomp_syscall_resolve_name(names[i]);
        if (number == __NR_SCMP_ERROR) continue;   // not a syscall on this architecture
        if ((result = seccomp_rule_add(context, SCMP_ACT_ERRNO((uint32_t)errno_value), number, 0)) < 0) goto done;
    }
    if (deny_namespace_clone) {
        static const unsigned long flags[] = {
            CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWCGROUP,
        };
        for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
            result = seccomp_rule_add(context, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
                                      SCMP_A0(SCMP_CMP_MASKED_EQ, flags[i], flags[i]));
            if (result < 0) goto done;
        }
        // clone3 passes its flags in memory seccomp cannot inspect: ENOSYS makes libc fall back to clone.
        int clone3 = seccomp_syscall_resolve_name("clone3");
        if (clone3 != __NR_SCMP_ERROR &&
            (result = seccomp_rule_add(context, SCMP_ACT_ERRNO(ENOSYS), clone3, 0)) < 0) goto done;
    }
    memory = memfd_create("flotilla-seccomp", MFD_CLOEXEC);
    if (memory < 0) { result = -errno; goto done; }
    if ((result = seccomp_export_bpf(context, memory)) < 0) goto done;
    off_t size = lseek(memory, 0, SEEK_END);
    if (size <= 0) { result = -EIO; goto done; }
    void *bytes = malloc((size_t)size);
    if (bytes == NULL) { result = -ENOMEM; goto done; }
    if (pread(memory, bytes, (size_t)size, 0) != size) { free(bytes); result = -EIO; goto done; }
    *program = bytes;
    *length = (uint32_t)(size / 8);   // sizeof(struct sock_filter)
    result = 0;
done:
    if (memory >= 0) close(memory);
    seccomp_release(context);
    return result < 0 ? -result : result;
}
