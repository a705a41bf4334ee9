import Foundation
import HTTPServer
import XCTest
@testable import HTTPAPI

final class OpsRoutesTests: XCTestCase {
    private func call(_ router: HTTPRouter, _ path: String) throws -> (Int, [String: Any]) {
        guard case .found(let route, _) = router.match(method: .GET, path: path) else {
            XCTFail("no route for \(path)")
            return (0, [:])
        }
        let head = HTTPRequestHead(method: .GET, target: path, path: path, rawQuery: nil, version: .http11,
                                   headers: ["Host": "x"], keepAlive: true, expectsContinue: false)
        let response = try route.handler(HTTPRequest(head: head))
        let json = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any] ?? [:]
        return (response.status.code, json)
    }

    func testHealthAndReadiness() throws {
        let checks = ReadinessChecks()
        var router = HTTPRouter()
        OpsRoutes.install(into: &router, version: "9.9.9", readiness: checks)
        let (healthStatus, health) = try call(router, "/healthz")
        XCTAssertEqual(healthStatus, 200)
        XCTAssertEqual(health["status"] as? String, "ok")
        XCTAssertEqual(health["version"] as? String, "9.9.9")

        XCTAssertEqual(try call(router, "/readyz").0, 200)
        checks.register("database") { ReadinessResult(ready: false, detail: "no connection") }
        let (readyStatus, ready) = try call(router, "/readyz")
        XCTAssertEqual(readyStatus, 503)
        XCTAssertEqual(ready["status"] as? String, "not_ready")
        let first = (ready["checks"] as? [[String: Any]])?.first
        XCTAssertEqual(first?["name"] as? String, "database")
        XCTAssertEqual(first?["detail"] as? String, "no connection")
    }
}
