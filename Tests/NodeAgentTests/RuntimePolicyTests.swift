import Testing
import TaskDefinitions
@testable import NodeAgent
#if canImport(Glibc)
import Glibc
#endif

@Suite("Runtime policy: users, capabilities, seccomp profile", .timeLimit(.minutes(10)))
struct RuntimePolicyTests {
    static let passwd = "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n"
    static let group = "root:x:0:\nstaff:x:50:app,other\napp:x:1000:\nnogroup:x:65534:\n"

    @Test(arguments: [
        ("app", ResolvedUser(uid: 1000, gid: 1000, supplementaryGroups: [50], home: "/home/app")),
        ("1000", ResolvedUser(uid: 1000, gid: 1000, supplementaryGroups: [50], home: "/home/app")),
        ("4242", ResolvedUser(uid: 4242, gid: 0, supplementaryGroups: [], home: nil)),
        ("app:nogroup", ResolvedUser(uid: 1000, gid: 65534, supplementaryGroups: [], home: "/home/app")),
        ("7:8", ResolvedUser(uid: 7, gid: 8, supplementaryGroups: [], home: nil)),
    ])
    func usersResolveLikeDocker(user: String, expected: ResolvedUser) throws {
        #expect(try UserResolver.resolve(user, passwd: Self.passwd, group: Self.group) == expected)
    }

    @Test func unknownNamesNameTheFile() {
        #expect(throws: ContainerConfigurationError(field: "user", message: "no group wheel in the image's /etc/group"))
        {
            try UserResolver.resolve("app:wheel", passwd: Self.passwd, group: Self.group)
        }
    }

    @Test func capabilitiesFollowDockerDefaultsAddAndDrop() throws {
        let defaults = try Capabilities.resolve(add: [], drop: [], privileged: false, lastCapability: 40)
        #expect(Set(Capabilities.names(in: defaults)) == Set(Capabilities.dockerDefault))
        let changed = try Capabilities.resolve(
            add: ["CAP_NET_ADMIN"], drop: ["mknod", "KILL"], privileged: false,
            lastCapability: 40)
        #expect(Capabilities.names(in: changed).contains("NET_ADMIN"))
        #expect(!Capabilities.names(in: changed).contains("MKNOD"))
        #expect(try Capabilities.resolve(add: [], drop: ["ALL"], privileged: false, lastCapability: 40) == 0)
        #expect(
            try Capabilities.resolve(add: ["ALL"], drop: [], privileged: false, lastCapability: 40) == (1 << 41) - 1)
        #expect(
            throws: ContainerConfigurationError(
                field: "linuxParameters.capabilities.add",
                message: "unknown capability FLY")
        ) {
            try Capabilities.resolve(add: ["FLY"], drop: [], privileged: false, lastCapability: 40)
        }
    }

    @Test func seccompProfileCompilesWithLibseccomp() throws {
        let defaults = try Capabilities.resolve(add: [], drop: [], privileged: false, lastCapability: 40)
        let program = try SeccompProgram(rules: SeccompProfile.rules(capabilities: defaults), container: "test")
        #expect(program.length > 50)
    }

    @Test func seccompProfileIsDockersAllowlistGatedByCapabilities() throws {
        func allowed(_ capabilities: UInt64) -> Set<String> {
            Set(
                SeccompProfile.rules(capabilities: capabilities).filter { $0.action == .allow && $0.condition == nil }
                    .flatMap(\.names))
        }
        let defaults = try Capabilities.resolve(add: [], drop: [], privileged: false, lastCapability: 40)
        let admin = try Capabilities.resolve(add: ["SYS_ADMIN"], drop: [], privileged: false, lastCapability: 40)
        // Given Docker's default capabilities: everyday calls allowed, chroot too (SYS_CHROOT is a default)
        #expect(allowed(defaults).isSuperset(of: ["read", "openat", "execve", "chroot", "ptrace", "socketpair"]))
        // Then io_uring is in no rule, for any capability set, and the admin calls need CAP_SYS_ADMIN
        for capabilities in [defaults, admin, UInt64((1 << 41) - 1)] {
            #expect(allowed(capabilities).isDisjoint(with: SeccompProfile.alwaysDenied))
        }
        #expect(allowed(defaults).isDisjoint(with: ["mount", "unshare", "setns", "bpf", "keyctl", "clone", "clone3"]))
        #expect(allowed(admin).isSuperset(of: ["mount", "unshare", "setns", "bpf", "clone", "clone3"]))
        // And without it clone is allowed only without namespace flags, clone3 fails with ENOSYS
        let rules = SeccompProfile.rules(capabilities: defaults)
        #expect(
            rules.contains(SeccompProfile.Rule(["clone"], when: .maskedEqual(argument: 0, mask: 0x7E02_0000, value: 0)))
        )
        #expect(rules.contains(SeccompProfile.Rule(["clone3"], .fail(errno: ENOSYS))))
        #expect(!SeccompProfile.rules(capabilities: admin).contains { $0.names == ["clone3"] && $0.action != .allow })
        // And socket is allowed for every family but AF_VSOCK
        #expect(rules.contains(SeccompProfile.Rule(["socket"], when: .notEqual(argument: 0, value: 40))))
        // And dropping SYS_CHROOT takes chroot away
        let noChroot = try Capabilities.resolve(add: [], drop: ["SYS_CHROOT"], privileged: false, lastCapability: 40)
        #expect(!allowed(noChroot).contains("chroot"))
    }

    @Test func deviceRulesReadAsCgroupV1Lines() {
        #expect(
            DeviceRule.defaults.map(\.v1Line) == [
                "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm", "c 1:9 rwm", "c 5:0 rwm", "c 5:1 rwm", "c 5:2 rwm",
                "c 136:* rwm",
            ])
        #expect(DeviceRule(.block, major: 7, minor: nil, access: [.read]).v1Line == "b 7:* r")
    }

    @Test func ecsDevicePermissionsBecomeTheDevicesAccess() {
        let readOnly = RuntimeContainerDriver.device(Device(hostPath: "/dev/fuse", permissions: ["read"]))
        #expect(readOnly == ContainerDevice(hostPath: "/dev/fuse", containerPath: "/dev/fuse", permissions: [.read]))
        let unspecified = RuntimeContainerDriver.device(Device(hostPath: "/dev/fuse", containerPath: "/dev/f2"))
        #expect(unspecified.permissions == .all && unspecified.containerPath == "/dev/f2")
    }
}
