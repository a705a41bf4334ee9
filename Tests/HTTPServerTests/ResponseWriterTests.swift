import XCTest
@testable import HTTPServer

final class ResponseWriterTests: XCTestCase {
    private func serialize(_ response: HTTPResponse, method: HTTPMethod = .GET, version: HTTPVersion = .http11,
                           keepAlive: Bool = true) -> (head: [String], body: String) {
        var buffer: [UInt8] = Array("prefix".utf8)
        HTTPResponseWriter.serialize(response, requestMethod: method, version: version, keepAlive: keepAlive, into: &buffer)
        let text = String(decoding: buffer.dropFirst(6), as: UTF8.self)
        let parts = text.components(separatedBy: "\r\n\r\n")
        XCTAssertEqual(parts.count, 2, text)
        return (parts[0].components(separatedBy: "\r\n"), parts.count > 1 ? parts[1] : "")
    }

    /// Replaces the Date value (checked on its own) so lines can be compared exactly.
    private func withoutDate(_ lines: [String]) -> [String] {
        lines.map { $0.hasPrefix("Date: ") ? "Date: *" : $0 }
    }

    func testKeepAliveResponse() {
        let r = serialize(HTTPResponse(status: .ok, headers: ["Content-Type": "text/plain"], body: Array("hi".utf8)))
        XCTAssertEqual(withoutDate(r.head), ["HTTP/1.1 200 OK", "Content-Type: text/plain", "Date: *", "Content-Length: 2"])
        XCTAssertEqual(r.body, "hi")
    }

    func testCloseAndHTTP10KeepAlive() {
        let close = serialize(HTTPResponse(status: .notFound), keepAlive: false)
        XCTAssertEqual(withoutDate(close.head), ["HTTP/1.1 404 Not Found", "Date: *", "Content-Length: 0", "Connection: close"])
        let ka10 = serialize(HTTPResponse(status: .ok), version: .http10, keepAlive: true)
        XCTAssertEqual(withoutDate(ka10.head), ["HTTP/1.1 200 OK", "Date: *", "Content-Length: 0", "Connection: keep-alive"])
        let close10 = serialize(HTTPResponse(status: .ok), version: .http10, keepAlive: false)
        XCTAssertEqual(close10.head.last, "Connection: close")
    }

    func testHeadGetsLengthButNoBody() {
        let r = serialize(HTTPResponse(status: .ok, body: Array("hello".utf8)), method: .HEAD)
        XCTAssertEqual(withoutDate(r.head), ["HTTP/1.1 200 OK", "Date: *", "Content-Length: 5"])
        XCTAssertEqual(r.body, "")
    }

    func testNoContentAndNotModifiedHaveNoBodyOrLength() {
        for status in [HTTPStatus.noContent, HTTPStatus(304, "Not Modified"), HTTPStatus(101, "Switching Protocols")] {
            let r = serialize(HTTPResponse(status: status, body: Array("ignored".utf8)))
            XCTAssertEqual(withoutDate(r.head), ["HTTP/1.1 \(status.code) \(status.reason)", "Date: *"])
            XCTAssertEqual(r.body, "")
        }
    }

    func testServerOwnedAndUnsafeHeadersAreNotPassedThrough() {
        let headers: HTTPHeaders = ["content-length": "99", "Transfer-Encoding": "chunked", "Connection": "upgrade",
                                    "Date": "yesterday", "Bad Name": "x", "X-Split": "a\r\nSet-Cookie: evil", "Retry-After": "1"]
        let r = serialize(HTTPResponse(status: .serviceUnavailable, headers: headers), keepAlive: false)
        XCTAssertEqual(withoutDate(r.head), ["HTTP/1.1 503 Service Unavailable", "X-Split: a  Set-Cookie: evil", "Retry-After: 1",
                                             "Date: *", "Content-Length: 0", "Connection: close"])
    }

    func testDateIsIMFFixdate() throws {
        XCTAssertEqual(HTTPDate.imfFixdate(epochSeconds: 784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT")
        XCTAssertEqual(HTTPDate.imfFixdate(epochSeconds: 0), "Thu, 01 Jan 1970 00:00:00 GMT")
        XCTAssertEqual(HTTPDate.imfFixdate(epochSeconds: 951_782_400), "Tue, 29 Feb 2000 00:00:00 GMT")
        XCTAssertEqual(HTTPDate.imfFixdate(epochSeconds: 1_795_651_199), "Wed, 25 Nov 2026 23:59:59 GMT")
        XCTAssertEqual(HTTPDate.imfFixdate(epochSeconds: -1), "Wed, 31 Dec 1969 23:59:59 GMT")
        let line = try XCTUnwrap(serialize(HTTPResponse(status: .ok)).head.first { $0.hasPrefix("Date: ") })
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        let date = try XCTUnwrap(formatter.date(from: String(line.dropFirst(6))), line)
        XCTAssertLessThan(abs(date.timeIntervalSinceNow), 5)
        XCTAssertEqual(formatter.string(from: date), String(line.dropFirst(6)))
    }

    func testContinueLine() {
        XCTAssertEqual(String(decoding: HTTPResponseWriter.continueLine, as: UTF8.self), "HTTP/1.1 100 Continue\r\n\r\n")
    }
}

final class ProblemJSONTests: XCTestCase {
    private func object(_ response: HTTPResponse) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])
    }

    func testProblemDocumentShape() throws {
        let r = HTTPResponse.problem(.unprocessableContent, detail: "2 messages are invalid",
                                     errors: [ProblemFieldError(pointer: "/batch/3/userId", detail: "is required"),
                                              ProblemFieldError(pointer: "/batch/7/timestamp", detail: "is not a date")],
                                     requestID: "req-1", headers: ["Retry-After": "3"])
        XCTAssertEqual(r.status.code, 422)
        XCTAssertEqual(r.headers["content-type"], "application/problem+json")
        XCTAssertEqual(r.headers["retry-after"], "3")
        let o = try object(r)
        XCTAssertEqual(o["type"] as? String, "about:blank")
        XCTAssertEqual(o["title"] as? String, "Unprocessable Content")
        XCTAssertEqual(o["status"] as? Int, 422)
        XCTAssertEqual(o["detail"] as? String, "2 messages are invalid")
        XCTAssertEqual(o["request_id"] as? String, "req-1")
        let errors = try XCTUnwrap(o["errors"] as? [[String: String]])
        XCTAssertEqual(errors, [["pointer": "/batch/3/userId", "detail": "is required"],
                                ["pointer": "/batch/7/timestamp", "detail": "is not a date"]])
    }

    func testMinimalProblemOmitsAbsentMembers() throws {
        let r = HTTPResponse.problem(.notFound, title: "No such lead", type: "https://leadrouter.dev/problems/not-found")
        XCTAssertEqual(String(decoding: r.body, as: UTF8.self),
                       #"{"status":404,"title":"No such lead","type":"https://leadrouter.dev/problems/not-found"}"#)
    }

    func testHTTPErrorBecomesItsProblem() throws {
        let error = HTTPError(.conflict, detail: "already claimed", errors: [ProblemFieldError(pointer: "/id", detail: "taken")])
        let r = error.response(requestID: "r9")
        XCTAssertEqual(r.status, .conflict)
        let o = try object(r)
        XCTAssertEqual(o["title"] as? String, "Conflict")
        XCTAssertEqual(o["detail"] as? String, "already claimed")
        XCTAssertEqual(o["request_id"] as? String, "r9")
        XCTAssertEqual(error.description, "409 Conflict: already claimed")
    }

    func testJSONHelper() throws {
        struct Health: Encodable {
            var status = "ok"
            var leadCount = 3
            enum CodingKeys: String, CodingKey { case status, leadCount = "lead_count" }
        }
        let r = HTTPResponse.json(Health(), status: .created)
        XCTAssertEqual(r.status, .created)
        XCTAssertEqual(r.headers["Content-Type"], "application/json")
        XCTAssertEqual(String(decoding: r.body, as: UTF8.self), #"{"lead_count":3,"status":"ok"}"#)
    }

    func testJSONEncodingFailureIsA500Problem() throws {
        let r = HTTPResponse.json(["x": Double.nan])
        XCTAssertEqual(r.status.code, 500)
        XCTAssertEqual(r.headers["content-type"], "application/problem+json")
    }
}
