import FlotillaTestKit
import Foundation
import Logging
@testable import NodeAgent
#if canImport(Glibc)
import Glibc
#endif

/// A busybox root filesystem in two layers (busybox, then /etc) and a runtime on a fresh data directory.
/// Built at test time from Debian's busybox-static; removed with `cleanUp()`.
struct RuntimeFixture {
    let root: String
    let layers: [String]
    let runtime: ContainerRuntime

    init() throws {
        let root = FileManager.default.temporaryDirectory
            .appendingPathComponent("flotilla-runtime-\(UUID().uuidString.prefix(8))").path
        let busyboxLayer = root + "/layers/busybox"
        let etcLayer = root + "/layers/etc"
        let fm = FileManager.default
        try fm.createDirectory(atPath: busyboxLayer + "/bin", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: etcLayer + "/etc", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: busyboxLayer + "/tmp", withIntermediateDirectories: true)
        chmod(busyboxLayer + "/tmp", 0o1777)
        try fm.copyItem(atPath: "/bin/busybox", toPath: busyboxLayer + "/bin/busybox")
        for applet in try Self.busyboxApplets() where applet != "busybox" {
            try? fm.createSymbolicLink(atPath: busyboxLayer + "/bin/" + applet, withDestinationPath: "busybox")
        }
        try
            "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
            .write(toFile: etcLayer + "/etc/passwd", atomically: true, encoding: .utf8)
        try "root:x:0:\nstaff:x:50:app\napp:x:1000:\nnogroup:x:65534:\n"
            .write(toFile: etcLayer + "/etc/group", atomically: true, encoding: .utf8)
        self.root = root
        self.layers = [busyboxLayer, etcLayer]
        self.runtime = try ContainerRuntime(dataDirectory: root + "/data", logger: Logger(label: "test.runtime"))
    }

    static func busyboxApplets() throws -> [String] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/busybox")
        process.arguments = ["--list"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
    }

    func spec(
        _ arguments: [String], name: String = "c-\(UUID().uuidString.prefix(8).lowercased())",
        configure: (inout ContainerSpec) -> Void = { _ in }
    ) -> ContainerSpec {
        var spec = ContainerSpec(name: name, layerDirectories: layers, arguments: arguments)
        configure(&spec)
        return spec
    }

    struct Finished {
        var exit: ContainerExit
        var stdout: String
        var stderr: String
    }

    /// create, start, wait, read the logs, delete.
    func run(_ spec: ContainerSpec) async throws -> Finished {
        let info = try await runtime.create(spec)
        try await runtime.start(info.id)
        let exit = try await runtime.wait(info.id)
        let stdout = (try? String(contentsOfFile: info.stdoutLogPath, encoding: .utf8)) ?? ""
        let stderr = (try? String(contentsOfFile: info.stderrLogPath, encoding: .utf8)) ?? ""
        try await runtime.delete(info.id)
        return Finished(exit: exit, stdout: stdout, stderr: stderr)
    }

    func cleanUp() async {
        for info in await runtime.list() { try? await runtime.delete(info.id, force: true) }
        try? FileManager.default.removeItem(atPath: root)
    }

    /// Polls a log file until it contains `text` (bounded: 10 s).
    static func waitForLog(_ path: String, containing text: String) async throws -> Bool {
        await eventually(within: .seconds(10), every: .milliseconds(50)) {
            (try? String(contentsOfFile: path, encoding: .utf8))?.contains(text) == true
        }
    }
}

extension RuntimeFixture {
    /// Runs `body` with a fresh fixture and always cleans it up (containers, cgroups, files).
    static func with(_ body: (RuntimeFixture) async throws -> Void) async throws {
        let fixture = try RuntimeFixture()
        do {
            try await body(fixture)
        } catch {
            await fixture.cleanUp()
            throw error
        }
        await fixture.cleanUp()
    }
}
