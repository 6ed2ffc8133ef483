import Testing
@testable import NodeAgent

@Suite("Runtime policy: users, capabilities, seccomp profile", .timeLimit(.minutes(1)))
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
        #expect(throws: ContainerConfigurationError(field: "user", message: "no group wheel in the image's /etc/group")) {
            try UserResolver.resolve("app:wheel", passwd: Self.passwd, group: Self.group)
        }
    }

    @Test func capabilitiesFollowDockerDefaultsAddAndDrop() throws {
        let defaults = try Capabilities.resolve(add: [], drop: [], privileged: false, lastCapability: 40)
        #expect(Set(Capabilities.names(in: defaults)) == Set(Capabilities.dockerDefault))
        let changed = try Capabilities.resolve(add: ["CAP_NET_ADMIN"], drop: ["mknod", "KILL"], privileged: false,
                                               lastCapability: 40)
        #expect(Capabilities.names(in: changed).contains("NET_ADMIN"))
        #expect(!Capabilities.names(in: changed).contains("MKNOD"))
        #expect(try Capabilities.resolve(add: [], drop: ["ALL"], privileged: false, lastCapability: 40) == 0)
        #expect(try Capabilities.resolve(add: ["ALL"], drop: [], privileged: false, lastCapability: 40) == (1 << 41) - 1)
        #expect(throws: ContainerConfigurationError(field: "linuxParameters.capabilities.add",
                                                    message: "unknown capability FLY")) {
            try Capabilities.resolve(add: ["FLY"], drop: [], privileged: false, lastCapability: 40)
        }
    }

    @Test func seccompProfileCompilesWithLibseccomp() throws {
        let program = try SeccompProgram(denied: SeccompProfile.deniedSyscalls, container: "test")
        #expect(program.length > 50)
    }
}
