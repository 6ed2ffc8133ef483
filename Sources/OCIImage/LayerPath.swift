/// The path rules of a layer's entries, checked before anything is created: what `LayerUnpacker` (NodeAgent) relies
/// on to never write outside the layer directory.
public enum LayerPath {
    /// The entry path as components under the layer root (absolute paths taken as relative, as Docker does, `.`
    /// and empty components dropped); throws for any `..`.
    /// - Parameters:
    ///   - archive: names the archive in the error; `entry`: the entry whose path (or link target) this is.
    public static func components(_ raw: String, archive: String, entry: String) throws(ImageError) -> [String] {
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

    /// True when a relative `target`, resolved from the link's directory, climbs above the layer root.
    public static func escapes(linkDirectory: [String], target: String) -> Bool {
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
