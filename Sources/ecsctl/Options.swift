import ArgumentParser
import FlotillaClient
import Foundation
import TaskDefinitions

/// How ecsctl prints answers.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case table, json
}

/// Options every verb takes: where the API is, the region, and the output format.
struct GlobalOptions: ParsableArguments {
    @Option(
        name: [.customLong("endpoint-url"), .customLong("endpoint")],
        help: "The control plane's URL (default: FLOTILLA_ENDPOINT, the config file, https://127.0.0.1:8080).")
    var endpoint: String?

    @Option(help: "The region to sign requests for (default: AWS_REGION, the profile's region, else us-east-1).")
    var region: String?

    @Option(
        help:
            "A profile of ~/.aws/credentials and ~/.aws/config to sign with, as the AWS CLI's (default: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, else AWS_PROFILE or default)."
    )
    var profile: String?

    @Option(
        help:
            "PEM file of the CA to verify an https:// endpoint's certificate with, as the AWS CLI's (default: AWS_CA_BUNDLE, the profile's ca_bundle, else the system's trust store)."
    )
    var caBundle: String?

    @Option(help: "table (readable, the default) or json (the API's answer as is).")
    var output: OutputFormat = .table

    /// The resolved configuration; `cluster` is the `--cluster` flag of verbs that take one.
    func configuration(cluster: String? = nil) throws -> ClientConfiguration {
        try ClientConfiguration.resolve(
            endpoint: endpoint, cluster: cluster, region: region, profile: profile, caBundle: caBundle)
    }

    /// The client of `configuration`.
    /// - Throws: `HTTPTransportError.caBundle` when its CA bundle cannot be used (one line naming the file).
    func client(_ configuration: ClientConfiguration) throws(HTTPTransportError) -> ECSClient {
        try ECSClient(configuration: configuration)
    }

    /// Prints `answer`: as JSON, or as the table `table` makes of it.
    func emit(_ answer: JSONValue, table: (JSONValue) -> String) {
        switch output {
        case .json:
            print(JSONText.pretty(answer))
        case .table:
            print(table(answer), terminator: "")
        }
    }
}

/// `--cluster`, for verbs that act inside a cluster.
struct ClusterOptions: ParsableArguments {
    @Option(help: "The cluster's name or ARN (default: FLOTILLA_CLUSTER, the config file's, else 'default').")
    var cluster: String?
}

/// The awscli's pagination options for `list-*` verbs, which otherwise follow `nextToken` to the last page.
struct PaginationOptions: ParsableArguments {
    @Option(help: "Print at most this many items in all, and a NextToken to resume from.")
    var maxItems: Int?

    @Option(
        name: [.customLong("starting-token"), .customLong("next-token")],
        help: "Resume from the NextToken a previous call printed.")
    var startingToken: String?

    @Option(help: "Items per API call (1-100).")
    var pageSize: Int?

    func validate() throws {
        if let maxItems, maxItems < 1 { throw ValidationError("--max-items must be at least 1, got \(maxItems)") }
        if let pageSize, !(1...Pagination.largestPage).contains(pageSize) {
            throw ValidationError("--page-size must be between 1 and \(Pagination.largestPage), got \(pageSize)")
        }
    }

    func pagination(resultKey: String) -> Pagination {
        Pagination(resultKey: resultKey, maxItems: maxItems, pageSize: pageSize, startingToken: startingToken)
    }
}

// MARK: - Request building

extension Dictionary where Key == String, Value == JSONValue {
    /// Sets `key` to a string when there is one.
    mutating func set(_ key: String, _ value: String?) {
        if let value { self[key] = .string(value) }
    }

    mutating func set(_ key: String, _ value: Int?) {
        if let value { self[key] = .number(Double(value)) }
    }

    mutating func set(_ key: String, _ value: Bool?) {
        if let value { self[key] = .bool(value) }
    }

    /// Sets `key` to a list of strings when the list is not empty.
    mutating func set(_ key: String, _ values: [String]) {
        if !values.isEmpty { self[key] = .array(values.map(JSONValue.string)) }
    }

    /// Sets `key` to the JSON, file:// or shorthand document `argument`, when given.
    mutating func setDocument(
        _ key: String, _ argument: String?, option: String,
        shorthand: ArgumentDocument.ShorthandValues = .inferred
    ) throws {
        if let argument { self[key] = try ArgumentDocument.parse(argument, option: option, shorthand: shorthand) }
    }

    /// Sets `key` to the list built from the JSON, file:// or shorthand arguments, when there are any.
    mutating func setList(
        _ key: String, _ arguments: [String], option: String,
        shorthand: ArgumentDocument.ShorthandValues = .inferred
    ) throws {
        if !arguments.isEmpty {
            self[key] = .array(try ArgumentDocument.parseList(arguments, option: option, shorthand: shorthand))
        }
    }
}

/// Checks, in `validate()`, that a document argument parses, so a bad file fails before any call.
@discardableResult
func validateDocument(
    _ argument: String?, option: String,
    shorthand: ArgumentDocument.ShorthandValues = .inferred
) throws -> JSONValue? {
    guard let argument else { return nil }
    do {
        return try ArgumentDocument.parse(argument, option: option, shorthand: shorthand)
    } catch {
        throw ValidationError(error.description)
    }
}

func validateList(_ arguments: [String], option: String, shorthand: ArgumentDocument.ShorthandValues = .inferred) throws
{
    do {
        _ = try ArgumentDocument.parseList(arguments, option: option, shorthand: shorthand)
    } catch {
        throw ValidationError(error.description)
    }
}

/// The `failures` of an answer as a table, or "".
func failuresTable(_ answer: JSONValue) -> String {
    ECSTables.failures(answer["failures"]?.arrayValue ?? [])
}
