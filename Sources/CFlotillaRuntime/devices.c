#ifndef _GNU_SOURCE
#error "_GNU_SOURCE must come from Package.swift"
#endif
// The cgroup v2 device policy: a BPF_PROG_TYPE_CGROUP_DEVICE program written by hand, loaded and attached by the
// agent to a container's cgroup before the container starts (so no process of the container ever runs without it).
#include "CFlotillaRuntime.h"

#include <errno.h>
#include <linux/bpf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef BPF_F_ALLOW_MULTI
#define BPF_F_ALLOW_MULTI (1U << 1)
#endif

// Instruction constructors (the kernel's are not uapi). Registers: r1 the context, r0 the verdict.
static struct bpf_insn flotilla_insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
    struct bpf_insn insn;
    memset(&insn, 0, sizeof(insn));
    insn.code = code;
    insn.dst_reg = dst & 0xf;
    insn.src_reg = src & 0xf;
    insn.off = off;
    insn.imm = imm;
    return insn;
}
#define FLOTILLA_LOAD_U32(dst, offset) flotilla_insn(BPF_LDX | BPF_MEM | BPF_W, dst, 1, offset, 0)
#define FLOTILLA_MOV_REG(dst, src) flotilla_insn(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0)
#define FLOTILLA_MOV_IMM(dst, imm) flotilla_insn(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm)
#define FLOTILLA_AND_IMM(dst, imm) flotilla_insn(BPF_ALU64 | BPF_AND | BPF_K, dst, 0, 0, imm)
#define FLOTILLA_RSH_IMM(dst, imm) flotilla_insn(BPF_ALU64 | BPF_RSH | BPF_K, dst, 0, 0, imm)
#define FLOTILLA_JNE_IMM(dst, imm, off) flotilla_insn(BPF_JMP | BPF_JNE | BPF_K, dst, 0, off, imm)
#define FLOTILLA_EXIT() flotilla_insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

/// Most instructions one rule takes: type, access (3), major, minor, verdict (2).
#define FLOTILLA_RULE_MAX_INSNS 8

/// The program: r2 = device type, r3 = requested access, r4 = major, r5 = minor; then per rule a run of
/// "if it does not match, jump to the next rule" tests ending in "return 1"; after the last rule "return 0".
static size_t flotilla_device_program(const flotilla_device_rule *rules, int32_t count, struct bpf_insn *out) {
    size_t n = 0;
    out[n++] = FLOTILLA_LOAD_U32(2, 0);             // access_type
    out[n++] = FLOTILLA_MOV_REG(3, 2);
    out[n++] = FLOTILLA_AND_IMM(2, 0xffff);         // BPF_DEVCG_DEV_*
    out[n++] = FLOTILLA_RSH_IMM(3, 16);             // BPF_DEVCG_ACC_*
    out[n++] = FLOTILLA_LOAD_U32(4, 4);             // major
    out[n++] = FLOTILLA_LOAD_U32(5, 8);             // minor
    for (int32_t i = 0; i < count; i++) {
        const flotilla_device_rule *rule = &rules[i];
        struct bpf_insn body[FLOTILLA_RULE_MAX_INSNS];
        size_t jumps[FLOTILLA_RULE_MAX_INSNS];
        size_t length = 0, jump_count = 0;
        if (rule->type == 'b' || rule->type == 'c') {
            jumps[jump_count++] = length;
            body[length++] = FLOTILLA_JNE_IMM(2, rule->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR, 0);
        }
        int32_t denied = ~rule->access & (BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE);
        if (denied != 0) {   // the request may ask for nothing the rule does not give
            body[length++] = FLOTILLA_MOV_REG(1, 3);
            body[length++] = FLOTILLA_AND_IMM(1, denied);
            jumps[jump_count++] = length;
            body[length++] = FLOTILLA_JNE_IMM(1, 0, 0);
        }
        if (rule->major >= 0) {
            jumps[jump_count++] = length;
            body[length++] = FLOTILLA_JNE_IMM(4, rule->major, 0);
        }
        if (rule->minor >= 0) {
            jumps[jump_count++] = length;
            body[length++] = FLOTILLA_JNE_IMM(5, rule->minor, 0);
        }
        body[length++] = FLOTILLA_MOV_IMM(0, 1);
        body[length++] = FLOTILLA_EXIT();
        for (size_t j = 0; j < jump_count; j++) body[jumps[j]].off = (int16_t)(length - jumps[j] - 1);
        memcpy(out + n, body, length * sizeof(struct bpf_insn));
        n += length;
    }
    out[n++] = FLOTILLA_MOV_IMM(0, 0);
    out[n++] = FLOTILLA_EXIT();
    return n;
}

int flotilla_device_filter_attach(int cgroup_fd, const flotilla_device_rule *rules, int32_t count,
                                  int32_t *failed_step) {
    *failed_step = 1;
    if (count < 0 || (count > 0 && rules == NULL)) return EINVAL;
    struct bpf_insn *program = calloc((size_t)count * FLOTILLA_RULE_MAX_INSNS + 8, sizeof(struct bpf_insn));
    if (program == NULL) return ENOMEM;
    size_t length = flotilla_device_program(rules, count, program);

    static const char license[] = "Apache-2.0";
    union bpf_attr load;
    memset(&load, 0, sizeof(load));
    load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    load.insns = (uint64_t)(uintptr_t)program;
    load.insn_cnt = (uint32_t)length;
    load.license = (uint64_t)(uintptr_t)license;
    int program_fd = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &load, sizeof(load));
    int error = errno;
    free(program);
    if (program_fd < 0) return error;

    *failed_step = 2;
    union bpf_attr attach;
    memset(&attach, 0, sizeof(attach));
    attach.target_fd = (uint32_t)cgroup_fd;
    attach.attach_bpf_fd = (uint32_t)program_fd;
    attach.attach_type = BPF_CGROUP_DEVICE;
    attach.attach_flags = BPF_F_ALLOW_MULTI;
    int attached = (int)syscall(SYS_bpf, BPF_PROG_ATTACH, &attach, sizeof(attach));
    error = errno;
    close(program_fd);   // the attachment holds the program for as long as the cgroup exists
    if (attached < 0) return error;
    *failed_step = 0;
    return 0;
}
