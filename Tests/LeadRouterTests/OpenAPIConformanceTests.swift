import Foundation
import XCTest
@testable import LeadRouterService

/// The document against the live server, with the PyPI tools scripts/test.sh installs:
/// `openapi-spec-validator` (a valid OpenAPI 3.1 document) and schemathesis (every check, a
/// fixed seed and a bounded number of examples per operation: no 5xx, every status code,
/// content type, header and body as documented, invalid input refused, valid input accepted
/// except where scripts/openapi/schemathesis.toml says why the document cannot tell).
final class OpenAPIConformanceTests: XCTestCase {
    static let tools = repositoryRoot.appendingPathComponent("scripts/openapi")

    func testTheDocumentIsValidOpenAPI() throws {
        try requireTool("openapi-spec-validator")
        let result = try run(["openapi-spec-validator", repositoryRoot.appendingPathComponent("docs/openapi.yaml").path])
        XCTAssertEqual(result.status, 0, result.output)
    }

    func testSchemathesisFindsNoFailureAgainstALiveServer() throws {
        try requireTool("schemathesis")
        // schemathesis' authentication checks send requests without a key on purpose, hundreds of
        // them from one address: the per-address limit would answer them 429 instead of 401.
        let service = try TestService(test: self) { $0.rateLimits = .off }
        let result = try run([
            "schemathesis", "--config-file", Self.tools.appendingPathComponent("schemathesis.toml").path,
            "run", "http://127.0.0.1:\(service.port)/openapi.yaml",
            "--header", "Authorization: Bearer \(service.adminKey)",
            "--phases", "examples,coverage,fuzzing", "--max-examples", "10", "--seed", "1", "--workers", "1",
            "--request-timeout", "20", "--no-color"
        ], environment: ["SCHEMATHESIS_HOOKS": "hooks", "PYTHONPATH": Self.tools.path, "PYTHONDONTWRITEBYTECODE": "1"])
        if result.status != 0 {
            // The whole report (every failing request with its curl line) goes to a file; the
            // failure shows its failures section, control characters (schemathesis' NULs and
            // escapes) made visible so the test log keeps every line.
            let report = FileManager.default.temporaryDirectory.appendingPathComponent("leadrouter-schemathesis.log")
            try? result.output.write(to: report, atomically: true, encoding: .utf8)
            let failures = result.output.range(of: "FAILURES").map { String(result.output[$0.lowerBound...]) } ?? result.output
            let visible = String(String.UnicodeScalarView(failures.suffix(12_000).unicodeScalars.map {
                $0 == "\n" || !CharacterSet.controlCharacters.contains($0) ? $0 : "?"
            }))
            XCTFail("schemathesis exited \(result.status); full report in \(report.path):\n\(visible)")
        }
        XCTAssertTrue(result.output.contains("passed"), String(result.output.suffix(4000)))
    }

    private func requireTool(_ name: String) throws {
        guard try run(["sh", "-c", "command -v \(name)"]).status == 0 else {
            throw XCTSkip("\(name) is not installed (scripts/test.sh installs it from PyPI)")
        }
    }

    /// `arguments` through `env` (PATH lookup), in a new temporary directory: schemathesis keeps
    /// a cache of earlier failures (.schemathesis/) in its working directory and replays them,
    /// which must neither land in the repository nor make one run depend on another (with one
    /// worker and the fixed seed, a run is the same every time).
    private func run(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, output: String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lr-schemathesis-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        return try runToEnd(URL(fileURLWithPath: "/usr/bin/env"), arguments, environment: environment, directory: directory)
    }
}
