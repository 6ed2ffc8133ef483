#ifndef _GNU_SOURCE
#error "_GNU_SOURCE must come from Package.swift"
#endif
// The container's PID 1: it reaps zombies, forwards signals to the command, copies the command's stdout and stderr
// into size-rotated log files, and exits with the command's status. It runs in the cloned process (no separate
// binary to bind-mount) and, like the rest of the child, makes only async-signal-safe calls.
#include "CFlotillaRuntime.h"
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

struct flotilla_log_stream {
    int pipe;
    int file;
    uint64_t size;
    const char *name;   // "stdout.log" / "stderr.log"
};

/// Writes "<name>" (index 0) or "<name>.<index>" into buffer.
static void flotilla_log_name(char *buffer, size_t capacity, const char *name, int index) {
    size_t n = 0;
    while (name[n] != '\0' && n + 4 < capacity) { buffer[n] = name[n]; n++; }
    if (index > 0) {
        buffer[n++] = '.';
        char digits[4];
        int count = 0;
        do { digits[count++] = (char)('0' + index % 10); index /= 10; } while (index > 0 && count < 3);
        while (count > 0 && n + 1 < capacity) buffer[n++] = digits[--count];
    }
    buffer[n] = '\0';
}

static void flotilla_log_open(struct flotilla_log_stream *stream, int directory, int truncate) {
    stream->file = openat(directory, stream->name,
                          O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW | (truncate ? O_TRUNC : 0), 0640);
    stream->size = 0;
    struct stat status;
    if (stream->file >= 0 && fstat(stream->file, &status) == 0) stream->size = (uint64_t)status.st_size;
}

/// stdout.log.(n-2) → stdout.log.(n-1), …, stdout.log → stdout.log.1, then a fresh stdout.log.
static void flotilla_log_rotate(struct flotilla_log_stream *stream, const flotilla_spawn_request *request) {
    if (stream->file >= 0) close(stream->file);
    char from[64], to[64];
    for (int index = request->log_max_files - 1; index >= 1; index--) {
        flotilla_log_name(from, sizeof(from), stream->name, index - 1);
        flotilla_log_name(to, sizeof(to), stream->name, index);
        renameat(request->log_dir_fd, from, request->log_dir_fd, to);
    }
    flotilla_log_open(stream, request->log_dir_fd, 1);
}

/// Appends to the current file, rotating when it would grow past log_max_bytes; a chunk is cut at its last
/// newline that fits, so lines stay whole unless one line alone is longer than a file.
static void flotilla_log_write(struct flotilla_log_stream *stream, const flotilla_spawn_request *request,
                               const char *data, size_t length) {
    uint64_t maximum = request->log_max_bytes;
    while (length > 0) {
        size_t take = length;
        if (maximum > 0) {
            if (stream->size >= maximum) flotilla_log_rotate(stream, request);
            uint64_t space = maximum - stream->size;
            if (take > space) {
                take = (size_t)space;
                size_t cut = take;
                while (cut > 0 && data[cut - 1] != '\n') cut--;
                if (cut > 0) take = cut;
                else if (stream->size > 0) { flotilla_log_rotate(stream, request); continue; }
            }
        }
        size_t offset = 0;
        while (offset < take && stream->file >= 0) {
            ssize_t n = write(stream->file, data + offset, take - offset);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) break;   // a full disk drops output rather than blocking the container
            offset += (size_t)n;
        }
        stream->size += take;
        data += take;
        length -= take;
        if (maximum > 0 && length > 0) flotilla_log_rotate(stream, request);
    }
}

/// Copies what is readable now; returns 0 once the pipe is at EOF (then closed).
static int flotilla_log_pump(struct flotilla_log_stream *stream, const flotilla_spawn_request *request) {
    char buffer[16384];
    while (1) {
        ssize_t n = read(stream->pipe, buffer, sizeof(buffer));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) return 1;
        if (n <= 0) {
            close(stream->pipe);
            stream->pipe = -1;
            return 0;
        }
        flotilla_log_write(stream, request, buffer, (size_t)n);
        if ((size_t)n < sizeof(buffer)) return 1;
    }
}

_Noreturn void flotilla_supervise(pid_t child, int stdout_pipe, int stderr_pipe,
                                  const flotilla_spawn_request *request) {
    struct flotilla_log_stream streams[2] = {
        { .pipe = stdout_pipe, .file = -1, .size = 0, .name = "stdout.log" },
        { .pipe = stderr_pipe, .file = -1, .size = 0, .name = "stderr.log" },
    };
    for (int i = 0; i < 2; i++) {
        if (streams[i].pipe < 0) continue;
        fcntl(streams[i].pipe, F_SETFL, O_NONBLOCK);
        flotilla_log_open(&streams[i], request->log_dir_fd, 0);
    }

    // Every signal stays blocked (since before clone) and is read here; blocked signals reach a PID 1 too.
    sigset_t all;
    sigfillset(&all);
    int signals = signalfd(-1, &all, SFD_CLOEXEC | SFD_NONBLOCK);

    int status = 0;
    int exited = 0;
    while (!exited) {
        struct pollfd entries[3];
        int count = 0;
        entries[count++] = (struct pollfd){ .fd = signals, .events = POLLIN };
        for (int i = 0; i < 2; i++) {
            if (streams[i].pipe >= 0) entries[count++] = (struct pollfd){ .fd = streams[i].pipe, .events = POLLIN };
        }
        if (poll(entries, (nfds_t)count, -1) < 0 && errno != EINTR) break;

        for (int i = 0; i < 2; i++) {
            if (streams[i].pipe >= 0) flotilla_log_pump(&streams[i], request);
        }
        struct signalfd_siginfo info;
        while (signals >= 0) {
            ssize_t n = read(signals, &info, sizeof(info));
            if (n != (ssize_t)sizeof(info)) break;
            if (info.ssi_signo != SIGCHLD) {
                kill(child, (int)info.ssi_signo);
                continue;
            }
        }
        // Reap every zombie (orphans re-parent to PID 1); note the command's status.
        while (1) {
            int reaped_status;
            pid_t reaped = waitpid(-1, &reaped_status, WNOHANG);
            if (reaped <= 0) break;
            if (reaped == child) { status = reaped_status; exited = 1; }
        }
        if (signals < 0 && !exited) {
            // No signalfd: fall back to a blocking wait for the command.
            if (waitpid(child, &status, 0) == child) exited = 1;
        }
    }
    // Output the command wrote before exiting is still in the pipes; background processes may keep them open.
    for (int i = 0; i < 2; i++) {
        if (streams[i].pipe >= 0) flotilla_log_pump(&streams[i], request);
    }
    if (request->status_fd >= 0) {
        int32_t raw = (int32_t)status;
        while (pwrite(request->status_fd, &raw, sizeof(raw), 0) < 0 && errno == EINTR) {}
    }
    if (WIFEXITED(status)) _exit(WEXITSTATUS(status));
    _exit(128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0));
}
