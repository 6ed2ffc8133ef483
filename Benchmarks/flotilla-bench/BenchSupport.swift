import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The one way every benchmark summarises samples, so p50 and p99 mean the same thing in every table.
enum Statistics {
    /// Nearest-rank percentile, `p` in 0...1: the smallest sample with at least `p` of the samples at or below it
    /// (with 20 samples p50 is the 10th and p99 the 20th, the maximum); NaN when there is none.
    static func percentile(_ samples: [Double], _ p: Double) -> Double {
        guard !samples.isEmpty else { return .nan }
        let sorted = samples.sorted()
        return sorted[min(sorted.count - 1, max(0, Int((p * Double(sorted.count)).rounded(.up)) - 1))]
    }

    /// The median (the mean of the middle two for an even count), NaN samples left out; NaN when none is left.
    static func median(_ values: [Double]) -> Double {
        let sorted = values.filter { !$0.isNaN }.sorted()
        guard !sorted.isEmpty else { return .nan }
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }
}

/// Fixed-width table cells.
enum Cell {
    /// `text` left-aligned in `width` columns, always followed by at least one space.
    static func left(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }

    /// `text` right-aligned in `width` columns.
    static func right(_ text: String, _ width: Int) -> String {
        text.count >= width ? " " + text : String(repeating: " ", count: width - text.count) + text
    }
}

/// What the machine is doing around a measurement.
enum Machine {
    /// The 1-, 5- and 15-minute load averages from `/proc/loadavg`; NaN where it cannot be read.
    static func loadAverages() -> (one: Double, five: Double, fifteen: Double) {
        let fields = ((try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? "").split(separator: " ")
        func field(_ index: Int) -> Double { index < fields.count ? Double(fields[index]) ?? .nan : .nan }
        return (field(0), field(1), field(2))
    }

    /// Installs the Debian packages of the tools missing from /usr/sbin and /usr/bin (tool → package).
    static func install(_ tools: [String: String]) throws {
        let missing = tools.filter { tool, _ in
            !["/usr/sbin/\(tool)", "/usr/bin/\(tool)"].contains { FileManager.default.isExecutableFile(atPath: $0) }
        }
        guard !missing.isEmpty else { return }
        print("installing \(missing.values.sorted().joined(separator: " ")) with apt-get")
        _ = try capture(
            "/usr/bin/apt-get", ["install", "-y", "-q"] + missing.values.sorted(),
            environment: ["DEBIAN_FRONTEND": "noninteractive"])
    }

    /// Runs `executable` to its end and answers its standard output; throws when it exits non-zero.
    static func capture(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:]
    ) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ValidationError(
                "\(executable) \(arguments.joined(separator: " ")) exited with \(process.terminationStatus)")
        }
        return String(decoding: data, as: UTF8.self)
    }
}

/// The one wrk runner: its numbers come from a Lua `done` hook (exact counts and microsecond latencies), not from
/// parsing its rounded human-readable output.
enum Wrk {
    struct Result {
        var requests: Double
        var requestsPerSecond: Double
        var p50Milliseconds: Double
        var p99Milliseconds: Double
        var megabytesPerSecond: Double
        var non2xx: Int
        var socketErrors: Int
    }

    /// `wrk -t threads -c connections -d seconds` against `url`; `script` is Lua run before the hook (a method,
    /// headers, a body).
    static func run(
        _ url: String, threads: Int, connections: Int, seconds: Int, timeoutSeconds: Int = 10,
        script: String = ""
    ) throws -> Result {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(
            "flotilla-bench-\(UUID().uuidString).lua")
        defer { try? FileManager.default.removeItem(at: path) }
        let hook = """
            done = function(summary, latency, requests)
              local e = summary.errors
              io.write(string.format("FLOTILLA %d %d %d %d %d %d %d\\n", summary.requests, summary.duration, summary.bytes,
                latency:percentile(50), latency:percentile(99), e.status, e.connect + e.read + e.write + e.timeout))
            end

            """
        try (script + "\n" + hook).write(to: path, atomically: true, encoding: .utf8)
        let output = try Machine.capture(
            "/usr/bin/wrk",
            [
                "-t\(threads)", "-c\(connections)", "-d\(seconds)s", "--timeout", "\(timeoutSeconds)s", "-s", path.path,
                url,
            ])
        guard let line = output.split(separator: "\n").first(where: { $0.hasPrefix("FLOTILLA ") }) else {
            throw ValidationError("wrk printed no summary:\n\(output)")
        }
        let numbers = line.split(separator: " ").dropFirst().compactMap { Double($0) }
        guard numbers.count == 7, numbers[1] > 0 else { throw ValidationError("wrk printed an odd summary: \(line)") }
        let elapsed = numbers[1] / 1_000_000
        return Result(
            requests: numbers[0], requestsPerSecond: numbers[0] / elapsed, p50Milliseconds: numbers[3] / 1000,
            p99Milliseconds: numbers[4] / 1000, megabytesPerSecond: numbers[2] / 1_048_576 / elapsed,
            non2xx: Int(numbers[5]), socketErrors: Int(numbers[6]))
    }
}
