import Foundation
import Segmentation
import XCTest
@testable import Ingest

final class SegmentMessageDecoderTests: XCTestCase {
    let decoder = SegmentMessageDecoder()
    // After the timestamps the tests send (2026-11-24): an event time may be at most 24 h ahead.
    let received = Date(timeIntervalSince1970: 1_796_000_000)

    private func bytes(_ json: String) -> [UInt8] { Array(json.utf8) }

    func testTrackWithEveryField() throws {
        let m = try decoder.decodeSingle(bytes("""
            {"type":"track","userId":"u1","anonymousId":"a1","messageId":"m-1","event":"Product Added",
             "properties":{"sku":"RUN-42","price":89.5},"context":{"campaign":{"medium":"cpc"},"traits":{"email":"x@y.de"}},
             "timestamp":"2026-11-24T10:00:00.250Z"}
            """), kind: .track, receivedAt: received)
        XCTAssertEqual(m.kind, .track)
        XCTAssertEqual(m.messageId, "m-1")
        XCTAssertTrue(m.messageIdProvided)
        XCTAssertEqual(m.userId, "u1")
        XCTAssertEqual(m.anonymousId, "a1")
        XCTAssertEqual(m.event, "Product Added")
        XCTAssertEqual(m.properties["sku"], .string("RUN-42"))
        XCTAssertEqual(m.properties["price"], .number(89.5))
        XCTAssertEqual(m.context["campaign"]?["medium"], .string("cpc"))
        XCTAssertEqual(m.traits["email"], .string("x@y.de"))
        XCTAssertEqual(m.occurredAt.timeIntervalSince1970, ISO8601.parse("2026-11-24T10:00:00.250Z")!.timeIntervalSince1970, accuracy: 0.0005)
    }

    func testTimestampIsCorrectedForClockSkewWithSentAt() throws {
        // Device clock one hour fast: the event happened 10 s before it was sent.
        let m = try decoder.decodeSingle(bytes("""
            {"userId":"u1","event":"x","timestamp":"2026-11-24T11:00:00Z","sentAt":"2026-11-24T11:00:10Z"}
            """), kind: .track, receivedAt: received)
        XCTAssertEqual(m.occurredAt.timeIntervalSince(received), -10, accuracy: 0.001)
    }

    func testMissingTimestampMeansReceivedAndMissingMessageIdIsGenerated() throws {
        let m = try decoder.decodeSingle(bytes(#"{"anonymousId":"a","event":"x","userId":42}"#), kind: .track, receivedAt: received)
        XCTAssertEqual(m.occurredAt, received)
        XCTAssertFalse(m.messageIdProvided)
        XCTAssertEqual(m.messageId.count, 36)
        XCTAssertEqual(m.userId, "42")
    }

    func testEveryErrorIsReportedWithItsPointer() {
        XCTAssertThrowsError(try decoder.decodeSingle(bytes("""
            {"type":"identify","properties":[],"timestamp":"yesterday","userId":{"a":1}}
            """), kind: .track, receivedAt: received)) { error in
            let rejection = error as! SegmentMessageDecoder.Rejection
            XCTAssertEqual(Set(rejection.errors.map(\.pointer)), ["/type", "/properties", "/timestamp", "/userId"])
            XCTAssertTrue(rejection.errors.contains { $0.pointer == "/type" && $0.detail.contains("/v1/track") })
        }
        XCTAssertThrowsError(try decoder.decodeSingle(bytes(#"{"event":"x"}"#), kind: .track, receivedAt: received)) {
            XCTAssertEqual(($0 as! SegmentMessageDecoder.Rejection).errors,
                           [MessageFieldError(pointer: "/userId", detail: "userId or anonymousId is required")])
        }
        XCTAssertThrowsError(try decoder.decodeSingle(bytes(#"{"userId":"u"}"#), kind: .track, receivedAt: received)) {
            XCTAssertEqual(($0 as! SegmentMessageDecoder.Rejection).errors.map(\.pointer), ["/event"])
        }
        XCTAssertThrowsError(try decoder.decodeSingle(bytes(#"{"userId":"u""#), kind: .track, receivedAt: received)) {
            XCTAssertEqual(($0 as! SegmentMessageDecoder.Rejection).title, "Malformed JSON")
        }
        XCTAssertThrowsError(try decoder.decodeSingle(bytes("[1]"), kind: .track, receivedAt: received))
    }

    func testAliasAndGroupRequirements() throws {
        let alias = try decoder.decodeSingle(bytes(#"{"previousId":"anon-1","userId":"u1"}"#), kind: .alias, receivedAt: received)
        XCTAssertEqual(alias.previousId, "anon-1")
        XCTAssertThrowsError(try decoder.decodeSingle(bytes(#"{"userId":"u1"}"#), kind: .alias, receivedAt: received))
        let group = try decoder.decodeSingle(bytes(#"{"userId":"u1","groupId":"acme","traits":{"employees":120}}"#),
                                             kind: .group, receivedAt: received)
        XCTAssertEqual(group.groupId, "acme")
        XCTAssertEqual(group.traits["employees"], .number(120))
    }

    func testBatchInheritsContextAndReportsPerMessagePointers() throws {
        let (messages, writeKey) = try decoder.decodeBatch(bytes("""
            {"writeKey":"lr_x","context":{"library":{"name":"analytics-python"}},"batch":[
              {"type":"track","userId":"u1","event":"Product Viewed","context":{"ip":"1.2.3.4"}},
              {"type":"page","anonymousId":"a1","name":"Shipping","properties":{"path":"/shipping"}}]}
            """), receivedAt: received)
        XCTAssertEqual(writeKey, "lr_x")
        XCTAssertEqual(messages.map(\.kind), [.track, .page])
        XCTAssertEqual(messages[0].context["library"]?["name"], .string("analytics-python"))
        XCTAssertEqual(messages[0].context["ip"], .string("1.2.3.4"))
        XCTAssertEqual(messages[1].event, "Shipping")

        XCTAssertThrowsError(try decoder.decodeBatch(bytes("""
            {"batch":[{"type":"track","userId":"u","event":"ok"},{"userId":"u"},{"type":"track","event":"x"}]}
            """), receivedAt: received)) {
            let pointers = ($0 as! SegmentMessageDecoder.Rejection).errors.map(\.pointer)
            XCTAssertEqual(pointers, ["/batch/1/type", "/batch/2/userId"])
        }
    }

    /// `name` is checked even when `event` is there (found by schemathesis: `event ?? name`
    /// never looked at a bad `name`).
    func testNameIsCheckedBesideEvent() {
        XCTAssertThrowsError(try decoder.decodeSingle(bytes(#"{"userId":"u","event":"e","name":1.5}"#), kind: .track, receivedAt: received)) {
            XCTAssertEqual(($0 as! SegmentMessageDecoder.Rejection).errors.map(\.pointer), ["/name"])
        }
    }

    /// A shared `context` that is not an object refuses the body (found by schemathesis: it was
    /// dropped silently from every message); `null` is the same as none.
    func testBatchContextMustBeAnObject() throws {
        XCTAssertThrowsError(try decoder.decodeBatchEach(bytes(#"{"context":[null],"batch":[{"type":"track","userId":"u","event":"e"}]}"#),
                                                         receivedAt: received)) {
            XCTAssertEqual(($0 as! SegmentMessageDecoder.Rejection).errors.map(\.pointer), ["/context"])
        }
        let decoded = try decoder.decodeBatchEach(bytes(#"{"context":null,"batch":[{"type":"track","userId":"u","event":"e"}]}"#),
                                                  receivedAt: received)
        XCTAssertEqual(decoded.accepted.count, 1)
    }

    func testLimits() {
        var limits = IngestLimits()
        limits.maxMessageBytes = 100
        limits.maxBatchMessages = 2
        let small = SegmentMessageDecoder(limits: limits)
        let big = #"{"userId":"u","event":"x","properties":{"pad":"\#(String(repeating: "p", count: 200))"}}"#
        XCTAssertThrowsError(try small.decodeSingle(bytes(big), kind: .track, receivedAt: received)) {
            XCTAssertEqual(($0 as! SegmentMessageDecoder.Rejection).title, "Message too large")
        }
        XCTAssertThrowsError(try small.decodeBatch(bytes(#"{"batch":[\#(big.replacingOccurrences(of: "{\"userId", with: "{\"type\":\"track\",\"userId"))]}"#), receivedAt: received)) {
            XCTAssertEqual(($0 as! SegmentMessageDecoder.Rejection).errors.first?.pointer, "/batch/0")
        }
        let three = #"{"batch":[{"type":"track","userId":"u","event":"a"},{"type":"track","userId":"u","event":"b"},{"type":"track","userId":"u","event":"c"}]}"#
        XCTAssertThrowsError(try small.decodeBatch(bytes(three), receivedAt: received)) {
            XCTAssertEqual(($0 as! SegmentMessageDecoder.Rejection).errors.first?.detail, "3 messages; the limit is 2")
        }
    }
}
