@testable import ecsctl
import Testing

@Suite(.timeLimit(.minutes(10)))
struct TokenLifetimeTests {
    @Test(
        "--ttl reads Go's and kubeadm's durations in whole seconds",
        arguments: [
            ("90s", 90), ("30m", 1800), ("24h", 86400), ("1h30m", 5400), ("168h", 604_800), ("0s", 0),
        ])
    func parses(argument: String, seconds: Int) {
        #expect(TokenLifetime(argument: argument)?.seconds == seconds)
    }

    @Test(
        "--ttl refuses what is not a duration", arguments: ["", "24", "8d", "1h30", "h", "-1h", "1.5h", "99999999999h"])
    func refuses(argument: String) {
        #expect(TokenLifetime(argument: argument) == nil)
    }
}
