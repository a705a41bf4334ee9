import Foundation
import HTTPServer
import XCTest
@testable import HTTPAPI
@testable import LeadRouterService
@testable import LeadStore

/// The route groups of the service: every `/v1` route is behind `Authenticate` with the scope
/// it documents, and every route is counted by `RequestMetrics` under its pattern.
final class APIMiddlewareTests: XCTestCase {
    /// The scope each `/v1` route needs, by pattern prefix (docs/http-server.md, the route table).
    private func scope(of route: HTTPRoute) -> APIScope {
        let pattern = route.pattern
        if route.method == .PATCH, pattern.hasPrefix("/v1/leads") { return .write }
        if pattern.hasPrefix("/v1/leads") || pattern.hasPrefix("/v1/segments") { return .read }
        if pattern.hasPrefix("/v1/queues") || pattern.hasPrefix("/v1/owners") { return .queue }
        if pattern.hasPrefix("/v1/accounts") || pattern.hasPrefix("/v1/subscriptions") || pattern.hasPrefix("/v1/deliveries") {
            return .admin
        }
        return .ingest
    }

    func testEveryV1RouteAuthenticatesWithItsScopeAndIsCounted() throws {
        let metrics = InMemoryRequestMetrics()
        let service = try TestService(test: self) { $0.requestMetrics = metrics }
        let queueKey = try service.app.createKey(name: "queue", scopes: [.queue])
        let keys: [APIScope: String] = [.ingest: service.ingestKey, .read: service.readKey, .queue: queueKey]
        let client = try service.client()

        let routes = service.app.router().routes.filter { $0.pattern.hasPrefix("/v1/") }
        XCTAssertEqual(routes.count, 32, "8 ingest, 5 lead, 2 segment, 6 queue, 4 owner/account (+ GET /v1/owners/{id}/items), 7 webhook routes")
        let id = UUID().uuidString.lowercased()
        for route in routes {
            let path = route.pattern.split(separator: "/", omittingEmptySubsequences: false)
                .map { $0.hasPrefix("{") ? id : String($0) }.joined(separator: "/")
            let needed = scope(of: route)
            let anonymous = try client.request(route.method.rawValue, path)
            XCTAssertEqual(anonymous.status, 401, "\(route.method) \(route.pattern) without a key")
            XCTAssertNotNil(anonymous.header("WWW-Authenticate"))
            if needed != .admin {
                let wrong = try client.json(route.method.rawValue, path, key: keys[needed == .read ? .ingest : .read])
                XCTAssertEqual(wrong.status, 403, "\(route.method) \(route.pattern) with another scope's key")
                XCTAssertEqual(wrong.json["detail"] as? String, "the API key lacks scope '\(needed.rawValue)'")
            } else {
                let wrong = try client.json(route.method.rawValue, path, key: queueKey)
                XCTAssertEqual(wrong.status, 403, "\(route.method) \(route.pattern) with a queue key")
            }
        }
        XCTAssertEqual(try client.request("GET", "/healthz").status, 200)

        let totals = metrics.snapshot()
        for route in routes {
            let key = InMemoryRequestMetrics.Key(route: RouteInfo(method: route.method, pattern: route.pattern), statusClass: 4)
            XCTAssertEqual(totals[key]?.count, 2, "\(key)")
        }
        XCTAssertEqual(totals[.init(route: RouteInfo(method: .GET, pattern: "/healthz"), statusClass: 2)]?.count, 1)
        XCTAssertNil(totals.keys.first { $0.route.pattern.contains(id) }, "metrics are keyed by pattern, never by path")
    }
}
