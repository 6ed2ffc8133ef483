import Foundation
import Logging
import NodeAgent
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Shell helpers for the network tests: run iproute2/nft/busybox, serve HTTP in a namespace, fetch over HTTP.
/// Every address they touch is loopback or inside a namespace the test made.
enum NetworkShell {
    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs a tool with a bare environment (no proxy variable can redirect curl).
    @discardableResult
    static func run(_ arguments: [String]) -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.environment = ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin"]
        let stdout = Pipe(), stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch { return Output(status: -1, stdout: "", stderr: "\(error)") }
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        let errors = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Output(
            status: process.terminationStatus, stdout: String(decoding: output, as: UTF8.self),
            stderr: String(decoding: errors, as: UTF8.self))
    }

    /// `curl` of `url`, from the host or from inside the namespace at `namespacePath`. Returns the body or nil.
    /// (Debian's busybox 1.35 `wget -T` crashes, so curl it is; the environment has no proxy variables.)
    static func get(_ url: String, from namespacePath: String? = nil) -> String? {
        let prefix = namespacePath.map { ["nsenter", "--net=\($0)"] } ?? []
        let result = run(prefix + ["curl", "--silent", "--fail", "--max-time", "5", "--noproxy", "*", url])
        return result.status == 0 ? result.stdout : nil
    }

    /// Interfaces enslaved to `bridge`.
    static func bridgePorts(_ bridge: String) -> [String] {
        run(["ip", "-o", "link", "show", "master", bridge]).stdout.split(separator: "\n").map(String.init)
    }

    static func ruleset() -> String { run(["nft", "list", "ruleset"]).stdout }
}

/// `busybox httpd` serving one file from a directory, inside a network namespace.
final class NamespaceHTTPServer {
    let process = Process()
    let directory: String
    let body: String

    /// Starts the server and waits (bounded: 100 tries 50 ms apart) until it answers inside its namespace.
    init(namespacePath: String, port: Int = 80, body: String) throws {
        directory = NSTemporaryDirectory() + "flotilla-net-www-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try body.write(toFile: directory + "/index.html", atomically: true, encoding: .utf8)
        self.body = body
        process.executableURL = URL(fileURLWithPath: "/usr/bin/nsenter")
        process.arguments = ["--net=\(namespacePath)", "busybox", "httpd", "-f", "-p", "\(port)", "-h", directory]
        process.environment = ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin"]
        process.standardInput = FileHandle.nullDevice
        try process.run()
        for _ in 0..<100 {
            if NetworkShell.get("http://127.0.0.1:\(port)/", from: namespacePath) == body { return }
            usleep(50_000)
        }
        stop()
        throw NetworkTestFailure("busybox httpd did not come up in \(namespacePath)")
    }

    /// SIGKILL, because a child of the test process inherits its blocked SIGTERM.
    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// Another "host": a namespace of its own joined to the host by a routed veth /30, like a machine on the LAN.
final class OtherHost {
    let namespacePath: String
    let hostInterface: String
    let hostAddress: String

    init(name: String, directory: String, hostAddress: String, peerAddress: String) throws {
        namespacePath = "\(directory)/\(name)"
        hostInterface = name
        self.hostAddress = hostAddress
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: namespacePath, contents: nil)
        let steps: [[String]] = [
            ["unshare", "--net=\(namespacePath)", "true"],
            ["ip", "link", "add", "name", name, "type", "veth", "peer", "name", "eth0", "netns", namespacePath],
            ["ip", "address", "add", "\(hostAddress)/30", "dev", name],
            ["ip", "link", "set", "dev", name, "up"],
            ["nsenter", "--net=\(namespacePath)", "ip", "address", "add", "\(peerAddress)/30", "dev", "eth0"],
            ["nsenter", "--net=\(namespacePath)", "ip", "link", "set", "dev", "eth0", "up"],
            ["nsenter", "--net=\(namespacePath)", "ip", "link", "set", "dev", "lo", "up"],
            ["nsenter", "--net=\(namespacePath)", "ip", "route", "add", "default", "via", hostAddress],
        ]
        for step in steps {
            let result = NetworkShell.run(step)
            guard result.status == 0 else {
                remove()
                throw NetworkTestFailure("\(step.joined(separator: " ")): \(result.stderr)")
            }
        }
    }

    func remove() {
        NetworkShell.run(["ip", "link", "delete", "dev", hostInterface])
        NetworkShell.run(["umount", namespacePath])
        try? FileManager.default.removeItem(atPath: namespacePath)
    }
}

struct NetworkTestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A listening socket on 0.0.0.0:`port`, held by the test to make the port busy on the host.
final class HostPortHolder {
    let fd: Int32

    /// The socket is stored only once it listens: a throwing init of a fully initialized class runs `deinit`, which
    /// would close it a second time, and in a test process that closes whatever descriptor another test opened since.
    init(port: Int) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr = in_addr(s_addr: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(fd, 1) == 0 else {
            close(fd)
            throw NetworkTestFailure("cannot hold host port \(port)")
        }
        self.fd = fd
    }

    deinit { close(fd) }
}

extension NetworkConfiguration {
    /// A configuration no running agent and no other suite uses: own bridge, subnet, table, namespaces and ports.
    static func test(_ index: Int) -> NetworkConfiguration {
        var configuration = NetworkConfiguration()
        configuration.bridgeName = "flt\(index)br"
        configuration.subnet = "10.251.\(index).0/24"
        configuration.tablePrefix = "flotilla_test\(index)"
        configuration.namespaceDirectory = "/run/flotilla-test\(index)/netns"
        // Below the kernel's ephemeral range (32768-60999): no socket of another test can be given these ports.
        configuration.ephemeralPorts = (21000 + index * 100)...(21000 + index * 100 + 99)
        return configuration
    }
}

/// A fresh state directory under the temporary directory.
func makeNetworkStateDirectory() -> String {
    NSTemporaryDirectory() + "flotilla-net-state-\(UUID().uuidString)"
}

let networkTestLogger = Logger(label: "flotilla.test.network")
