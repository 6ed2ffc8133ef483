public import Foundation

/// The package's own source files, read as text: for tests that keep a rule about where code may say something
/// (status words only in ECSVocabulary, SQL only in the control plane's Store/).
public enum SourceTree {
    /// One line of code (comment lines are left out), named by its path below the package root.
    public struct Line: Sendable {
        public var path: String
        public var number: Int
        public var text: Substring

        /// `path:number`, as a failure lists it.
        public var location: String { "\(path):\(number)" }
    }

    /// The package root: two folders above `Tests/<Target>/`, found from the calling test's `#filePath`.
    public static func root(from filePath: String = #filePath) -> URL {
        var url = URL(filePath: filePath).deletingLastPathComponent()
        while url.path != "/", !FileManager.default.fileExists(atPath: url.appending(path: "Package.swift").path) {
            url.deleteLastPathComponent()
        }
        return url
    }

    /// Every line of code of the Swift files below `folder` (e.g. `Sources/ControlPlane`), except those below the
    /// subfolders `skipping` (relative to `folder`).
    public static func codeLines(
        under folder: String, skipping: [String] = [], filePath: String = #filePath
    ) throws -> [Line] {
        let base = root(from: filePath).appending(path: folder)
        var lines: [Line] = []
        let files = FileManager.default.enumerator(at: base, includingPropertiesForKeys: nil)
        while let file = files?.nextObject() as? URL {
            guard file.pathExtension == "swift" else { continue }
            let relative = String(file.path.dropFirst(base.path.count + 1))
            if skipping.contains(where: { relative.hasPrefix($0 + "/") }) { continue }
            let text = try String(contentsOf: file, encoding: .utf8)
            for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
            where !line.drop(while: \.isWhitespace).hasPrefix("//") {
                lines.append(Line(path: "\(folder)/\(relative)", number: index + 1, text: line))
            }
        }
        return lines
    }
}
