#ifndef _GNU_SOURCE
#error "_GNU_SOURCE must come from Package.swift"
#endif
// Compiles the seccomp program with libseccomp in the agent, before clone: the child only loads the bytes.
#include "CFlotillaRuntime.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/// The compat ABIs a process of the native architecture can also enter the kernel through (Docker's archMap).
static int flotilla_seccomp_add_compat_arches(scmp_filter_ctx context) {
    uint32_t compat[2] = { 0, 0 };
    switch (seccomp_arch_native()) {
    case SCMP_ARCH_X86_64: compat[0] = SCMP_ARCH_X86; compat[1] = SCMP_ARCH_X32; break;
    case SCMP_ARCH_AARCH64: compat[0] = SCMP_ARCH_ARM; break;
    default: break;
    }
    for (int i = 0; i < 2 && compat[i] != 0; i++) {
        int result = seccomp_arch_add(context, compat[i]);
        if (result < 0 && result != -EEXIST) return result;
    }
    return 0;
}

static int flotilla_seccomp_add_rule(scmp_filter_ctx context, const flotilla_seccomp_rule *rule) {
    int number = seccomp_syscall_resolve_name(rule->name);
    if (number == __NR_SCMP_ERROR) return 0;   // unknown to this libseccomp: skipped, as Docker skips it
    uint32_t action = rule->action == FLOTILLA_SECCOMP_ERRNO ? SCMP_ACT_ERRNO((uint32_t)rule->errno_value)
                                                             : SCMP_ACT_ALLOW;
    struct scmp_arg_cmp condition;
    switch (rule->compare) {
    case FLOTILLA_SECCOMP_ARG_EQ:
        condition = (struct scmp_arg_cmp){ rule->argument, SCMP_CMP_EQ, rule->value, 0 };
        break;
    case FLOTILLA_SECCOMP_ARG_NE:
        condition = (struct scmp_arg_cmp){ rule->argument, SCMP_CMP_NE, rule->value, 0 };
        break;
    case FLOTILLA_SECCOMP_ARG_MASKED_EQ:
        condition = (struct scmp_arg_cmp){ rule->argument, SCMP_CMP_MASKED_EQ, rule->mask, rule->value };
        break;
    default:
        return seccomp_rule_add(context, action, number, 0);
    }
    return seccomp_rule_add(context, action, number, 1, condition);
}

/// The highest native system call number this libseccomp knows, or -1.
static int flotilla_seccomp_newest_native(void) {
    int newest = -1;
    uint32_t arch = seccomp_arch_native();
    for (int number = 0; number < 1024; number++) {
        char *name = seccomp_syscall_resolve_num_arch(arch, number);
        if (name != NULL) { newest = number; free(name); }
    }
    return newest;
}

/// Instructions put in front of libseccomp's program: a native system call numbered above the newest one libseccomp
/// knows fails with ENOSYS instead of the default EPERM (runc patches its filters the same way). libc falls back to
/// an older call on ENOSYS (glibc's fchmodat2 → fchmodat), never on EPERM, so images built against a newer kernel
/// keep working; nothing is allowed that was not. The program after them starts with its own architecture check.
static size_t flotilla_seccomp_enosys_prefix(struct sock_filter *out, int newest) {
    size_t n = 0;
    out[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
    out[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, seccomp_arch_native(), 0, 4);
    out[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
    out[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000u, 2, 0);   // x32's numbers
    out[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, (uint32_t)newest, 0, 1);
    out[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA));
    return n;
}

int flotilla_seccomp_compile(int32_t default_errno, const flotilla_seccomp_rule *rules, int32_t count,
                             void **program, uint32_t *length) {
    *program = NULL;
    *length = 0;
    scmp_filter_ctx context = seccomp_init(SCMP_ACT_ERRNO((uint32_t)default_errno));
    if (context == NULL) return ENOMEM;
    int result = 0;
    int memory = -1;
    // The child sets no_new_privs itself (and only when asked); the exported program must not assume it.
    if ((result = seccomp_attr_set(context, SCMP_FLTATR_CTL_NNP, 0)) < 0) goto done;
    // A binary tree of syscall numbers instead of a linear list (libseccomp 2.5+): an allowlist of ~350 names
    // would otherwise cost every system call a walk down the list. Older libseccomp: linear, still correct.
    (void)seccomp_attr_set(context, SCMP_FLTATR_CTL_OPTIMIZE, 2);
    if ((result = flotilla_seccomp_add_compat_arches(context)) < 0) goto done;
    for (int32_t i = 0; i < count; i++) {
        if ((result = flotilla_seccomp_add_rule(context, &rules[i])) < 0) goto done;
    }
    memory = memfd_create("flotilla-seccomp", MFD_CLOEXEC);
    if (memory < 0) { result = -errno; goto done; }
    if ((result = seccomp_export_bpf(context, memory)) < 0) goto done;
    off_t size = lseek(memory, 0, SEEK_END);
    if (size <= 0) { result = -EIO; goto done; }
    int newest = flotilla_seccomp_newest_native();
    size_t prefix_bytes = (newest >= 0 ? 6 : 0) * sizeof(struct sock_filter);
    if ((size_t)size / sizeof(struct sock_filter) + 6 > BPF_MAXINSNS) { result = -E2BIG; goto done; }
    char *bytes = malloc(prefix_bytes + (size_t)size);
    if (bytes == NULL) { result = -ENOMEM; goto done; }
    if (newest >= 0) flotilla_seccomp_enosys_prefix((struct sock_filter *)(void *)bytes, newest);
    if (pread(memory, bytes + prefix_bytes, (size_t)size, 0) != size) { free(bytes); result = -EIO; goto done; }
    *program = bytes;
    *length = (uint32_t)((prefix_bytes + (size_t)size) / sizeof(struct sock_filter));
    result = 0;
done:
    if (memory >= 0) close(memory);
    seccomp_release(context);
    return result < 0 ? -result : result;
}
