import FlotillaClient
import Foundation
import Testing

@Suite(.timeLimit(.minutes(10)))
struct ClientConfigurationTests {
    let userFile = "/home/ada/.config/flotilla/config.json"
    let systemFile = "/etc/flotilla/ecsctl.json"

    func resolve(
        flag: String? = nil, cluster: String? = nil, region: String? = nil,
        environment: [String: String] = ["HOME": "/home/ada"],
        files: [String: String] = [:]
    ) throws -> ClientConfiguration {
        try ClientConfiguration.resolve(
            endpoint: flag, cluster: cluster, region: region, environment: environment,
            readFile: { files[$0].map { Data($0.utf8) } })
    }

    @Test func defaultsWithNothingConfigured() throws {
        let configuration = try resolve()
        #expect(configuration.endpoint.absoluteString == "https://127.0.0.1:8080")
        #expect(configuration.cluster == "default")
        #expect(configuration.region == nil)
    }

    @Test func flagBeatsEnvironmentBeatsUserFileBeatsSystemFile() throws {
        // Given every source set, each to a different endpoint
        let environment = ["HOME": "/home/ada", "FLOTILLA_ENDPOINT": "http://127.0.0.2:8080"]
        let files = [
            userFile: #"{"endpoint": "http://127.0.0.3:8080"}"#,
            systemFile: #"{"endpoint": "http://127.0.0.4:8080", "cluster": "sys"}"#,
        ]

        // Then each source wins over the ones after it
        #expect(
            try resolve(flag: "http://127.0.0.1:9999", environment: environment, files: files)
                .endpoint.absoluteString == "http://127.0.0.1:9999")
        #expect(try resolve(environment: environment, files: files).endpoint.absoluteString == "http://127.0.0.2:8080")
        #expect(try resolve(files: files).endpoint.absoluteString == "http://127.0.0.3:8080")
        #expect(try resolve(files: [systemFile: files[systemFile]!]).endpoint.absoluteString == "http://127.0.0.4:8080")
    }

    @Test func clusterFromFlagEnvironmentOrFile() throws {
        let files = [userFile: #"{"cluster": "from-user"}"#, systemFile: #"{"cluster": "from-system"}"#]
        #expect(
            try resolve(cluster: "flag", environment: ["HOME": "/home/ada", "FLOTILLA_CLUSTER": "env"], files: files)
                .cluster == "flag")
        #expect(
            try resolve(environment: ["HOME": "/home/ada", "FLOTILLA_CLUSTER": "env"], files: files).cluster == "env")
        #expect(try resolve(files: files).cluster == "from-user")
        // A user file without a cluster falls through to the system file's
        #expect(
            try resolve(files: [userFile: #"{"endpoint": "http://127.0.0.1:1"}"#, systemFile: files[systemFile]!])
                .cluster == "from-system")
    }

    @Test func xdgConfigHomeReplacesDotConfig() {
        let paths = ClientConfiguration.configFilePaths(environment: ["HOME": "/home/ada", "XDG_CONFIG_HOME": "/cfg"])
        #expect(paths == ["/cfg/flotilla/config.json", "/etc/flotilla/ecsctl.json"])
    }

    @Test func regionFromFlagOrAWSEnvironment() throws {
        #expect(try resolve(region: "eu-west-1", environment: ["AWS_REGION": "us-east-2"]).region == "eu-west-1")
        #expect(try resolve(environment: ["AWS_DEFAULT_REGION": "us-west-2"]).region == "us-west-2")
    }

    @Test func bareHostAndPortMeansHTTP() throws {
        #expect(try resolve(flag: "127.0.0.1:8081").endpoint.absoluteString == "http://127.0.0.1:8081")
    }

    @Test(arguments: ["ftp://127.0.0.1:21", "http://", "://nothing"])
    func nonHTTPEndpointIsRefusedNamingItsSource(value: String) {
        let error = #expect(throws: ClientConfiguration.Error.self) {
            try resolve(environment: ["FLOTILLA_ENDPOINT": value])
        }
        #expect(error == .invalidEndpoint(value, source: "FLOTILLA_ENDPOINT"))
    }

    @Test(arguments: [
        ("{not json", "not valid JSON"),
        (#"["http://127.0.0.1:8080"]"#, "must be a JSON object"),
        (#"{"endpoint": 8080}"#, "endpoint: must be a non-empty string"),
        (#"{"cluster": ""}"#, "cluster: must be a non-empty string"),
    ])
    func brokenConfigFileIsReportedWithItsPath(contents: String, reason: String) {
        let error = #expect(throws: ClientConfiguration.Error.self) {
            try resolve(files: [userFile: contents])
        }
        guard case .invalidConfigFile(let path, let message)? = error else {
            Issue.record("expected invalidConfigFile, got \(String(describing: error))")
            return
        }
        #expect(path == userFile)
        #expect(message.hasPrefix(reason))
    }

    @Test func caBundleFromFlagElseAWSCABundleElseTheProfilesCABundle() throws {
        // Given a config file whose default and `dev` profiles name CA bundles
        let config = "[default]\nca_bundle = ~/default-ca.pem\n[profile dev]\nca_bundle = /etc/dev-ca.pem\n"
        let files = ["/home/ada/.aws/config": config]
        func caBundle(flag: String? = nil, profile: String? = nil, environment: [String: String] = [:]) throws
            -> String?
        {
            try ClientConfiguration.resolve(
                endpoint: nil, cluster: nil, region: nil, profile: profile, caBundle: flag,
                environment: environment.merging(["HOME": "/home/ada"]) { $1 },
                readFile: { files[$0].map { Data($0.utf8) } }
            ).caBundle
        }
        // Then the flag wins, then AWS_CA_BUNDLE, then the chosen profile's ca_bundle (~ expanded), else none
        #expect(try caBundle(flag: "/flag.pem", environment: ["AWS_CA_BUNDLE": "/env.pem"]) == "/flag.pem")
        #expect(try caBundle(environment: ["AWS_CA_BUNDLE": "/env.pem"]) == "/env.pem")
        #expect(try caBundle() == "/home/ada/default-ca.pem")
        #expect(try caBundle(profile: "dev") == "/etc/dev-ca.pem")
        #expect(try caBundle(environment: ["AWS_PROFILE": "dev"]) == "/etc/dev-ca.pem")
        #expect(
            try ClientConfiguration.resolve(
                endpoint: nil, cluster: nil, region: nil, environment: ["HOME": "/home/ada"], readFile: { _ in nil }
            ).caBundle == nil)
    }
}
