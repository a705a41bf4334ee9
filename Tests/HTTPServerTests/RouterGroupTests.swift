import Foundation
import Logging
import XCTest
@testable import HTTPServer

/// A context with what the test middleware establishes: a user and the layers passed.
private struct TestContext: RequestContext {
    let route: RouteInfo
    var user: String?
    var trace: [String] = []
    init(route: RouteInfo) { self.route = route }
}

/// Adds its name to the context on the way in and to `X-Trace` on the way out.
private struct Tag: RouterMiddleware {
    let name: String
    func handle(_ request: HTTPRequest, context: TestContext,
                next: (HTTPRequest, TestContext) throws -> HTTPResponse) throws -> HTTPResponse {
        var context = context
        context.trace.append(name)
        var response = try next(request, context)
        response.headers.add("X-Trace", name)
        return response
    }
}

/// Sets `context.user` from `X-User`, or answers 401 itself without calling `next`.
private struct RequireUser: RouterMiddleware {
    func handle(_ request: HTTPRequest, context: TestContext,
                next: (HTTPRequest, TestContext) throws -> HTTPResponse) throws -> HTTPResponse {
        guard let user = request.headers["X-User"] else { throw HTTPError(.unauthorized, detail: "who are you?") }
        var context = context
        context.user = user
        return try next(request, context)
    }
}

/// An application error that maps itself to a problem document.
private struct OutOfStock: HTTPResponseError {
    let sku: String
    var status: HTTPStatus { .conflict }
    var headers: HTTPHeaders { ["Retry-After": "30"] }
    var problemTitle: String? { "Out of stock" }
    var problemDetail: String? { "\(sku) is out of stock" }
    var problemType: String { "https://example.com/problems/out-of-stock" }
    var problemErrors: [ProblemFieldError] { [.init(pointer: "/sku", detail: "is out of stock")] }
}

/// An error that maps to nothing (a 500), and a middleware that maps it to a 503.
private struct BackendDown: Error {}
private struct BackendUnavailable: HTTPResponseError { var status: HTTPStatus { .serviceUnavailable } }
private struct MapBackendDown: RouterMiddleware {
    func handle(_ request: HTTPRequest, context: TestContext,
                next: (HTTPRequest, TestContext) throws -> HTTPResponse) throws -> HTTPResponse {
        do { return try next(request, context) } catch is BackendDown { throw BackendUnavailable() }
    }
}

/// A value behind a lock, for counting from handlers.
private final class Box<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func withLock<R>(_ body: (inout Value) -> R) -> R { lock.lock(); defer { lock.unlock() }; return body(&value) }
}

private final class RecordingMetrics: RequestMetricsRecorder {
    let samples = Box<[RequestSample]>([])
    func record(_ sample: RequestSample) { samples.withLock { $0.append(sample) } }
}

final class RouterGroupTests: XCTestCase {
    private func request(_ path: String, method: HTTPMethod = .GET, headers: HTTPHeaders = [:]) -> HTTPRequest {
        HTTPRequest(head: HTTPRequestHead(method: method, target: path, path: path, rawQuery: nil, version: .http11,
                                          headers: headers, keepAlive: true, expectsContinue: false),
                    requestID: "req-7")
    }

    /// Routes `request` like the server does and runs it through `HandlerRunner`.
    private func answer(_ router: HTTPRouter, _ request: HTTPRequest) -> HTTPResponse? {
        guard case .found(let route, let parameters) = router.match(method: request.method, path: request.head.path) else {
            return nil
        }
        var request = request
        request.pathParameters = parameters
        var logger = Logger(label: "test.router-group")
        logger.logLevel = .critical
        return HandlerRunner.run(route.handler, request, logger: logger)
    }

    private func text(_ response: HTTPResponse?) -> String { response.map { String(decoding: $0.body, as: UTF8.self) } ?? "" }
    private func json(_ response: HTTPResponse?) -> [String: Any] {
        (response.flatMap { try? JSONSerialization.jsonObject(with: Data($0.body)) } as? [String: Any]) ?? [:]
    }

    func testGroupPrefixesJoinAndNest() {
        var router = HTTPRouter()
        router.group("/v1", context: TestContext.self) { v1 in
            v1.get("/ping") { _, _ in HTTPResponse(status: .ok) }
            v1.group("/leads") { leads in
                leads.get { _, context in HTTPResponse(status: .ok, body: Array(context.route.pattern.utf8)) }
                leads.get("/{id}") { request, context in
                    HTTPResponse(status: .ok, body: Array("\(context.route) \(request.pathParameters["id"] ?? "")".utf8))
                }
                leads.patch("{id}", maxBodyBytes: 512) { _, _ in HTTPResponse(status: .noContent) }
            }
            v1.group("/") { slash in slash.get("/x/") { _, _ in HTTPResponse(status: .ok) } }
        }
        router.group { root in root.get { _, _ in HTTPResponse(status: .ok) } }
        XCTAssertEqual(router.routes.map(\.pattern), ["/v1/ping", "/v1/leads", "/v1/leads/{id}", "/v1/leads/{id}", "/v1/x/", "/"])
        XCTAssertEqual(router.routes.map(\.method), [.GET, .GET, .GET, .PATCH, .GET, .GET])
        XCTAssertEqual(router.routes[3].maxBodyBytes, 512)
        XCTAssertEqual(text(answer(router, request("/v1/leads"))), "/v1/leads")
        XCTAssertEqual(text(answer(router, request("/v1/leads/a%20b"))), "GET /v1/leads/{id} a b")
        XCTAssertEqual(answer(router, request("/v1/leads/1", method: .HEAD))?.status, .ok, "HEAD still uses the GET route")
    }

    func testMiddlewareRunsOuterFirstAndParentGroupsBeforeChildren() {
        var router = HTTPRouter()
        router.group("/a", context: TestContext.self, middleware: [Tag(name: "outer"), Tag(name: "second")]) { a in
            a.get("/plain") { _, context in HTTPResponse(status: .ok, body: Array(context.trace.joined(separator: ",").utf8)) }
            a.group("/b", middleware: [Tag(name: "inner")]) { b in
                b.get { _, context in HTTPResponse(status: .ok, body: Array(context.trace.joined(separator: ",").utf8)) }
            }
        }
        let nested = answer(router, request("/a/b"))
        XCTAssertEqual(text(nested), "outer,second,inner", "the handler sees every layer, outermost first")
        XCTAssertEqual(nested?.headers.values("X-Trace"), ["inner", "second", "outer"], "responses unwind innermost first")
        XCTAssertEqual(text(answer(router, request("/a/plain"))), "outer,second", "a child's middleware stays in the child")
    }

    func testHandlerReadsWhatMiddlewareEstablishedAndMiddlewareMayAnswerItself() {
        var router = HTTPRouter()
        let counter = Box(0)
        router.group("/me", context: TestContext.self, middleware: [RequireUser()]) { me in
            me.get { _, context in
                counter.withLock { $0 += 1 }
                return HTTPResponse(status: .ok, body: Array("hello \(context.user ?? "?")".utf8))
            }
        }
        XCTAssertEqual(text(answer(router, request("/me", headers: ["X-User": "lena"]))), "hello lena")
        let refused = answer(router, request("/me"))
        XCTAssertEqual(refused?.status, .unauthorized)
        XCTAssertEqual(json(refused)["detail"] as? String, "who are you?")
        XCTAssertEqual(json(refused)["request_id"] as? String, "req-7")
        XCTAssertEqual(counter.withLock { $0 }, 1, "a middleware that throws never reaches the handler")
    }

    func testErrorsBecomeProblemDocumentsThroughTheProtocol() {
        var router = HTTPRouter()
        router.group(context: TestContext.self, middleware: [MapBackendDown()]) { root in
            root.get("/stock") { _, _ in throw OutOfStock(sku: "sku-1") }
            root.get("/down") { _, _ in throw BackendDown() }
            root.get("/teapot") { _, _ in throw HTTPError(HTTPStatus(418, "I'm a teapot"), detail: "short and stout") }
            root.get("/other") { _, _ in throw CocoaError(.fileNoSuchFile) }
        }
        let stock = answer(router, request("/stock"))
        XCTAssertEqual(stock?.status, .conflict)
        XCTAssertEqual(stock?.headers["Content-Type"], "application/problem+json")
        XCTAssertEqual(stock?.headers["Retry-After"], "30")
        let document = json(stock)
        XCTAssertEqual(document["title"] as? String, "Out of stock")
        XCTAssertEqual(document["detail"] as? String, "sku-1 is out of stock")
        XCTAssertEqual(document["type"] as? String, "https://example.com/problems/out-of-stock")
        XCTAssertEqual(document["status"] as? Int, 409)
        XCTAssertEqual(document["request_id"] as? String, "req-7")
        XCTAssertEqual((document["errors"] as? [[String: String]])?.first?["pointer"], "/sku")

        let down = answer(router, request("/down"))
        XCTAssertEqual(down?.status, .serviceUnavailable, "a middleware maps one error to another")
        XCTAssertEqual(json(down)["title"] as? String, "Service Unavailable", "defaults: the reason as title")
        XCTAssertEqual(json(down)["type"] as? String, "about:blank")

        XCTAssertEqual(answer(router, request("/teapot"))?.status.code, 418, "HTTPError is one conformance")
        let other = answer(router, request("/other"))
        XCTAssertEqual(other?.status, .internalServerError, "anything else is a 500")
        XCTAssertEqual(json(other)["detail"] as? String, "The server failed to handle the request.")
    }

    func testNotFoundAndMethodNotAllowedAreTheRoutersOwn() {
        var router = HTTPRouter()
        router.group("/v1/leads", context: TestContext.self, middleware: [RequireUser()]) { leads in
            leads.get("/{id}") { _, _ in HTTPResponse(status: .ok) }
            leads.patch("/{id}") { _, _ in HTTPResponse(status: .ok) }
            leads.get("/export") { _, _ in HTTPResponse(status: .ok, body: Array("export".utf8)) }
        }
        guard case .notFound = router.match(method: .GET, path: "/v1/leads") else { return XCTFail("the prefix alone is no route") }
        guard case .notFound = router.match(method: .GET, path: "/v1/leads/1/x") else { return XCTFail("404 expected") }
        guard case .methodNotAllowed(let allow) = router.match(method: .DELETE, path: "/v1/leads/1") else {
            return XCTFail("405 expected")
        }
        XCTAssertEqual(allow, [.GET, .PATCH, .HEAD])
        XCTAssertEqual(text(answer(router, request("/v1/leads/export", headers: ["X-User": "u"]))), "export",
                       "a literal still wins over a parameter")
    }

    func testRequestMetricsRecordRoutePatternStatusAndThrownErrors() throws {
        let recorder = RecordingMetrics()
        let memory = InMemoryRequestMetrics()
        var router = HTTPRouter()
        router.group(context: TestContext.self, middleware: [RequestMetrics(recorder: recorder), RequestMetrics(recorder: memory)]) { root in
            root.group("/v1/leads", middleware: [RequireUser()]) { leads in
                leads.get("/{id}") { _, _ in HTTPResponse(status: .ok) }
                leads.post("/{id}/fail") { _, _ in throw BackendDown() }
            }
        }
        _ = answer(router, request("/v1/leads/1", headers: ["X-User": "u"]))
        _ = answer(router, request("/v1/leads/2", headers: ["X-User": "u"]))
        _ = answer(router, request("/v1/leads/3"))
        _ = answer(router, request("/v1/leads/3/fail", method: .POST, headers: ["X-User": "u"]))

        let samples = recorder.samples.withLock { $0 }
        XCTAssertEqual(samples.map(\.route.pattern), ["/v1/leads/{id}", "/v1/leads/{id}", "/v1/leads/{id}", "/v1/leads/{id}/fail"])
        XCTAssertEqual(samples.map(\.status.code), [200, 200, 401, 500])
        XCTAssertTrue(samples.allSatisfy { $0.duration >= .zero })

        let totals = memory.snapshot()
        let lead = RouteInfo(method: .GET, pattern: "/v1/leads/{id}")
        XCTAssertEqual(totals[.init(route: lead, statusClass: 2)]?.count, 2)
        XCTAssertEqual(totals[.init(route: lead, statusClass: 4)]?.count, 1)
        XCTAssertEqual(totals[.init(route: RouteInfo(method: .POST, pattern: "/v1/leads/{id}/fail"), statusClass: 5)]?.count, 1)
        XCTAssertEqual(totals.count, 3)
        let ok = try XCTUnwrap(totals[.init(route: lead, statusClass: 2)])
        XCTAssertGreaterThanOrEqual(ok.totalDuration, ok.maxDuration)
    }

    func testGroupsServeOverRealSockets() throws {
        var router = testRouter()
        router.group("/v2", context: TestContext.self, middleware: [Tag(name: "t"), RequireUser()]) { v2 in
            v2.get("/whoami") { _, context in .json(["user": context.user ?? "", "trace": context.trace.joined()]) }
            v2.post("/stock", maxBodyBytes: 8) { _, _ in throw OutOfStock(sku: "sku-9") }
        }
        let server = try startServer(self, router: router)
        let client = try LoopbackClient(port: server.port!)
        try client.send("GET /v2/whoami HTTP/1.1\r\nHost: x\r\nX-User: anna\r\n\r\n")
        let who = try XCTUnwrap(client.readResponse())
        XCTAssertEqual(who.json()?["user"] as? String, "anna")
        XCTAssertEqual(who.headers["X-Trace"], "t")
        try client.send("POST /v2/stock HTTP/1.1\r\nHost: x\r\nX-User: anna\r\nContent-Length: 2\r\nX-Request-Id: r-1\r\n\r\n{}")
        let stock = try XCTUnwrap(client.readResponse())
        XCTAssertEqual(stock.status, 409)
        XCTAssertEqual(stock.headers["Retry-After"], "30")
        XCTAssertEqual(stock.json()?["request_id"] as? String, "r-1")
        try client.send("POST /v2/stock HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\n\r\n123456789")
        XCTAssertEqual(client.readResponse()?.status, 413, "a group route keeps its body limit")
        let next = try LoopbackClient(port: server.port!)  // a 413 closes the connection
        try next.send("DELETE /v2/whoami HTTP/1.1\r\nHost: x\r\n\r\n")
        let notAllowed = try XCTUnwrap(next.readResponse())
        XCTAssertEqual(notAllowed.status, 405)
        XCTAssertEqual(notAllowed.headers["Allow"], "GET, HEAD")
        try next.send("GET /v2 HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(next.readResponse()?.status, 404)
    }
}
