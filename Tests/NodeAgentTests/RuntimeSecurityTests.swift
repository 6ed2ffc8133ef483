import Foundation
import Logging
import Testing
@testable import NodeAgent
#if canImport(Glibc)
import Glibc
#endif

/// The security defaults of an unprivileged container, proven from inside it: the device allowlist (cgroup v1
/// `devices`, and the v2 device program where this host has a cgroup2 mount), Docker's masked and read-only paths,
/// and Docker's seccomp allowlist. Each refusal is checked against a privileged container, which has none of them,
/// so a refusal is known to come from the policy and not from the host.
@Suite(
    "Runtime security: devices, masked paths, seccomp", .enabled(if: getuid() == 0), .serialized,
    .timeLimit(.minutes(10)))
struct RuntimeSecurityTests {
    /// The host devices an attacker goes for: name, type, major, minor. The last one is the block device of the
    /// host's root filesystem (its numbers from stat("/")).
    static let hostileDevices: [(name: String, type: String, major: UInt32, minor: UInt32)] = {
        var devices: [(String, String, UInt32, UInt32)] = [
            ("kvm", "c", 10, 232), ("loop-control", "c", 10, 237), ("loop0", "b", 7, 0), ("fuse", "c", 10, 229),
        ]
        var status = stat()
        if stat("/", &status) == 0 {
            let (major, minor) = DevicePolicy.split(status.st_dev)
            if major != 0 { devices.append(("rootdisk", "b", major, minor)) }  // 0 = no block device (tmpfs, overlay)
        }
        return devices
    }()

    /// A layer with every hostile device node already made, mode 0666, as an image can ship them.
    static func makeNodeLayer(in root: String) throws -> String {
        let layer = root + "/layers/nodes"
        try FileManager.default.createDirectory(atPath: layer + "/nodes", withIntermediateDirectories: true)
        for device in hostileDevices {
            let major = UInt64(device.major), minor = UInt64(device.minor)
            let number = (minor & 0xff) | ((major & 0xfff) << 8) | ((minor & ~0xff) << 12) | ((major & ~0xfff) << 32)
            let kind = device.type == "b" ? FileType.block : FileType.character
            guard mknod(layer + "/nodes/" + device.name, kind | 0o666, dev_t(number)) == 0,
                chmod(layer + "/nodes/" + device.name, 0o666) == 0
            else {
                throw RuntimeError(stage: .rootfs, errno: .init(rawValue: errno), container: "test-layer")
            }
        }
        return layer
    }

    /// For each hostile device: mknod it in /tmp, then try to open (read-write) what was made and the node the
    /// image shipped. Prints "mknod NAME ok|refused" and "open PATH" for every open that worked.
    static let deviceProbe: String = hostileDevices.map { device in
        """
        if mknod /tmp/\(device.name) \(device.type) \(device.major) \(device.minor) 2>/dev/null; \
        then echo "mknod \(device.name) ok"; else echo "mknod \(device.name) refused"; fi; \
        for node in /tmp/\(device.name) /nodes/\(device.name); do \
        if [ -e $node ] && (exec 3<>$node) 2>/dev/null; then echo "open $node"; fi; done;
        """
    }.joined(separator: " ")

    /// The devices every container keeps: they read, write and (with CAP_MKNOD) can be made again.
    static let allowedProbe = """
        head -c 4 /dev/urandom | wc -c; head -c 4 /dev/random | wc -c; head -c 4 /dev/zero | wc -c; \
        echo x > /dev/null && echo null-ok; (echo x > /dev/full) 2>&1 | grep -q 'No space left' && echo full-ok; \
        (exec 3<>/dev/ptmx) && echo ptmx-ok; \
        mknod /tmp/null2 c 1 3 && echo x > /tmp/null2 && echo mknod-null-ok; \
        rm /bin/true && echo whiteout-ok
        """

    @Test(arguments: [
        ("root with Docker's default capabilities (MKNOD included)", nil as String?, [] as [String], [] as [String]),
        ("root with SYS_ADMIN and SYS_RAWIO added", nil, ["SYS_ADMIN", "SYS_RAWIO"], []),
        ("user 1000 with every capability dropped", "1000", [], ["ALL"]),
    ])
    func hostDevicesCanNeitherBeMadeNorOpened(
        _ label: String, user: String?, add: [String], drop: [String]
    ) async throws {
        try await RuntimeFixture.with { fixture in
            // Given an image that ships the host's device nodes (mode 0666) and a container of this kind
            let nodes = try Self.makeNodeLayer(in: fixture.root)
            // When it tries to make and open kvm, loop-control, loop0, fuse and the host's root disk
            let result = try await fixture.run(
                fixture.spec(["sh", "-c", Self.deviceProbe]) {
                    $0.layerDirectories.append(nodes)
                    $0.user = user
                    $0.capabilityAdd = add
                    $0.capabilityDrop = drop
                })
            // Then every mknod is refused and no node opens, the image's included
            #expect(result.exit.exitCode == 0, "\(result.stderr)")
            for device in Self.hostileDevices {
                #expect(result.stdout.contains("mknod \(device.name) refused\n"), "\(label): \(result.stdout)")
            }
            #expect(!result.stdout.contains("open "), "\(label): \(result.stdout)")
        }
    }

    @Test func theDefaultDevicesStillWork() async throws {
        try await RuntimeFixture.with { fixture in
            // Given a default container
            // When it reads and writes the devices of the OCI default list, makes one again, and deletes an image
            // file (overlay records that as a 0:0 character device, a whiteout)
            let result = try await fixture.run(fixture.spec(["sh", "-c", Self.allowedProbe]))
            // Then all of it works
            #expect(
                result.stdout == "4\n4\n4\nnull-ok\nfull-ok\nptmx-ok\nmknod-null-ok\nwhiteout-ok\n", "\(result.stderr)")
        }
    }

    @Test func aPrivilegedContainerHasNoDevicePolicy() async throws {
        try await RuntimeFixture.with { fixture in
            // Given a privileged container and an image shipping the nodes
            let nodes = try Self.makeNodeLayer(in: fixture.root)
            // When it opens the image's kvm node and makes fuse's
            let result = try await fixture.run(
                fixture.spec([
                    "sh", "-c",
                    """
                    (exec 3<>/nodes/kvm) && echo kvm-open; mknod /tmp/fuse c 10 229 && (exec 3<>/tmp/fuse) && echo fuse-open
                    """,
                ]) {
                    $0.layerDirectories.append(nodes)
                    $0.privileged = true
                })
            // Then both work: the refusals above come from the policy, not from this host
            #expect(result.stdout == "kvm-open\nfuse-open\n", "\(result.stderr)")
        }
    }

    @Test func aDeviceNamedInTheSpecIsUsableAndNothingElse() async throws {
        try await RuntimeFixture.with { fixture in
            // Given a container given the host's /dev/fuse (read, write) as linuxParameters.devices would
            let result = try await fixture.run(
                fixture.spec([
                    "sh", "-c",
                    """
                    (exec 3<>/dev/fuse) && echo fuse-open; \
                    mknod /tmp/fuse c 10 229 2>/dev/null && echo fuse-mknod-ok || echo fuse-mknod-refused; \
                    mknod /tmp/kvm c 10 232 2>/dev/null && echo kvm-mknod-ok || echo kvm-mknod-refused
                    """,
                ]) {
                    $0.devices = [ContainerDevice(hostPath: "/dev/fuse", permissions: [.read, .write])]
                })
            // Then it opens, mknod of it stays refused (not in its permissions), and other devices stay out
            #expect(result.stdout == "fuse-open\nfuse-mknod-refused\nkvm-mknod-refused\n", "\(result.stderr)")
        }
    }

    @Test func aSpecDeviceThatIsNotADeviceIsRefusedAtCreate() async throws {
        try await RuntimeFixture.with { fixture in
            await #expect(
                throws: ContainerConfigurationError(
                    field: "linuxParameters.devices[0].hostPath",
                    message: "/etc/hostname is not a character or block device")
            ) {
                _ = try await fixture.runtime.create(
                    fixture.spec(["true"]) {
                        $0.devices = [ContainerDevice(hostPath: "/etc/hostname", containerPath: "/dev/x")]
                    })
            }
            await #expect(
                throws: ContainerConfigurationError(
                    field: "linuxParameters.devices[0].containerPath",
                    message: "must be a path under /dev without '.' or '..', got \"/etc/fuse\"")
            ) {
                _ = try await fixture.runtime.create(
                    fixture.spec(["true"]) {
                        $0.devices = [ContainerDevice(hostPath: "/dev/fuse", containerPath: "/etc/fuse")]
                    })
            }
            #expect(await fixture.runtime.list().isEmpty)
        }
    }

    @Test(.enabled(if: CgroupTests.v2MountPoint != nil, "needs a cgroup2 mount"))
    func onCgroupV2TheDeviceProgramEnforcesTheSamePolicy() async throws {
        // Given a runtime on this host's cgroup2 mount: the container's cgroup gets the BPF device program (the v1
        // devices hierarchy is not used by this runtime, so the program alone decides)
        let mountPoint = try #require(CgroupTests.v2MountPoint)
        let parent = "flotilla-test-devices-\(getpid())"
        let fixture = try RuntimeFixture()
        let runtime = try ContainerRuntime(
            dataDirectory: fixture.root + "/data-v2", cgroupParent: parent,
            cgroupLayout: .v2(mountPoint: mountPoint), logger: Logger(label: "test.v2"))
        defer {
            rmdir(mountPoint + "/" + parent)
            try? FileManager.default.removeItem(atPath: fixture.root)
        }
        let nodes = try Self.makeNodeLayer(in: fixture.root)
        // When the hostile probe, the default devices and a spec device are tried
        var spec = fixture.spec([
            "sh", "-c", Self.deviceProbe + " " + Self.allowedProbe + "; (exec 3<>/dev/fuse) && echo fuse-open",
        ])
        spec.layerDirectories.append(nodes)
        spec.devices = [ContainerDevice(hostPath: "/dev/fuse")]
        let info = try await runtime.create(spec)
        try await runtime.start(info.id)
        let exit = try await runtime.wait(info.id)
        let output = try String(contentsOfFile: info.stdoutLogPath, encoding: .utf8)
        try await runtime.delete(info.id)
        // Then the hostile devices are refused, the defaults and the spec's device work
        #expect(exit.exitCode == 0)
        for device in Self.hostileDevices where device.name != "fuse" {
            #expect(output.contains("mknod \(device.name) refused\n"), "\(output)")
        }
        for device in Self.hostileDevices where device.name != "fuse" {
            #expect(
                !output.contains("open /nodes/\(device.name)\n") && !output.contains("open /tmp/\(device.name)\n"),
                "\(output)")
        }
        #expect(output.contains("4\n4\n4\nnull-ok\nfull-ok\nptmx-ok\nmknod-null-ok\nwhiteout-ok\n"), "\(output)")
        #expect(output.hasSuffix("fuse-open\n"), "\(output)")
    }

    @Test func maskedPathsShowNothingAndProcSysIsReadOnly() async throws {
        try await RuntimeFixture.with { fixture in
            // Given Docker's masked paths that this host has
            let masked = ContainerMounts.hostMaskedPaths
            #expect(!masked.isEmpty)
            // (and the read-only paths it has: /proc/sys always, /proc/sysrq-trigger where the kernel has sysrq)
            let readOnly: [String] = ["/proc/sys/vm/drop_caches", "/proc/sysrq-trigger"].filter {
                access($0, F_OK) == 0
            }
            let probe = masked.map { entry in
                entry.isDirectory
                    ? "echo \(entry.path) $(ls -A \(entry.path) | wc -l) $(touch \(entry.path)/x 2>&1 | grep -c Read-only)"
                    : "echo \(entry.path) $(cat \(entry.path) | wc -c)"
            }.joined(separator: "; ")
            // When a container lists and reads them, and writes a kernel tunable
            let writes = readOnly.map { "; (echo 1 > \($0)) 2>&1" }.joined()
            let result = try await fixture.run(fixture.spec(["sh", "-c", probe + writes]))
            // Then files read empty, directories are empty and read-only, /proc/sys and sysrq-trigger refuse writes
            for entry in masked {
                #expect(
                    result.stdout.contains(entry.isDirectory ? "\(entry.path) 0 1\n" : "\(entry.path) 0\n"),
                    "\(entry.path): \(result.stdout)")
            }
            #expect(
                result.stdout.components(separatedBy: "Read-only file system").count == readOnly.count + 1,
                "\(result.stdout)")
            // And a privileged container sees the host's /sys/firmware and /proc/kcore: the masks are the policy
            if access("/sys/firmware", F_OK) == 0 {
                let privileged = try await fixture.run(
                    fixture.spec(["sh", "-c", "ls -A /sys/firmware | wc -l"]) {
                        $0.privileged = true
                    })
                #expect(Int(privileged.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0 > 0)
            }
        }
    }

    // MARK: - Seccomp

    /// A static probe: each line is a system call (or an argument case) and the errno it got (0 = allowed).
    static let seccompProbeSource = #"""
        #define _GNU_SOURCE
        #include <errno.h>
        #include <sched.h>
        #include <signal.h>
        #include <stdio.h>
        #include <string.h>
        #include <sys/personality.h>
        #include <sys/socket.h>
        #include <sys/syscall.h>
        #include <sys/wait.h>
        #include <unistd.h>
        static void report(const char *name, long result) { printf("%s %d\n", name, result < 0 ? errno : 0); }
        int main(void) {
            char params[120]; memset(params, 0, sizeof(params));
            report("io_uring_setup", syscall(425, 1, params));
            report("io_uring_enter", syscall(426, -1, 0, 0, 0, NULL, 0));
            report("io_uring_register", syscall(427, -1, 0, NULL, 0));
            report("clone3", syscall(435, NULL, 0));
            report("socket_vsock", socket(40, SOCK_STREAM, 0));
            report("socket_inet", socket(AF_INET, SOCK_STREAM, 0));
            report("keyctl", syscall(SYS_keyctl, 0, -3, 0));
            report("personality_query", personality(0xffffffff));
            report("fchmodat2", syscall(452, -100, "/nonexistent", 0755, 0));
            report("unknown_999", syscall(999));
            pid_t child = fork();
            if (child == 0) _exit(0);
            report("fork", child < 0 ? -1 : waitpid(child, NULL, 0));
            report("unshare_user", syscall(SYS_unshare, CLONE_NEWUSER));
            fflush(stdout);
            return 0;
        }
        """#

    /// Compiles the probe with `gcc -static` into a layer of its own.
    static func makeProbeLayer(in root: String) throws -> String {
        let layer = root + "/layers/probe"
        try FileManager.default.createDirectory(atPath: layer + "/bin", withIntermediateDirectories: true)
        try seccompProbeSource.write(toFile: root + "/probe.c", atomically: true, encoding: .utf8)
        let gcc = Process()
        gcc.executableURL = URL(fileURLWithPath: "/usr/bin/gcc")
        gcc.arguments = ["-static", "-O1", "-o", layer + "/bin/seccomp-probe", root + "/probe.c"]
        try gcc.run()
        gcc.waitUntilExit()
        guard gcc.terminationStatus == 0 else {
            throw ContainerConfigurationError(
                field: "probe", message: "gcc -static failed with \(gcc.terminationStatus)")
        }
        return layer
    }

    static func probeResults(_ output: String) -> [String: Int32] {
        Dictionary(
            output.split(separator: "\n").compactMap { line -> (String, Int32)? in
                let fields = line.split(separator: " ")
                guard fields.count == 2, let value = Int32(fields[1]) else { return nil }
                return (String(fields[0]), value)
            }, uniquingKeysWith: { first, _ in first })
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/gcc"), "needs gcc to build the probe"))
    func theSeccompAllowlistRefusesIoUringAndWhatDockerRefuses() async throws {
        try await RuntimeFixture.with { fixture in
            let probe = try Self.makeProbeLayer(in: fixture.root)
            // Given the probe in a default container, one with CAP_SYS_ADMIN, and a privileged one (no filter)
            func run(_ configure: (inout ContainerSpec) -> Void) async throws -> [String: Int32] {
                let result = try await fixture.run(
                    fixture.spec(["/bin/seccomp-probe"]) {
                        $0.layerDirectories.append(probe)
                        configure(&$0)
                    })
                #expect(result.exit.exitCode == 0, "\(result.stderr)")
                return Self.probeResults(result.stdout)
            }
            let standard = try await run { _ in }
            let admin = try await run { $0.capabilityAdd = ["SYS_ADMIN"] }
            let privileged = try await run { $0.privileged = true }

            // Then the default container gets EPERM for io_uring (all three), keyctl, AF_VSOCK and a user namespace
            // (which needs no capability: only the filter refuses it), ENOSYS for clone3, and keeps the rest
            #expect(standard["io_uring_setup"] == EPERM)
            #expect(standard["io_uring_enter"] == EPERM)
            #expect(standard["io_uring_register"] == EPERM)
            #expect(standard["keyctl"] == EPERM)
            #expect(standard["socket_vsock"] == EPERM)
            #expect(standard["unshare_user"] == EPERM)
            #expect(standard["clone3"] == ENOSYS)
            #expect(standard["socket_inet"] == 0 && standard["personality_query"] == 0 && standard["fork"] == 0)
            // And calls newer than libseccomp knows get ENOSYS, so libc falls back (fchmodat2 is allowed by Docker's
            // list: ENOENT where libseccomp knows it, ENOSYS where not; never EPERM)
            #expect(standard["fchmodat2"] == ENOENT || standard["fchmodat2"] == ENOSYS)
            #expect(standard["unknown_999"] == ENOSYS)
            // And CAP_SYS_ADMIN opens the namespace calls (Docker's capability-gated rules), never io_uring
            #expect(admin["unshare_user"] == 0)
            #expect(admin["clone3"] != ENOSYS)
            #expect(admin["io_uring_setup"] == EPERM)
            // And without a filter the same calls pass the kernel: the refusals above are the filter's
            #expect(privileged["io_uring_setup"] != EPERM)
            #expect(privileged["io_uring_enter"] == EBADF)
            #expect(privileged["keyctl"] != EPERM)
            #expect(privileged["unshare_user"] == 0)
        }
    }
}
