/// The path rules of a layer's entries, checked before anything is created: what `LayerUnpacker` (NodeAgent) relies
/// on to never write outside the layer directory.
public enum LayerPath {
    /// The entry path as components under the layer root (absolute paths taken as relative, as Docker does, `.`
    /// and empty components dropped); throws for any `..`.
    /// - Parameters:
    ///   - archive: names the archive in the error; `entry`: the entry whose path (or link target) this is.
    public static func components(_ raw: String, archive: String, entry: String) throws(ImageError) -> [String] {
        // The kernel reads a path up to its first NUL: "..\0x" would pass the checks below as a name and create "..".
        guard !raw.utf8.contains(0) else {
            throw ImageError.unsafeEntry(archive: archive, entry: entry, reason: "path contains a NUL byte")
        }
        var components: [String] = []
        for part in raw.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == ".." {
                throw ImageError.unsafeEntry(archive: archive, entry: entry, reason: "path \"\(raw)\" contains \"..\"")
            }
            components.append(String(part))
        }
        return components
    }

    /// Checks a symlink's target: not empty, no NUL (the kernel would read less than was checked), and a relative
    /// target must not climb above the layer root from `linkDirectory` (absolute targets resolve inside the container).
    public static func checkSymlinkTarget(
        _ target: String, linkDirectory: [String], archive: String, entry: String
    )
        throws(ImageError)
    {
        guard !target.isEmpty else {
            throw ImageError.unsafeEntry(archive: archive, entry: entry, reason: "symlink with an empty target")
        }
        guard !target.utf8.contains(0) else {
            throw ImageError.unsafeEntry(archive: archive, entry: entry, reason: "symlink target contains a NUL byte")
        }
        if escapes(linkDirectory: linkDirectory, target: target) {
            throw ImageError.unsafeEntry(
                archive: archive, entry: entry, reason: "symlink target \"\(target)\" escapes the layer")
        }
    }

    /// True when a relative `target`, resolved from the link's directory, climbs above the layer root.
    static func escapes(linkDirectory: [String], target: String) -> Bool {
        if target.hasPrefix("/") { return false }
        var depth = linkDirectory.count
        for part in target.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == ".." {
                if depth == 0 { return true }
                depth -= 1
            } else {
                depth += 1
            }
        }
        return false
    }

    /// The name an OCI whiteout file `.wh.NAME` hides: not empty, not `.` or `..`, not itself a whiteout.
    public static func whiteoutTarget(_ name: String, archive: String, entry: String) throws(ImageError) -> String {
        let hidden = String(name.dropFirst(4))
        guard !hidden.isEmpty, hidden != ".", hidden != "..", !hidden.hasPrefix(".wh.") else {
            throw ImageError.unsafeEntry(archive: archive, entry: entry, reason: "malformed whiteout name")
        }
        return hidden
    }
}
