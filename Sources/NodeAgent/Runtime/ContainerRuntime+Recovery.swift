internal import CFlotillaRuntime
import Foundation
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// Recovery: re-adopting the containers a previous runtime left running, removing state it cannot read.
extension ContainerRuntime {
    /// A state.json this version cannot decode (written by another version, or damaged): the container cannot be
    /// supervised, stopped or listed faithfully, so what can be found by its id alone is removed: its processes and
    /// cgroup (named by the id), its network attachment (keyed by the id unless it shared an awsvpc task network)
    /// and its directory. Each step is logged; a step that fails leaves the rest to be done.
    static func discardUnreadable(
        id: String, directory: String, error: any Error, cgroup: Cgroup?,
        networks: NetworkManager?, logger: Logger
    ) {
        logger.warning(
            "container state unreadable, removing the container",
            metadata: ["container.id": "\(id)", "error": "\(error)"])
        if let cgroup {
            do {
                try cgroup.killAll()
                try cgroup.destroy()
            } catch {
                logger.warning("cgroup removal failed", metadata: ["container.id": "\(id)", "error": "\(error)"])
            }
        }
        do {
            try networks?.detach(networkID: id)
        } catch {
            logger.warning("network detach failed", metadata: ["container.id": "\(id)", "error": "\(error)"])
        }
        removeTree(directory)
    }

    /// Re-adopts the containers a previous runtime left running (same PID and start time); marks the ones that
    /// ended meanwhile as stopped. Runs once, before the first operation; calling it again does nothing.
    @discardableResult
    public func recover() -> [ContainerInfo] {
        guard !recovered else { return [] }
        recovered = true
        var adopted: [ContainerInfo] = []
        for id in containers.keys.sorted() where containers[id]?.status == .running && pidfds[id] == nil {
            if adopt(id) { adopted.append(containers[id]!) }
        }
        return adopted
    }

    /// Re-attaches to a container recorded as running: same PID and start time means the same process.
    func adopt(_ id: String) -> Bool {
        guard let info = containers[id], let pid = info.pid else { return false }
        if Self.startTime(of: pid) == info.pidStartTime, info.pidStartTime != nil {
            let pidfd = flotilla_pidfd_open(pid)
            if pidfd >= 0 {
                pidfds[id] = pidfd
                logger.info("container re-adopted", metadata: ["container.id": "\(id)", "container.pid": "\(pid)"])
                return true
            }
        }
        _ = try? finish(id)
        return false
    }
}
