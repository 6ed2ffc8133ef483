import ArgumentParser
import FlotillaClient
import TaskDefinitions

/// `ecsctl create-join-token`: a short-lived token for agents to join with, as `kubeadm token create`: printed alone
/// so `FLOTILLA_JOIN_TOKEN=$(ecsctl create-join-token ...)` works. Its secret is shown this once. From a control plane
/// serving TLS with its cluster CA the token ends with `.sha256:<hex>`, the CA's hash, which the agent verifies the
/// control plane with (`JoinTokenText`).
struct CreateJoinToken: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create-join-token",
        abstract: "Creates a join token (shown only now) and prints it alone.",
        discussion: """
            Agents pass it through FLOTILLA_JOIN_TOKEN or --join-token-file. It ends with the sha256 of the control \
            plane's cluster CA, which the agent checks the control plane's certificate chain against before it sends \
            anything (no CA file needed on the agent's host). It registers new instances only, until \
            it expires (--ttl, default 24h, at most 168h) or its uses run out (--uses, default unlimited).
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var scope: ClusterOptions

    @Option(help: "How long the token is valid, as 90s, 30m, 24h or 1h30m (default 24h, at most 168h).")
    var ttl: TokenLifetime?

    @Option(help: "How many instances may register with it, 1 to 1000 (default: unlimited until it expires).")
    var uses: Int?

    @Option(help: "What the token is for, shown by list-join-tokens (at most 256 characters).")
    var description: String?

    func validate() throws {
        if let ttl, !(1...TokenLifetime.maxSeconds).contains(ttl.seconds) {
            throw ValidationError("--ttl: must be between 1s and 168h (7 days)")
        }
        if let uses, !(1...1000).contains(uses) {
            throw ValidationError("--uses: must be between 1 and 1000 (leave it out for unlimited uses)")
        }
    }

    func run() async throws {
        let configuration = try global.configuration(cluster: scope.cluster)
        var body: [String: JSONValue] = ["cluster": .string(configuration.cluster)]
        if let ttl { body["ttlSeconds"] = .number(Double(ttl.seconds)) }
        if let uses { body["uses"] = .number(Double(uses)) }
        if let description { body["description"] = .string(description) }
        let answer = try await global.client(configuration).call(.createJoinToken, .object(body))
        global.emit(answer) { "\($0["joinToken"]?.stringValue ?? "")\n" }
    }
}

/// `ecsctl list-join-tokens`: the cluster's live tokens by id, with expiration and uses left (never a secret).
struct ListJoinTokens: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list-join-tokens",
        abstract: "Lists the cluster's join tokens that can still register an instance (ids only, no secrets).")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var scope: ClusterOptions

    func run() async throws {
        let configuration = try global.configuration(cluster: scope.cluster)
        let answer = try await global.client(configuration)
            .call(.listJoinTokens, .object(["cluster": .string(configuration.cluster)]))
        global.emit(answer) { answer in
            var table = TextTable(headers: ["TOKEN ID", "EXPIRES", "USES LEFT", "DESCRIPTION"])
            for token in answer["joinTokens"]?.arrayValue ?? [] {
                table.append([
                    token["tokenId"]?.stringValue ?? "", ECSText.timestamp(token["expiresAt"]),
                    token["usesLeft"]?.intValue.map(String.init) ?? "unlimited",
                    token["description"]?.stringValue ?? "",
                ])
            }
            return table.render()
        }
    }
}

/// `ecsctl delete-join-token`: the token is refused from then on; instances that joined with it stay.
struct DeleteJoinToken: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete-join-token",
        abstract: "Deletes a join token; agents presenting it are refused from now on.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var scope: ClusterOptions

    @Option(help: "The token's id (from list-join-tokens), or the whole token: only the part before the dot is sent.")
    var tokenId: String

    func run() async throws {
        let configuration = try global.configuration(cluster: scope.cluster)
        let id = String(tokenId.prefix { $0 != "." })
        let answer = try await global.client(configuration)
            .call(.deleteJoinToken, .object(["cluster": .string(configuration.cluster), "tokenId": .string(id)]))
        global.emit(answer) { "\($0["tokenId"]?.stringValue ?? "") deleted\n" }
    }
}

/// `ecsctl get-join-token`: kept for the scripts written against the first API: a new token with the defaults.
struct GetJoinToken: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get-join-token",
        abstract: "Creates a join token with the defaults (24h, unlimited uses) and prints it alone.",
        discussion: """
            Each call makes a new token: the same as create-join-token without options. Agents pass it through \
            FLOTILLA_JOIN_TOKEN or --join-token-file.
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var scope: ClusterOptions

    func run() async throws {
        let configuration = try global.configuration(cluster: scope.cluster)
        let answer = try await global.client(configuration)
            .call(.getJoinToken, .object(["cluster": .string(configuration.cluster)]))
        global.emit(answer) { "\($0["joinToken"]?.stringValue ?? "")\n" }
    }
}

/// `ecsctl rotate-join-token`: deletes every join token of the cluster and creates one (agents already registered
/// keep their credentials).
struct RotateJoinToken: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotate-join-token",
        abstract:
            "Deletes every join token of the cluster, creates one with the defaults (24h, unlimited uses) and prints it."
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var scope: ClusterOptions

    func run() async throws {
        let configuration = try global.configuration(cluster: scope.cluster)
        let answer = try await global.client(configuration)
            .call(.rotateJoinToken, .object(["cluster": .string(configuration.cluster)]))
        global.emit(answer) { "\($0["joinToken"]?.stringValue ?? "")\n" }
    }
}

/// `--ttl`: a duration as Go and kubeadm write one (`90s`, `30m`, `24h`, `1h30m`), in whole seconds.
struct TokenLifetime: ExpressibleByArgument, Equatable {
    static let maxSeconds = 7 * 24 * 3600
    var seconds: Int

    init(seconds: Int) { self.seconds = seconds }

    init?(argument: String) {
        var total = 0
        var number = ""
        for character in argument {
            if character.isASCII, character.isNumber {
                number.append(character)
                continue
            }
            let unit: Int
            switch character {
            case "h": unit = 3600
            case "m": unit = 60
            case "s": unit = 1
            default: return nil
            }
            guard let value = Int(number), value <= Self.maxSeconds * 2 else { return nil }
            total += value * unit
            guard total <= Self.maxSeconds * 2 else { return nil }
            number = ""
        }
        guard number.isEmpty, !argument.isEmpty else { return nil }
        seconds = total
    }
}
