import XCTest
@testable import HTTPServer

/// The in-memory recorder keys totals by interned route ids in an array; these pin down the
/// id interning and the table's growth, which a request order the router tests do not
/// produce (a later-registered route answered first) would otherwise leave untested.
final class RequestMetricsTableTests: XCTestCase {
    func testRouteInfosOfTheSameMethodAndPatternAreEqualWhereverMade() {
        let a = RouteInfo(method: .GET, pattern: "/metrics-table/{id}")
        let b = RouteInfo(method: .GET, pattern: "/metrics-table/{id}")
        let post = RouteInfo(method: .POST, pattern: "/metrics-table/{id}")
        XCTAssertEqual(a, b)
        XCTAssertEqual(a.id, b.id)
        XCTAssertEqual(Set([a, b, post]).count, 2)
        XCTAssertNotEqual(a, post)
        XCTAssertNotEqual(a, RouteInfo(method: .GET, pattern: "/metrics-table/{id}/"))
    }

    func testTotalsAreKeptPerRouteAndStatusClassInAnyOrder() {
        let memory = InMemoryRequestMetrics()
        let routes = (0..<20).map { RouteInfo(method: .GET, pattern: "/metrics-table/order/\($0)") }
        // Newest route first, then the older ones: the table must grow for the first and
        // index the others without growing.
        for (index, route) in routes.enumerated().reversed() {
            for _ in 0...index {
                memory.record(RequestSample(route: route, status: .ok, duration: .milliseconds(index)))
            }
            memory.record(RequestSample(route: route, status: .notFound, duration: .zero))
        }
        let totals = memory.snapshot()
        XCTAssertEqual(totals.count, 40)
        for (index, route) in routes.enumerated() {
            let ok = totals[.init(route: route, statusClass: 2)]
            XCTAssertEqual(ok?.count, index + 1, "\(route)")
            XCTAssertEqual(ok?.maxDuration, .milliseconds(index))
            XCTAssertEqual(ok?.totalDuration, .milliseconds(index * (index + 1)))
            XCTAssertEqual(totals[.init(route: route, statusClass: 4)]?.count, 1)
        }
    }
}
