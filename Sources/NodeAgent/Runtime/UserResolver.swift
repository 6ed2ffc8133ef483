/// The numeric identity a container's process runs as.
struct ResolvedUser: Hashable, Sendable {
    var uid: UInt32
    var gid: UInt32
    var supplementaryGroups: [UInt32]
    var home: String?
}

/// Resolves `user`, `uid`, `user:group` or `uid:gid` against the image's /etc/passwd and /etc/group, as Docker does:
/// names must exist; a numeric uid may be absent from /etc/passwd (then gid 0 unless given).
enum UserResolver {
    static func resolve(
        _ user: String?, passwd: String?, group: String?
    ) throws(ContainerConfigurationError)
        -> ResolvedUser
    {
        let field = "user"
        let spec = (user?.isEmpty ?? true) ? "0" : user!
        let parts = spec.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let users = parse(passwd)
        let groups = parse(group)

        var resolved: ResolvedUser
        if let uid = UInt32(parts[0]) {
            let entry = users.first { $0.count > 3 && UInt32($0[2]) == uid }
            resolved = ResolvedUser(
                uid: uid, gid: entry.flatMap { UInt32($0[3]) } ?? 0, supplementaryGroups: [],
                home: entry.flatMap { $0.count > 5 ? $0[5] : nil })
        } else {
            guard let entry = users.first(where: { $0.count > 3 && $0[0] == parts[0] }),
                let uid = UInt32(entry[2]), let gid = UInt32(entry[3])
            else {
                throw ContainerConfigurationError(
                    field: field, message: "no user \(parts[0]) in the image's /etc/passwd")
            }
            resolved = ResolvedUser(uid: uid, gid: gid, supplementaryGroups: [], home: entry.count > 5 ? entry[5] : nil)
        }
        if parts.count == 2 {
            if let gid = UInt32(parts[1]) {
                resolved.gid = gid
            } else {
                guard let entry = groups.first(where: { $0.count > 2 && $0[0] == parts[1] }),
                    let gid = UInt32(entry[2])
                else {
                    throw ContainerConfigurationError(
                        field: field, message: "no group \(parts[1]) in the image's /etc/group")
                }
                resolved.gid = gid
            }
        } else {
            // Supplementary groups: every group listing the user by name.
            let name = users.first { $0.count > 2 && UInt32($0[2]) == resolved.uid }?[0]
            if let name {
                resolved.supplementaryGroups = groups.compactMap { entry in
                    guard entry.count > 3, entry[3].split(separator: ",").contains(Substring(name)) else { return nil }
                    return UInt32(entry[2])
                }.filter { $0 != resolved.gid }
            }
        }
        return resolved
    }

    private static func parse(_ file: String?) -> [[String]] {
        guard let file else { return [] }
        return file.split(separator: "\n").filter { !$0.hasPrefix("#") }.map {
            $0.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        }
    }
}
