import Foundation
import HTTPServer
import XCTest
@testable import HTTPAPI
@testable import LeadRouterService
@testable import LeadStore

/// The route × key matrix of the service (docs/http-server.md, the route table): every `/v1`
/// route is called over a real socket with no key (401) and with a key of each scope, a public
/// key and an owner-bound queue key, and answers 403 exactly where the matrix says; every
/// route is counted by `RequestMetrics` under its pattern.
final class APIMiddlewareTests: XCTestCase {
    /// Who may call a route.
    enum Access: Equatable {
        /// `ingest` keys, public ones included (the Segment-compatible endpoints).
        case ingestPublic
        /// `ingest` keys, not public ones (`POST /v1/events` answers with the lead's decision).
        case ingestSecret
        case read, write, queue, admin
    }

    /// The matrix, from the route's method and pattern (the documented table, written out).
    static func access(_ route: HTTPRoute) -> Access {
        let pattern = route.pattern
        if ["/v1/track", "/v1/identify", "/v1/page", "/v1/screen", "/v1/group", "/v1/alias", "/v1/batch",
            "/v1/t", "/v1/i", "/v1/p", "/v1/s", "/v1/g", "/v1/a", "/v1/import", "/v1/b", "/v1/projects/{writeKey}/settings"].contains(pattern) {
            return .ingestPublic
        }
        if pattern == "/v1/events" { return .ingestSecret }
        if route.method == .PATCH, pattern.hasPrefix("/v1/leads") { return .write }
        // Data-subject requests (erase, export): admin only.
        if route.method == .DELETE && pattern == "/v1/leads/{id}" || pattern == "/v1/leads/{id}/export" { return .admin }
        if pattern.hasPrefix("/v1/leads") || pattern.hasPrefix("/v1/segments") || pattern.hasPrefix("/v1/experiments")
            || ["/v1/drift", "/v1/inventory", "/v1/stages/metrics"].contains(pattern) { return .read }
        if pattern.hasPrefix("/v1/queues") || pattern.hasPrefix("/v1/owners") { return .queue }
        if ["/v1/accounts", "/v1/subscriptions", "/v1/deliveries", "/v1/keys", "/v1/quarantine", "/v1/rulesets", "/v1/jobs"].contains(where: { pattern.hasPrefix($0) }) { return .admin }
        XCTFail("\(route.method) \(pattern) is not in the matrix")
        return .admin
    }

    /// The keys of the matrix's columns.
    enum Caller: String, CaseIterable {
        case ingest, read, write, queue, admin, `public`, ownerBound = "owner-bound queue"
    }

    /// Whether `caller` is refused (403) on a route of `access`; `pattern` for the one
    /// owner-bound exception (PATCH /v1/owners/{id} of another owner).
    static func forbidden(_ caller: Caller, _ access: Access, _ route: HTTPRoute) -> Bool {
        switch caller {
        case .admin: return false
        case .public: return access != .ingestPublic
        case .ingest: return !(access == .ingestPublic || access == .ingestSecret)
        case .read: return access != .read
        case .write: return access != .write
        case .queue: return access != .queue
        case .ownerBound: return access != .queue || (route.method == .PATCH && route.pattern == "/v1/owners/{id}")
        }
    }

    func testEveryRouteAnswersTheMatrixForEveryKindOfKey() throws {
        let metrics = InMemoryRequestMetrics()
        let service = try TestService(test: self) { $0.requestMetrics = metrics }
        let keys: [Caller: String] = [
            .ingest: service.ingestKey, .read: service.readKey, .admin: service.adminKey,
            .write: try service.app.createKey(name: "write", scopes: [.write]),
            .queue: try service.app.createKey(name: "queue", scopes: [.queue]),
            .public: try service.app.createKey(APIKeySettings(name: "web", scopes: [.ingest], isPublic: true)),
            .ownerBound: try service.app.createKey(APIKeySettings(name: "carla", scopes: [.queue], ownerId: "rep_carla")),
        ]
        let client = try service.client()

        // Open by design: CORS preflights (a browser sends no key with them), analytics.js's
        // telemetry (`/v1/m`, counted and never stored), BrowserIngestTests covers them; and
        // lr.js, public like /healthz (a <script> tag sends no key), TrackerScriptTests'.
        let assets = ["/v1/lr.js", "/v1/lr-\(TrackerScript.version).js"]
        for asset in assets { XCTAssertEqual(try client.request("GET", asset).status, 200, asset) }
        let all = service.app.router().routes.filter { $0.pattern.hasPrefix("/v1/") && !assets.contains($0.pattern) }
        let open = all.filter { $0.method == .OPTIONS || $0.pattern == "/v1/m" }
        XCTAssertEqual(open.count, 18, "17 preflights (15 ingest paths, /v1/m, the settings) and POST /v1/m")
        for route in open where route.method == .OPTIONS {
            XCTAssertEqual(try client.request("OPTIONS", route.pattern.replacingOccurrences(of: "{writeKey}", with: "k")).status, 204, route.pattern)
        }
        let routes = all.filter { route in !open.contains { $0.method == route.method && $0.pattern == route.pattern } }
        XCTAssertEqual(routes.count, 64, "17 ingest (6 Segment, 6 one-letter, batch, import, b, events, settings), 5 lead, 4 segment (with stage metrics), 6 queue, "
                       + "4 owner/account (with GET /v1/owners/{id}/items), 7 webhook, 5 key, 2 quarantine, 2 privacy, 2 insight (drift, inventory), "
                       + "6 ruleset, 2 job, 2 experiment routes")
        let id = UUID().uuidString.lowercased()
        var matrix: [String] = []
        for route in routes {
            let path = route.pattern.split(separator: "/", omittingEmptySubsequences: false)
                .map { $0.hasPrefix("{") ? id : String($0) }.joined(separator: "/")
            let access = Self.access(route)
            let anonymous = try client.request(route.method.rawValue, path)
            XCTAssertEqual(anonymous.status, 401, "\(route.method) \(route.pattern) without a key")
            XCTAssertNotNil(anonymous.header("WWW-Authenticate"))
            var row = "\(route.method) \(route.pattern):"
            for caller in Caller.allCases {
                let answer = try client.json(route.method.rawValue, path, key: keys[caller])
                let refused = Self.forbidden(caller, access, route)
                row += " \(caller.rawValue)=\(answer.status)"
                if refused {
                    XCTAssertEqual(answer.status, 403, "\(route.method) \(route.pattern) with a \(caller.rawValue) key: \(answer.text)")
                } else {
                    XCTAssertNotEqual(answer.status, 403, "\(route.method) \(route.pattern) with a \(caller.rawValue) key: \(answer.text)")
                    XCTAssertNotEqual(answer.status, 401, "\(route.method) \(route.pattern) with a \(caller.rawValue) key: \(answer.text)")
                    XCTAssertLessThan(answer.status, 500, "\(route.method) \(route.pattern) with a \(caller.rawValue) key: \(answer.text)")
                }
                // The 403s say why: a public key's names the endpoints it may call, others the missing scope.
                if refused, caller == .public {
                    XCTAssertTrue((answer.json["detail"] as? String ?? "").hasPrefix("a public key may call only the Segment-compatible endpoints"))
                } else if refused, caller != .ownerBound {
                    XCTAssertTrue((answer.json["detail"] as? String ?? "").hasPrefix("the API key lacks scope"), answer.text)
                }
            }
            matrix.append(row)
        }
        XCTAssertEqual(try client.request("GET", "/healthz").status, 200)
        XCTAssertEqual(try client.request("GET", "/readyz").status, 200)

        let totals = metrics.snapshot()
        for route in routes {
            let count = totals.filter { $0.key.route == RouteInfo(method: route.method, pattern: route.pattern) }.map(\.value.count).reduce(0, +)
            XCTAssertEqual(count, 1 + Caller.allCases.count, "\(route.method) \(route.pattern)")
        }
        XCTAssertEqual(totals[.init(route: RouteInfo(method: .GET, pattern: "/healthz"), statusClass: 2)]?.count, 1)
        XCTAssertEqual(totals[.init(route: RouteInfo(method: .GET, pattern: "/v1/lr.js"), statusClass: 2)]?.count, 1)
        XCTAssertNil(totals.keys.first { $0.route.pattern.contains(id) }, "metrics are keyed by pattern, never by path")
        if ProcessInfo.processInfo.environment["LEADROUTER_PRINT_MATRIX"] != nil { print(matrix.joined(separator: "\n")) }
    }
}
