/// Waiting in tests for something another task, thread or process makes happen.
///
/// The bound is a guard against hangs, never what a test asserts: a test that needs "has not happened" drives the
/// pass or the clock that would make it happen instead of waiting.

/// Polls `condition` every `interval` until it holds, for at most `bound`; answers whether it held.
public func eventually(
    within bound: Duration = .seconds(30), every interval: Duration = .milliseconds(20),
    _ condition: () async throws -> Bool
) async rethrows -> Bool {
    try await eventually(within: bound, every: interval) { try await condition() ? true : nil } ?? false
}

/// Polls `condition` every `interval` until it returns a value, for at most `bound`; nil when it never did.
public func eventually<Value>(
    within bound: Duration, every interval: Duration = .milliseconds(200),
    _ condition: () async throws -> Value?
) async rethrows -> Value? {
    let deadline = ContinuousClock.now + bound
    repeat {
        if let value = try await condition() { return value }
        try? await Task.sleep(for: interval)
    } while ContinuousClock.now < deadline
    return try await condition()
}
