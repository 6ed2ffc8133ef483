#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
@testable import NodeAgent
import OCIImage

/// A directory under /tmp, removed when the value goes away.
final class ImageTestDirectory {
    let path: String

    init() throws {
        var template = Array("/tmp/flotilla-image-test-XXXXXX".utf8CString)
        guard let created = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw ImageError.system(operation: "mkdtemp", path: "/tmp", errno: errno)
        }
        path = String(cString: created)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let file = path + "/" + name
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        return file
    }
}

enum ImageFixtures {
    static let logger = Logger(label: "flotilla.tests.images")

    /// A small layer: a directory, a file, a relative symlink and a hardlink.
    static func applicationLayer(greeting: String = "hello") -> [UInt8] {
        var tar = TarWriter()
        tar.addDirectory("app")
        tar.addFile("app/greeting.txt", contents: Array(greeting.utf8))
        tar.addSymlink("app/current", target: "greeting.txt")
        tar.addHardlink("app/copy.txt", target: "app/greeting.txt")
        tar.addFile("app/run.sh", contents: Array("#!/bin/sh\necho hi\n".utf8), mode: 0o755, uid: 65534, gid: 65534)
        return tar.finish()
    }

    static func layout(
        reference: String? = "test/app:2", layers: [[UInt8]] = [applicationLayer()],
        config: ImageConfig = ImageConfig(
            env: ["PATH=/bin", "MODE=test"], cmd: ["/app/run.sh"],
            workingDir: "/app", exposedPorts: ["8080/tcp"])
    ) -> OCILayoutBuilder {
        var builder = OCILayoutBuilder(config: config, reference: reference)
        for layer in layers { builder.addLayer(tar: layer) }
        return builder
    }

    /// `command` (gzip -n -c, zstd -c) over `bytes`.
    static func compress(_ bytes: [UInt8], with command: [String]) throws -> [UInt8] {
        let input = try ImageTestDirectory()
        let file = try input.write("input", bytes)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = command + [file]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Array(data)
    }

    /// Every path under `root` with its type, mode, size and (for symlinks) target: to prove a store unchanged.
    static func listing(of root: String) -> [String] {
        var result: [String] = []
        func walk(_ relative: String) {
            let path = relative.isEmpty ? root : root + "/" + relative
            var info = stat()
            guard lstat(path, &info) == 0 else { return }
            var line =
                "\(relative.isEmpty ? "." : relative) mode=\(String(info.st_mode, radix: 8)) size=\(info.st_size)"
            if info.st_mode & S_IFMT == S_IFDIR { line += " (dir)" }
            if info.st_mode & S_IFMT == S_IFLNK,
                let target = try? FileManager.default.destinationOfSymbolicLink(atPath: path)
            {
                line += " -> \(target)"
            }
            result.append(line)
            if info.st_mode & S_IFMT == S_IFDIR {
                for name in ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted() {
                    walk(relative.isEmpty ? name : relative + "/" + name)
                }
            }
        }
        walk("")
        return result
    }

    static func fileText(_ path: String) -> String? {
        FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) }
    }

    static func fileType(_ path: String) -> mode_t? {
        var info = stat()
        return lstat(path, &info) == 0 ? info.st_mode & S_IFMT : nil
    }

    /// Runs a command; returns its exit status and combined output.
    @discardableResult
    static func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
