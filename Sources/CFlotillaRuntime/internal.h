#ifndef FLOTILLA_INTERNAL_H
#define FLOTILLA_INTERNAL_H
// Shared between spawn.c and init.c; not part of the Swift-visible header.
#include "CFlotillaRuntime.h"

/// Writes (stage, errno) to the error pipe and exits the child. Async-signal-safe.
_Noreturn void flotilla_child_fail(int error_fd, flotilla_stage stage, int error);

/// Runs as the container's PID 1 (or as exec's intermediate process) until `child` exits, then exits with its
/// status (exit code, or 128 + signal). Reaps every zombie, forwards every catchable signal to `child`, and copies
/// the child's output pipes into rotated log files. Only async-signal-safe calls.
_Noreturn void flotilla_supervise(pid_t child, int stdout_pipe, int stderr_pipe,
                                  const flotilla_spawn_request *request);
#endif
