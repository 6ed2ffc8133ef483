#if canImport(Glibc)
import Glibc
#endif
import Foundation
public import OCIImage

/// The test and benchmark image: Debian's busybox-static as a one-layer OCI image, built without a network.
public enum BusyboxImage {
    /// Where Debian's busybox-static installs busybox.
    public static let busyboxPath = "/bin/busybox"

    /// Writes a reproducible OCI image layout tarball of Debian's busybox-static tagged `reference`.
    ///
    /// The layer holds /bin/busybox, a symlink per applet (`busybox --list`), /etc/passwd and /etc/group with root
    /// (0) and nobody (65534), empty /etc/hosts, /etc/hostname and /etc/resolv.conf for the runtime to mount over,
    /// and /tmp (1777). Entries are sorted with fixed times and owners, so the same busybox gives the same bytes.
    /// Config: `Cmd ["sh"]`, `Env PATH`.
    public static func writeArchive(to path: String, reference: String = "flotilla/busybox:1") throws(ImageError) {
        let binary = try readBusybox()
        var layer = TarWriter()
        layer.addDirectory("bin")
        layer.addFile("bin/busybox", contents: binary, mode: 0o755)
        for applet in try applets() { layer.addSymlink("bin/" + applet, target: "busybox") }
        for directory in ["dev", "etc"] { layer.addDirectory(directory) }
        layer.addFile("etc/group", contents: Array("root:x:0:\nnobody:x:65534:\n".utf8))
        layer.addFile("etc/hostname", contents: [])
        layer.addFile("etc/hosts", contents: [])
        layer.addFile(
            "etc/passwd",
            contents: Array("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n".utf8)
        )
        layer.addFile("etc/resolv.conf", contents: [])
        layer.addDirectory("proc", mode: 0o555)
        layer.addDirectory("root", mode: 0o700)
        layer.addDirectory("sys", mode: 0o555)
        layer.addDirectory("tmp", mode: 0o1777)
        layer.addDirectory("var")
        layer.addDirectory("var/www")

        var builder = OCILayoutBuilder(
            config: ImageConfig(env: ["PATH=" + ImageConfig.defaultPath], cmd: ["sh"]), reference: reference)
        builder.addLayer(tar: layer.finish())
        let archive = builder.tarball()
        let temporary = path + ".tmp-\(getpid())"
        do {
            try Data(archive).write(to: URL(fileURLWithPath: temporary))
        } catch {
            throw ImageError.system(operation: "write", path: temporary, errno: EIO)
        }
        guard rename(temporary, path) == 0 else {
            unlink(temporary)
            throw ImageError.system(operation: "rename", path: path, errno: errno)
        }
    }

    private static func readBusybox() throws(ImageError) -> Data {
        guard let binary = FileManager.default.contents(atPath: busyboxPath) else {
            throw ImageError.unsupported(
                path: busyboxPath, reason: "busybox is missing: install Debian's busybox-static")
        }
        // A dynamically linked busybox (Debian's `busybox`, not `busybox-static`) names its ELF interpreter early on.
        if binary.prefix(4096).range(of: Data("ld-linux".utf8)) != nil
            || binary.prefix(4096).range(of: Data("ld-musl".utf8)) != nil
        {
            throw ImageError.unsupported(
                path: busyboxPath, reason: "busybox is dynamically linked: install Debian's busybox-static")
        }
        return binary
    }

    /// `busybox --list`, sorted, without `busybox` itself.
    private static func applets() throws(ImageError) -> [String] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: busyboxPath)
        process.arguments = ["--list"]
        let output = Pipe()
        process.standardOutput = output
        do { try process.run() } catch {
            throw ImageError.commandFailed(command: "\(busyboxPath) --list", status: -1, output: "\(error)")
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ImageError.commandFailed(
                command: "\(busyboxPath) --list", status: process.terminationStatus, output: "")
        }
        return Set(String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline).map(String.init))
            .filter { !$0.isEmpty && !$0.contains("/") && $0 != "busybox" && $0 != "." && $0 != ".." }
            .sorted()
    }
}
