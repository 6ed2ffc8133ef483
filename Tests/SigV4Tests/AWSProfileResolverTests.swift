import Foundation
import SigV4
import Testing

/// The AWS CLI's credential and region resolution over in-memory files.
@Suite("SigV4: AWS CLI profiles", .timeLimit(.minutes(10)))
struct AWSProfileResolverTests {
    static let credentialsFile = """
        # written by aws configure
        [default]
        aws_access_key_id = AKIDDEFAULT
        aws_secret_access_key = secret/default

        [dev]
        aws_access_key_id=AKIDDEV
        aws_secret_access_key =secret-dev
        aws_session_token = token-dev
        ; a comment
        """
    static let configFile = """
        [default]
        region = us-east-1
        output = json

        [profile dev]
        region = eu-west-1
        s3 =
          max_concurrent_requests = 20

        [profile config-only]
        Region: ap-south-1
        aws_access_key_id = AKIDCONFIG
        aws_secret_access_key = secret-config
        """
    static let home = ["HOME": "/home/u"]

    static func resolve(
        _ profile: String? = nil, _ environment: [String: String] = [:],
        files: [String: String] = ["/home/u/.aws/credentials": credentialsFile, "/home/u/.aws/config": configFile]
    ) throws(AWSProfileError) -> (credentials: AWSCredentials?, region: String?) {
        try AWSProfileResolver.resolve(
            profile: profile, environment: home.merging(environment) { $1 },
            readFile: { path in files[path].map { Data($0.utf8) } })
    }

    @Test func defaultProfileFromTheFiles() throws {
        let (credentials, region) = try Self.resolve()
        #expect(credentials == AWSCredentials(accessKeyID: "AKIDDEFAULT", secretAccessKey: "secret/default"))
        #expect(region == "us-east-1")
    }

    @Test func explicitProfileWinsOverTheEnvironmentsKeys() throws {
        let (credentials, region) = try Self.resolve(
            "dev", ["AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "env", "AWS_PROFILE": "default"])
        #expect(
            credentials
                == AWSCredentials(accessKeyID: "AKIDDEV", secretAccessKey: "secret-dev", sessionToken: "token-dev"))
        #expect(region == "eu-west-1")
    }

    @Test func environmentKeysWinOverAWSProfile() throws {
        let (credentials, _) = try Self.resolve(
            nil,
            [
                "AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "env", "AWS_SESSION_TOKEN": "t",
                "AWS_PROFILE": "dev",
            ])
        #expect(credentials == AWSCredentials(accessKeyID: "AKIDENV", secretAccessKey: "env", sessionToken: "t"))
    }

    @Test func awsProfileThenAWSDefaultProfile() throws {
        #expect(try Self.resolve(nil, ["AWS_PROFILE": "dev"]).credentials?.accessKeyID == "AKIDDEV")
        #expect(try Self.resolve(nil, ["AWS_DEFAULT_PROFILE": "dev"]).credentials?.accessKeyID == "AKIDDEV")
        #expect(
            try Self.resolve(nil, ["AWS_PROFILE": "default", "AWS_DEFAULT_PROFILE": "dev"]).credentials?.accessKeyID
                == "AKIDDEFAULT")
    }

    @Test func configFileCredentialsAndKeyCase() throws {
        let (credentials, region) = try Self.resolve("config-only")
        #expect(credentials?.accessKeyID == "AKIDCONFIG")
        #expect(region == "ap-south-1")
    }

    @Test func regionFromTheEnvironmentFirst() throws {
        #expect(
            try Self.resolve("dev", ["AWS_REGION": "sa-east-1", "AWS_DEFAULT_REGION": "ca-central-1"]).region
                == "sa-east-1")
        #expect(try Self.resolve("dev", ["AWS_DEFAULT_REGION": "ca-central-1"]).region == "ca-central-1")
    }

    @Test func fileLocationsFromTheEnvironment() throws {
        let (credentials, region) = try Self.resolve(
            nil, ["AWS_SHARED_CREDENTIALS_FILE": "/etc/creds", "AWS_CONFIG_FILE": "~/cfg"],
            files: [
                "/etc/creds": "[default]\naws_access_key_id = A\naws_secret_access_key = B\n",
                "/home/u/cfg": "[default]\nregion = r\n",
            ])
        #expect(credentials == AWSCredentials(accessKeyID: "A", secretAccessKey: "B"))
        #expect(region == "r")
    }

    @Test func missingProfile() {
        #expect(throws: AWSProfileError.profileNotFound("nope")) { try Self.resolve("nope") }
        #expect(throws: AWSProfileError.profileNotFound("nope")) { try Self.resolve(nil, ["AWS_PROFILE": "nope"]) }
        #expect(AWSProfileError.profileNotFound("nope").description == "The config profile (nope) could not be found")
    }

    @Test func noFilesAndNoDefaultIsNoError() throws {
        let (credentials, region) = try Self.resolve(files: [:])
        #expect(credentials == nil && region == nil)
    }

    @Test func partialCredentials() {
        #expect(throws: AWSProfileError.partialCredentials(source: "env", missing: "AWS_SECRET_ACCESS_KEY")) {
            try Self.resolve(nil, ["AWS_ACCESS_KEY_ID": "A"])
        }
        #expect(
            throws: AWSProfileError.partialCredentials(
                source: "shared-credentials-file", missing: "aws_secret_access_key")
        ) {
            try Self.resolve(files: ["/home/u/.aws/credentials": "[default]\naws_access_key_id = A\n"])
        }
    }

    @Test func malformedFilesNameTheFileAndLine() {
        #expect(
            throws: AWSProfileError.malformedFile(
                path: "/home/u/.aws/credentials", line: 2, problem: "the file contains no section headers")
        ) { try Self.resolve(files: ["/home/u/.aws/credentials": "# top\naws_access_key_id = A\n"]) }
        #expect(
            throws: AWSProfileError.malformedFile(
                path: "/home/u/.aws/config", line: 3, problem: "section 'default' already exists")
        ) {
            try Self.resolve(files: ["/home/u/.aws/config": "[default]\n\n[default]\n"])
        }
        #expect(
            AWSProfileError.malformedFile(path: "/p", line: 3, problem: "expected 'key = value'").description
                == "Unable to parse config file: /p, line 3: expected 'key = value'")
    }

    @Test func parsingEdgeCases() throws {
        let file = try AWSConfigFile(
            parsing: "\r\n  [ spaced ]  \r\n\tKey = value # not a comment\r\n; c\n# c\nother: x = y\nempty =\n",
            path: "f")
        #expect(file.sections == ["spaced": ["key": "value # not a comment", "other": "x = y", "empty": ""]])
    }

    // MARK: - Writing

    @Test func upsertAddsAProfileKeepingTheRest() throws {
        let written = AWSCredentialsFile.upserting(
            profile: "flotilla", credentials: AWSCredentials(accessKeyID: "AKIDNEW", secretAccessKey: "s"),
            into: Self.credentialsFile)
        #expect(written.hasPrefix(Self.credentialsFile + "\n\n[flotilla]\n"))
        #expect(
            try Self.resolve("flotilla", files: ["/home/u/.aws/credentials": written]).credentials?.accessKeyID
                == "AKIDNEW")
        #expect(
            try Self.resolve("dev", files: ["/home/u/.aws/credentials": written]).credentials?.sessionToken
                == "token-dev")
    }

    @Test func upsertReplacesKeysInPlace() throws {
        let written = AWSCredentialsFile.upserting(
            profile: "dev", credentials: AWSCredentials(accessKeyID: "AKIDROT", secretAccessKey: "rotated"),
            into: Self.credentialsFile
                + "\nregion_hint = keep\n\n[later]\naws_access_key_id = L\naws_secret_access_key = L\n")
        #expect(!written.contains("token-dev"))  // no token now: its line is gone
        #expect(written.contains("; a comment\nregion_hint = keep\n"))
        #expect(written.contains("[dev]\naws_access_key_id = AKIDROT\naws_secret_access_key = rotated\n"))
        let resolved = try Self.resolve("dev", files: ["/home/u/.aws/credentials": written])
        #expect(resolved.credentials == AWSCredentials(accessKeyID: "AKIDROT", secretAccessKey: "rotated"))
        #expect(try Self.resolve("later", files: ["/home/u/.aws/credentials": written]).credentials?.accessKeyID == "L")
        // Adding a token to a section without one puts it after the section's last key
        let withToken = AWSCredentialsFile.upserting(
            profile: "default", credentials: AWSCredentials(accessKeyID: "A", secretAccessKey: "B", sessionToken: "T"),
            into: written)
        #expect(
            withToken.contains(
                "[default]\naws_access_key_id = A\naws_secret_access_key = B\naws_session_token = T\n\n[dev]"))
        #expect(
            AWSCredentialsFile.upserting(
                profile: "p", credentials: .init(accessKeyID: "A", secretAccessKey: "B"), into: "")
                == "[p]\naws_access_key_id = A\naws_secret_access_key = B\n")
    }

    @Test func descriptionNeverShowsTheSecret() {
        let credentials = AWSCredentials(
            accessKeyID: "AKID", secretAccessKey: "SECRETVALUE", sessionToken: "TOKENVALUE")
        var dumped = ""
        dump(credentials, to: &dumped)
        for text in [credentials.description, String(reflecting: credentials), "\(credentials)", dumped] {
            #expect(text.contains("AKID") && !text.contains("SECRETVALUE") && !text.contains("TOKENVALUE"))
        }
    }
}
