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
            "--phases", "examples,coverage,fuzzing", "--max-examples", "10", "--seed", "1", "--workers", "2",
            "--request-timeout", "20", "--no-color"
        ], environment: ["SCHEMATHESIS_HOOKS": "hooks", "PYTHONPATH": Self.tools.path, "PYTHONDONTWRITEBYTECODE": "1"])
        XCTAssertEqual(result.status, 0, String(result.output.suffix(20_000)))
        XCTAssertTrue(result.output.contains("passed"), String(result.output.suffix(4000)))
    }

    private func requireTool(_ name: String) throws {
        guard try run(["sh", "-c", "command -v \(name)"]).status == 0 else {
            throw XCTSkip("\(name) is not installed (scripts/test.sh installs it from PyPI)")
        }
    }

    /// `arguments` through `env` (PATH lookup), in a temporary directory: schemathesis keeps a
    /// cache (.schemathesis/) in its working directory, which must not land in the repository.
    private func run(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, output: String) {
        try runToEnd(URL(fileURLWithPath: "/usr/bin/env"), arguments, environment: environment,
                     directory: FileManager.default.temporaryDirectory)
    }
}
