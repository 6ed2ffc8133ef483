import Foundation
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// Networking: attaching and detaching a container's network, writing its /etc files.
extension ContainerRuntime {
    /// Attaches the container's network through the NetworkManager (none, bridge, awsvpc); host needs nothing.
    func attachNetwork(_ spec: ContainerSpec, id: String) throws -> NetworkAttachment? {
        if spec.networkMode == .host {
            if !spec.portMappings.isEmpty {
                throw ContainerConfigurationError(field: "portMappings", message: "need bridge or awsvpc networking")
            }
            return nil
        }
        guard let networks else {
            throw ContainerConfigurationError(
                field: "networkMode",
                message: "\(spec.networkMode.rawValue) needs a NetworkManager")
        }
        let networkID = spec.networkID ?? id
        // awsvpc: containers of one task share the attachment made for the first.
        if let shared = containers.values.first(where: { $0.network?.networkID == networkID })?.network {
            return shared
        }
        return try networks.attach(networkID: networkID, mode: spec.networkMode, ports: spec.portMappings)
    }

    /// Detaches the network once no other container uses it; a failure is logged (delete goes on).
    func detachNetwork(_ spec: ContainerSpec, id: String) {
        let networkID = spec.networkID ?? id
        guard let networks,
            !containers.values.contains(where: { $0.id != id && $0.network?.networkID == networkID })
        else { return }
        do {
            try networks.detach(networkID: networkID)
        } catch {
            logger.warning("network detach failed", metadata: ["container.id": "\(id)", "error": "\(error)"])
        }
    }

    func writeEtcFiles(_ spec: ContainerSpec, address: String?, directory: String, id: String) throws(RuntimeError) {
        var hosts = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
        hosts += spec.extraHosts.map { $0 + "\n" }.joined()
        if !spec.extraHosts.contains(where: { $0.split(separator: " ").dropFirst().contains(Substring(spec.hostname)) })
        {
            hosts += "\(address ?? "127.0.1.1")\t\(spec.hostname)\n"
        }
        let resolv = FileManager.default.contents(atPath: "/etc/resolv.conf") ?? Data()
        let files: [(String, Data)] = [
            ("hosts", Data(hosts.utf8)), ("hostname", Data((spec.hostname + "\n").utf8)), ("resolv.conf", resolv),
        ]
        // Plain writes, no temporary file, no fsync: nothing reads them before start, which a crash in between
        // never reaches.
        for (name, data) in files {
            try Self.write(data, to: "\(directory)/\(name)", flags: O_CREAT | O_EXCL, stage: .rootfs, id: id)
        }
    }
}
