import Testing
@testable import NodeAgent

/// One row of Docker's merge rules.
struct MergeCase: CustomTestStringConvertible, Sendable {
    var name: String
    var image: ImageConfig
    var entryPoint: [String]? = nil
    var command: [String]? = nil
    var environment: [String: String] = [:]
    var workingDirectory: String? = nil
    var user: String? = nil
    var expected: ProcessSettings
    var testDescription: String { name }
}

@Suite(.timeLimit(.minutes(10)))
struct ImageConfigTests {
    static let image = ImageConfig(
        env: ["PATH=/bin", "A=1"], entrypoint: ["/entry"], cmd: ["serve"],
        workingDir: "/srv", user: "1000")

    static let cases: [MergeCase] = [
        MergeCase(
            name: "image defaults only", image: image,
            expected: .init(
                arguments: ["/entry", "serve"], environment: ["PATH=/bin", "A=1"], workingDirectory: "/srv",
                user: "1000")),
        MergeCase(
            name: "command replaces Cmd, keeps Entrypoint", image: image, command: ["check", "--fast"],
            expected: .init(
                arguments: ["/entry", "check", "--fast"], environment: ["PATH=/bin", "A=1"], workingDirectory: "/srv",
                user: "1000")),
        MergeCase(
            name: "entryPoint replaces Entrypoint and drops the image Cmd", image: image, entryPoint: ["/bin/sh"],
            expected: .init(
                arguments: ["/bin/sh"], environment: ["PATH=/bin", "A=1"], workingDirectory: "/srv", user: "1000")),
        MergeCase(
            name: "entryPoint and command both given", image: image, entryPoint: ["/bin/sh", "-c"],
            command: ["echo hi"],
            expected: .init(
                arguments: ["/bin/sh", "-c", "echo hi"], environment: ["PATH=/bin", "A=1"], workingDirectory: "/srv",
                user: "1000")),
        MergeCase(
            name: "environment merged by key, new keys sorted, definition wins", image: image,
            environment: ["Z": "26", "A": "2", "B": "3"],
            expected: .init(
                arguments: ["/entry", "serve"], environment: ["PATH=/bin", "A=2", "B=3", "Z=26"],
                workingDirectory: "/srv", user: "1000")),
        MergeCase(
            name: "working directory and user override", image: image, workingDirectory: "/work", user: "nobody",
            expected: .init(
                arguments: ["/entry", "serve"], environment: ["PATH=/bin", "A=1"], workingDirectory: "/work",
                user: "nobody")),
        MergeCase(
            name: "no PATH, no workdir, no user: Docker's defaults", image: ImageConfig(cmd: ["sh"]), command: nil,
            expected: .init(
                arguments: ["sh"], environment: ["PATH=" + ImageConfig.defaultPath], workingDirectory: "/", user: nil)),
        MergeCase(
            name: "empty strings in the image count as unset",
            image: ImageConfig(cmd: ["sh"], workingDir: "", user: ""),
            expected: .init(
                arguments: ["sh"], environment: ["PATH=" + ImageConfig.defaultPath], workingDirectory: "/", user: nil)),
        MergeCase(
            name: "definition PATH replaces the image PATH", image: image, environment: ["PATH": "/opt/bin"],
            expected: .init(
                arguments: ["/entry", "serve"], environment: ["PATH=/opt/bin", "A=1"], workingDirectory: "/srv",
                user: "1000")),
    ]

    @Test(arguments: cases)
    func mergesLikeDocker(row: MergeCase) {
        // Given an image config and a container definition's overrides
        // When they are merged
        let settings = row.image.merged(
            entryPoint: row.entryPoint, command: row.command, environment: row.environment,
            workingDirectory: row.workingDirectory, user: row.user)
        // Then the process settings follow Docker's rules
        #expect(settings == row.expected)
    }

    @Test(arguments: [
        ("busybox", "busybox:latest"), ("flotilla/busybox:1", "flotilla/busybox:1"),
        ("localhost:5000/app", "localhost:5000/app:latest"), ("localhost:5000/app:2", "localhost:5000/app:2"),
    ])
    func referencesWithoutATagMeanLatest(reference: String, normalized: String) {
        #expect(ImageStore.normalize(reference: reference) == normalized)
    }
}
