import XCTest
@testable import HTTPServer

final class RouterTests: XCTestCase {
    private func router() -> HTTPRouter {
        var r = HTTPRouter()
        let tag: (String) -> HTTPHandler = { name in { _ in HTTPResponse(status: .ok, body: Array(name.utf8)) } }
        r.add(.GET, "/healthz", tag("healthz"))
        r.add(.GET, "/v1/leads/{id}", tag("lead"))
        r.add(.PATCH, "/v1/leads/{id}", maxBodyBytes: 4096, tag("patch"))
        r.add(.DELETE, "/v1/leads/{id}", tag("delete"))
        r.add(.GET, "/v1/leads/{id}/segments", tag("segments"))
        r.add(.GET, "/v1/leads/export", tag("export"))
        r.add(.POST, "/v1/queues/{queue}/items/{item}/ack", tag("ack"))
        return r
    }

    private func name(_ match: HTTPRouter.Match) throws -> String {
        guard case .found(let route, _) = match else { XCTFail("no route: \(match)"); return "" }
        let request = HTTPRequest(head: HTTPRequestHead(method: .GET, target: "/", path: "/", rawQuery: nil,
                                                        version: .http11, headers: [:], keepAlive: true, expectsContinue: false))
        return String(decoding: try route.handler(request).body, as: UTF8.self)
    }

    func testLiteralAndParameterRoutes() throws {
        let r = router()
        XCTAssertEqual(try name(r.match(method: .GET, path: "/healthz")), "healthz")
        guard case .found(let route, let params) = r.match(method: .POST, path: "/v1/queues/high-intent/items/7/ack") else {
            return XCTFail("ack route expected")
        }
        XCTAssertEqual(route.pattern, "/v1/queues/{queue}/items/{item}/ack")
        XCTAssertEqual(params, ["queue": "high-intent", "item": "7"])
        guard case .found(let patch, let p2) = r.match(method: .PATCH, path: "/v1/leads/abc") else { return XCTFail() }
        XCTAssertEqual(patch.maxBodyBytes, 4096)
        XCTAssertEqual(p2, ["id": "abc"])
        XCTAssertEqual(try name(r.match(method: .GET, path: "/v1/leads/abc/segments")), "segments")
    }

    func testLiteralSegmentWinsOverParameter() throws {
        XCTAssertEqual(try name(router().match(method: .GET, path: "/v1/leads/export")), "export")
        XCTAssertEqual(try name(router().match(method: .GET, path: "/v1/leads/exports")), "lead")
    }

    func testSegmentsArePercentDecodedAfterSplitting() throws {
        guard case .found(_, let params) = router().match(method: .GET, path: "/v1/leads/a%2Fb%20c%zz+d") else {
            return XCTFail("an encoded slash must stay inside the segment")
        }
        XCTAssertEqual(params["id"], "a/b c%zz+d")
        XCTAssertEqual(try name(router().match(method: .GET, path: "/heal%74hz")), "healthz")
    }

    func testNotFound() {
        let r = router()
        for path in ["/", "/nope", "/healthz/", "/v1/leads", "/v1/leads//segments", "/v1/leads/1/segments/x", "*"] {
            guard case .notFound = r.match(method: .GET, path: path) else { return XCTFail("\(path) should be 404") }
        }
    }

    func testMethodNotAllowedListsAllow() {
        guard case .methodNotAllowed(let allow) = router().match(method: .POST, path: "/v1/leads/1") else {
            return XCTFail("405 expected")
        }
        XCTAssertEqual(allow, [.GET, .PATCH, .DELETE, .HEAD])
        guard case .methodNotAllowed(let allow2) = router().match(method: .GET, path: "/v1/queues/q/items/1/ack") else {
            return XCTFail("405 expected")
        }
        XCTAssertEqual(allow2, [.POST])
    }

    func testHeadUsesGetRoutesUnlessHeadIsRegistered() throws {
        var r = router()
        XCTAssertEqual(try name(r.match(method: .HEAD, path: "/healthz")), "healthz")
        r.add(.HEAD, "/healthz") { _ in HTTPResponse(status: .ok, body: Array("head".utf8)) }
        XCTAssertEqual(try name(r.match(method: .HEAD, path: "/healthz")), "head")
        XCTAssertEqual(try name(r.match(method: .GET, path: "/healthz")), "healthz")
    }
}

final class QueryTests: XCTestCase {
    private func pairs(_ raw: String?) -> [String] { HTTPQuery.parse(raw).map { "\($0.name)=\($0.value)" } }

    func testParsing() {
        XCTAssertEqual(pairs(nil), [])
        XCTAssertEqual(pairs(""), [])
        XCTAssertEqual(pairs("a=1&b=x+y&c&&d=&a=2"), ["a=1", "b=x y", "c=", "d=", "a=2"])
        XCTAssertEqual(pairs("email=a%40b.com&q=caf%C3%A9%20au+lait"), ["email=a@b.com", "q=café au lait"])
        XCTAssertEqual(pairs("x=a=b"), ["x=a=b"])
        XCTAssertEqual(pairs("k%3D=v%26"), ["k==v&"])
        XCTAssertEqual(pairs("bad=%zz%4&t=%"), ["bad=%zz%4", "t=%"])
        XCTAssertEqual(pairs("plus=%2B"), ["plus=+"])
    }

    func testRequestQueryValue() {
        let head = HTTPRequestHead(method: .GET, target: "/", path: "/", rawQuery: "a=1&a=2", version: .http11,
                                   headers: [:], keepAlive: true, expectsContinue: false)
        let request = HTTPRequest(head: head, query: HTTPQuery.parse(head.rawQuery))
        XCTAssertEqual(request.queryValue("a"), "1")
        XCTAssertNil(request.queryValue("b"))
    }
}
