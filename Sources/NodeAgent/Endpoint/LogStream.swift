import Hummingbird
import NIOCore
import ServiceLifecycle

/// One logs request being answered: the container's stdout, then its stderr (each from `tail` lines before its end,
/// or from its first rotated file), then, when following, new output of either as it is written.
struct LogStream: Sendable {
    var task: String
    var name: String
    var handle: AgentContainerHandle
    var tail: Int?
    var follow: Bool
    var directory: any AgentContainerDirectory
    var channel: any Channel
    /// Set while following: tells when the client went away.
    var watcher: ClientDepartureWatcher?

    func write(to writer: inout any ResponseBodyWriter) async throws {
        var buffer = [UInt8](repeating: 0, count: ContainerLogFiles.chunkSize)
        var followed: [(path: String, file: OpenLogFile?)] = []
        for stream in ["stdout.log", "stderr.log"] {
            let files = ContainerLogFiles(directory: handle.logDirectory, name: stream)
            let paths = files.paths()
            let start = tail.map { ContainerLogFiles.tailStart(of: paths, lines: $0) } ?? (file: 0, offset: 0)
            var current: OpenLogFile?
            for index in paths.indices where index >= start.file {
                guard let file = OpenLogFile(path: paths[index], offset: index == start.file ? start.offset : 0) else {
                    continue
                }
                try await copy(file, to: &writer, buffer: &buffer)
                current = file
            }
            // Following needs the current file even when it did not exist yet.
            if follow {
                if current?.path != files.currentPath { current = OpenLogFile(path: files.currentPath) }
                followed.append((files.currentPath, current))
            }
        }
        if follow {
            defer { if let watcher { channel.pipeline.removeHandler(watcher, promise: nil) } }
            try await followNewOutput(&followed, to: &writer, buffer: &buffer)
        }
        try await writer.finish(nil)
    }

    /// Writes what is new in `files` until the container stops (then the rest), the client leaves, or shutdown.
    private func followNewOutput(
        _ files: inout [(path: String, file: OpenLogFile?)],
        to writer: inout any ResponseBodyWriter, buffer: inout [UInt8]
    ) async throws {
        var stopped = !handle.running
        while true {
            var wrote = false
            for index in files.indices {
                guard let file = files[index].file else {
                    // Not written yet: it appears with the container's first output.
                    files[index].file = OpenLogFile(path: files[index].path)
                    wrote = files[index].file != nil || wrote
                    continue
                }
                wrote = try await copy(file, to: &writer, buffer: &buffer) || wrote
                // A rotation: read the renamed file to its end, then continue with the new one.
                if file.isRotated, let next = OpenLogFile(path: file.path) {
                    try await copy(file, to: &writer, buffer: &buffer)
                    files[index].file = next
                    wrote = true
                }
            }
            if wrote { continue }
            if stopped || Task.isShuttingDownGracefully || Task.isCancelled || !channel.isActive
                || watcher?.hasDeparted == true
            {
                return
            }
            try? await Task.sleep(for: AgentEndpoint.followInterval)
            // One more pass after the container stopped picks up what it wrote last.
            stopped = await directory.container(taskID: task, containerName: name)?.running != true
        }
    }

    /// Copies `file` from where it stands to its current end; true if anything was copied.
    @discardableResult
    private func copy(
        _ file: OpenLogFile, to writer: inout any ResponseBodyWriter,
        buffer: inout [UInt8]
    ) async throws -> Bool {
        var copied = false
        while true {
            let bytes = file.read(into: &buffer)
            if bytes.isEmpty { return copied }
            try await writer.write(ByteBuffer(bytes: bytes))
            copied = true
        }
    }
}
