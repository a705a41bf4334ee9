import Embedded
import Foundation
import HTTPServer
import XCTest

/// `docs/openapi.yaml` describes exactly the routes the real router has, and is served as built in.
final class OpenAPIDocumentTests: XCTestCase {
    /// `METHOD /path` of every operation in the document (its `paths:` section, two-space
    /// indented path keys, four-space indented method keys).
    static func documentedOperations(_ yaml: String) -> Set<String> {
        var operations = Set<String>()
        var path: String?
        var inPaths = false
        for line in yaml.split(separator: "\n", omittingEmptySubsequences: false) {
            if line == "paths:" { inPaths = true; continue }
            if inPaths, let first = line.first, first != " ", first != "#" { break }
            guard inPaths else { continue }
            if line.hasPrefix("  /"), line.hasSuffix(":"), !line.hasPrefix("   ") {
                path = String(line.dropFirst(2).dropLast())
            } else if let path, line.hasPrefix("    "), !line.hasPrefix("     ") {
                let key = line.dropFirst(4).prefix { $0 != ":" }
                if ["get", "put", "post", "patch", "delete", "head", "options"].contains(key) {
                    operations.insert("\(key.uppercased()) \(path)")
                }
            }
        }
        return operations
    }

    func testEveryRouteOfTheRouterIsDocumentedAndNoOther() throws {
        let service = try TestService(test: self)
        let routes = Set(service.app.router().routes.map { "\($0.method.rawValue) \($0.pattern)" })
        let documented = Self.documentedOperations(EmbeddedFiles.openAPI)
        XCTAssertGreaterThan(routes.count, 30)
        let missing = routes.subtracting(documented).sorted()
        let extra = documented.subtracting(routes).sorted()
        XCTAssertTrue(missing.isEmpty, "routes of the router missing from docs/openapi.yaml:\n  " + missing.joined(separator: "\n  "))
        XCTAssertTrue(extra.isEmpty, "operations in docs/openapi.yaml that the router does not have:\n  " + extra.joined(separator: "\n  "))
    }

    func testTheParserSeesWhatTheDocumentSays() {
        let yaml = "openapi: 3.1.0\npaths:\n  /a/{id}:\n    parameters: []\n    get:\n      responses: {}\n    delete:\n      x: 1\n  /b:\n    post: {}\ncomponents:\n  /c:\n    get: {}\n"
        XCTAssertEqual(Self.documentedOperations(yaml), ["GET /a/{id}", "DELETE /a/{id}", "POST /b"])
    }

    func testTheDocumentIsServedAsBuiltIn() throws {
        let service = try TestService(test: self)
        let response = try service.client().request("GET", "/openapi.yaml")
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.header("Content-Type"), "application/yaml; charset=utf-8")
        XCTAssertEqual(response.body, Array(try Data(contentsOf: repositoryRoot.appendingPathComponent("docs/openapi.yaml"))))
    }
}
