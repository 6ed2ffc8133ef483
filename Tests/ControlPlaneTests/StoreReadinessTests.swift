import ControlPlane
import FlotillaTestKit
import Foundation
import Glibc
import GRDB
import HTTPTypes
import HummingbirdTesting
import InMemoryLogging
import Logging
import NIOCore
import Testing

/// `/readyz` and the API's answers on a data directory that fills up: a real tmpfs, really full.
@Suite(
    "Store readiness: a full data dir is not ready and says so, then recovers",
    .enabled(if: getuid() == 0, "mounts a tmpfs"),
    .serialized, .timeLimit(.minutes(10)))
struct StoreReadinessTests {
    /// A fresh 8 MiB tmpfs for `body`, unmounted after.
    static func withTmpfs(_ body: (URL) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "flotilla-readyz-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        guard mount("tmpfs", directory.path, "tmpfs", 0, "size=8m") == 0 else {
            throw HarnessError.unexpected("mount tmpfs: errno \(errno)")
        }
        defer {
            umount2(directory.path, Int32(MNT_DETACH))
            try? FileManager.default.removeItem(at: directory)
        }
        try await body(directory)
    }

    /// Writes zeros into `path` until the filesystem refuses (ENOSPC).
    static func fill(_ path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { throw HarnessError.unexpected("open filler: errno \(errno)") }
        defer { close(fd) }
        let block = [UInt8](repeating: 0, count: 64 * 1024)
        var chunk = block.count
        while chunk > 0 {
            let written = block.withUnsafeBytes { write(fd, $0.baseAddress, chunk) }
            if written < 0 {
                guard errno == ENOSPC else { throw HarnessError.unexpected("write filler: errno \(errno)") }
                chunk /= 2  // fill the last partial blocks too
            }
        }
    }

    static func readyz(_ client: any TestClientProtocol) async throws -> (status: Int, body: String) {
        try await client.execute(uri: "/readyz", method: .get) { (Int($0.status.code), String(buffer: $0.body)) }
    }

    @Test("Filled: /readyz 503 naming SQLITE_FULL, a write answers ServerException saying so; freed: both recover")
    func fullDataDirectory() async throws {
        try await Self.withTmpfs { directory in
            let health = StoreHealth(directory: directory, minimumFreeBytes: 64 * 1024, cacheDuration: .zero)
            let store = try ControlPlaneStore.open(directory: directory, health: health)
            try await withControlPlane(store: store) { client in
                // Given a ready control plane
                #expect(try await Self.readyz(client).status == 200)
                try await client.ok("CreateCluster", #"{"clusterName": "before"}"#)
                let filler = directory.appendingPathComponent("filler").path
                // When the data dir fills up
                try Self.fill(filler)
                // Then readiness fails with the reason, liveness does not, and a write says why it failed
                let notReady = try await Self.readyz(client)
                #expect(notReady.status == 503)
                #expect(notReady.body.contains("SQLITE_FULL"))
                let healthz = try await client.execute(uri: "/healthz", method: .get) { Int($0.status.code) }
                #expect(healthz == 200)
                let write = try await client.ecs(
                    "CreateCluster", #"{"clusterName": "\#(String(repeating: "x", count: 200))"}"#)
                #expect(write.status == 500)
                #expect(write.errorType == "ServerException")
                #expect(write.message.contains("out of space (SQLITE_FULL)"))
                // When space is freed
                unlink(filler)
                // Then it is ready again and writes go through
                #expect(try await Self.readyz(client).status == 200)
                try await client.ok("CreateCluster", #"{"clusterName": "after"}"#)
            }
        }
    }
}

@Suite("Store failures: logged once per kind, corruption makes the store not ready", .timeLimit(.minutes(10)))
struct StoreFailureLogTests {
    @Test("50 SQLITE_FULL failures log one line; a SQLITE_CORRUPT one logs once more and sticks in /readyz")
    func oncePerKind() async throws {
        let logs = InMemoryLogHandler()
        let logger = Logger(label: "test") { _ in logs }
        let store = try ControlPlaneStore.inMemory()
        #expect(await store.health.problem(of: store) == nil)
        // When a full disk fails call after call
        for _ in 0..<50 {
            store.health.logFailure(
                DatabaseError(resultCode: .SQLITE_FULL, message: "database or disk is full"),
                "ECS request failed", metadata: ["ecs.operation": "CreateCluster"], logger: logger)
        }
        // Then one error line says so
        #expect(logs.entries.count == 1)
        #expect(logs.entries.first?.level == .error)
        #expect(logs.entries.first?.metadata["store.failure"] == "full")
        // When corruption shows up in a call
        store.health.logFailure(
            DatabaseError(resultCode: .SQLITE_CORRUPT, message: "database disk image is malformed"),
            "cluster reconciliation failed", metadata: [:], logger: logger)
        // Then it is logged (a new kind) and the store is not ready from now on, though this one still writes
        #expect(logs.entries.count == 2)
        #expect(logs.entries.last?.metadata["store.failure"] == "corrupt")
        #expect(await store.health.problem(of: store)?.contains("SQLITE_CORRUPT") == true)
        // and other errors are logged as they come
        store.health.logFailure(CancellationError(), "ECS request failed", metadata: [:], logger: logger)
        #expect(logs.entries.count == 3)
    }
}
