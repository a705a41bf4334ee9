import Foundation
import XCTest
@testable import Cryptography
@testable import OutboundHTTP
@testable import Webhooks
@testable import HTTPAPI

/// The pure parts of webhook delivery: backoff, response-head parsing, URL splitting, the
/// event body and its signature, subscription validation.
final class WebhookUnitTests: XCTestCase {
    /// The replay's `from`: RFC 3339 as before, and a fraction of 32+ digits (ICU's SIGFPE, which
    /// ended the process) parses instead of crashing.
    func testReplayFromParsesRFC3339AndSurvivesLongFractions() {
        XCTAssertEqual(WebhookRoutes.parseTime("2026-11-24T10:00:00Z"), Date(timeIntervalSince1970: 1_795_514_400))
        XCTAssertEqual(WebhookRoutes.parseTime("2026-11-24T11:00:00.250+01:00"), Date(timeIntervalSince1970: 1_795_514_400.25))
        XCTAssertEqual(WebhookRoutes.parseTime("2026-11-24T10:00:00." + String(repeating: "0", count: 40) + "Z"),
                       Date(timeIntervalSince1970: 1_795_514_400))
        XCTAssertNil(WebhookRoutes.parseTime("yesterday"))
        XCTAssertNil(WebhookRoutes.parseTime("2026-11-24T10:00:00." + String(repeating: "0", count: 60) + "Z"))
    }

    func testBackoffDoublesUpToTheCapWithJitterThenDeadLetters() {
        let policy = RetryPolicy(base: 5, cap: 60, maxAge: 3600)
        XCTAssertEqual(policy.delay(afterAttempt: 1, maxAttempts: 10, windowAge: 0, unit: 0.999_999)!, 5, accuracy: 0.001)
        XCTAssertEqual(policy.delay(afterAttempt: 1, maxAttempts: 10, windowAge: 0, unit: 0), 2.5)
        XCTAssertEqual(policy.delay(afterAttempt: 2, maxAttempts: 10, windowAge: 0, unit: 0), 5)
        XCTAssertEqual(policy.delay(afterAttempt: 3, maxAttempts: 10, windowAge: 0, unit: 0.5), 15)
        XCTAssertEqual(policy.delay(afterAttempt: 9, maxAttempts: 10, windowAge: 0, unit: 0), 30, "capped at 60, jittered down to half")
        XCTAssertNil(policy.delay(afterAttempt: 10, maxAttempts: 10, windowAge: 0, unit: 0), "attempts used up")
        XCTAssertNil(policy.delay(afterAttempt: 2, maxAttempts: 10, windowAge: 3598, unit: 0), "the retry would pass max age")
        XCTAssertEqual(policy.delay(afterAttempt: 2, maxAttempts: 10, windowAge: 3590, unit: 0), 5)
        XCTAssertEqual(RetryPolicy(base: 1, cap: 1e9, maxAge: 1e12).delay(afterAttempt: 200, maxAttempts: 1000, windowAge: 0, unit: 0),
                       1e9 / 2, "huge attempt numbers do not overflow")
    }

    func testResponseHeadParserAcrossChunksSkipsInterimAnswers() {
        var parser = ResponseHeadParser()
        XCTAssertEqual(parser.feed(Array("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 2".utf8)), .needMore)
        XCTAssertEqual(parser.feed(Array("04 No Content\r\nX-A:  b \r\n".utf8)), .needMore)
        XCTAssertEqual(parser.feed(Array("\r\nbody".utf8)), .complete(status: 204, headers: ["x-a": "b"]))

        var redirect = ResponseHeadParser()
        XCTAssertEqual(redirect.feed(Array("HTTP/1.0 302 Found\r\nLocation: http://x/\r\n\r\n".utf8)),
                       .complete(status: 302, headers: ["location": "http://x/"]))
        var garbage = ResponseHeadParser()
        guard case .invalid = garbage.feed(Array("SSH-2.0-OpenSSH\r\n\r\n".utf8)) else { return XCTFail("accepted garbage") }
        var huge = ResponseHeadParser(maxHeadBytes: 64)
        guard case .invalid = huge.feed([UInt8](repeating: 65, count: 100)) else { return XCTFail("no head limit") }
    }

    func testOutboundURLs() {
        let url = OutboundURL("https://crm.example.com/hooks?x=1#frag")
        XCTAssertEqual(url?.secure, true); XCTAssertEqual(url?.host, "crm.example.com")
        XCTAssertEqual(url?.port, 443); XCTAssertEqual(url?.target, "/hooks?x=1")
        XCTAssertEqual(OutboundURL("http://127.0.0.1:8080")?.target, "/")
        XCTAssertEqual(OutboundURL("http://127.0.0.1:8080")?.hostHeader, "127.0.0.1:8080")
        XCTAssertEqual(OutboundURL("HTTP://[::1]:9/a")?.host, "::1")
        XCTAssertEqual(OutboundURL("http://[::1]:9/a")?.hostHeader, "[::1]:9")
        for bad in ["ftp://x/", "http://", "http://user:pw@x/", "http://x:0/", "http://x:70000/", "//x/", "http://x/a b"] {
            XCTAssertNil(OutboundURL(bad), bad)
        }
    }

    func testEventBodyWrapsThePayloadAndItsSignatureVerifies() throws {
        let created = Date(timeIntervalSince1970: 1_795_000_000.25)
        let event = WebhookEvent(outboxId: 42, topic: "lead.routed", createdAt: created, payload: Array(#"{"lead_id":"x","n":1}"#.utf8))
        XCTAssertEqual(String(decoding: event.body, as: UTF8.self),
                       #"{"id":"evt_42","type":"lead.routed","created_at":"2026-11-18T11:06:40.250Z","data":{"lead_id":"x","n":1}}"#)
        let headers = Dictionary(uniqueKeysWithValues: event.headers(secret: "whsec_test_secret_0001", timestamp: 1_795_000_100, attempt: 3))
        XCTAssertEqual(headers["X-Leadrouter-Event-Id"], "evt_42")
        XCTAssertEqual(headers["X-Leadrouter-Delivery-Attempt"], "3")
        let signature = try XCTUnwrap(headers["X-Leadrouter-Signature"])
        XCTAssertTrue(signature.hasPrefix("t=1795000100,v1="))
        XCTAssertNoThrow(try SignatureScheme.verify(header: signature, body: event.body, secret: Array("whsec_test_secret_0001".utf8),
                                                    now: 1_795_000_100, toleranceSeconds: 300))
        XCTAssertThrowsError(try SignatureScheme.verify(header: signature, body: event.body + [32], secret: Array("whsec_test_secret_0001".utf8),
                                                        now: 1_795_000_100, toleranceSeconds: 300))
        let object = try JSONSerialization.jsonObject(with: Data(event.body)) as? [String: Any]
        XCTAssertEqual((object?["data"] as? [String: Any])?["n"] as? Int, 1)
    }

    func testSubscriptionValidationReportsEveryFieldAndGeneratesASecret() throws {
        let segments: Set<String> = ["decision.high-intent.cart"]
        guard case let .failure(problems) = SubscriptionValidation.validate(
            ["url": "ftp://x", "topics": ["lead.routed", "lead.exploded"], "segments": ["nope"], "secret": "short",
             "max_attempts": 0, "colour": "red"], knownSegments: segments, defaultMaxAttempts: 12, destinations: nil) else {
            return XCTFail("accepted an invalid subscription")
        }
        XCTAssertEqual(Set(problems.errors.map(\.pointer)), ["/url", "/topics/1", "/segments/0", "/secret", "/max_attempts", "/colour"])

        guard case let .success(ok) = SubscriptionValidation.validate(
            ["url": "https://crm.example.com/h", "topics": ["segment.entered", "segment.entered", "lead.routed"],
             "segments": ["decision.high-intent.cart"]], knownSegments: segments, defaultMaxAttempts: 7, destinations: nil) else {
            return XCTFail("refused a valid subscription")
        }
        XCTAssertEqual(ok.topics, ["segment.entered", "lead.routed"], "duplicates dropped, order kept")
        XCTAssertEqual(ok.maxAttempts, 7)
        XCTAssertTrue(ok.active)
        XCTAssertTrue(ok.secret.hasPrefix("whsec_"))
        XCTAssertEqual(ok.secret.count, 6 + 44, "whsec_ + base64 of 32 bytes (Standard Webhooks)")
        guard case let .success(other) = SubscriptionValidation.validate(["url": "http://h/", "topics": ["lead.merged"]],
                                                                        knownSegments: segments, defaultMaxAttempts: 7, destinations: nil) else { return XCTFail() }
        XCTAssertNotEqual(other.secret, ok.secret)
        XCTAssertNil(other.segments)
    }
}
