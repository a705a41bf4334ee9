import Foundation
import Segmentation
import XCTest
@testable import Cryptography
@testable import HTTPAPI
@testable import Ingest
@testable import JSONCoding
@testable import LeadRouterService
@testable import LeadStore

/// The pieces behind `HostileInputTests`, without a server: signature timestamps, content
/// problems in JSON, the event-time window, batch splitting, the write scope, configuration.
final class HostileInputUnitTests: XCTestCase {
    let received = Date(timeIntervalSince1970: 1_795_000_000)

    func testSignatureTimestampIsOneToTwelveDigitsAndSkewNeverTraps() {
        XCTAssertEqual(SignatureScheme.parseTimestamp("1700000000"), 1_700_000_000)
        XCTAssertEqual(SignatureScheme.parseTimestamp("999999999999"), 999_999_999_999)
        for bad in ["", "-1", "+1", "1234567890123", "-9223372036854775808", "9223372036854775807", "1e3", " 1", "١٢"] {
            XCTAssertNil(SignatureScheme.parseTimestamp(bad), bad)
        }
        let secret = Array("k".utf8), body = Array("{}".utf8)
        let mac = String(repeating: "0", count: 64)
        func failure(_ header: String, now: Int) -> SignatureScheme.Failure? {
            do { try SignatureScheme.verify(header: header, body: body, secret: secret, now: now, toleranceSeconds: 300) } catch { return error }
            return nil
        }
        XCTAssertEqual(failure("t=-9223372036854775808,v1=\(mac)", now: 1_700_000_000), .malformed)
        // Extreme clocks on the server side: no overflow either.
        XCTAssertEqual(failure("t=999999999999,v1=\(mac)", now: Int.min),
                       .timestampOutsideTolerance(skewSeconds: Int.max, toleranceSeconds: 300))
        XCTAssertEqual(failure("t=0,v1=\(mac)", now: Int.max),
                       .timestampOutsideTolerance(skewSeconds: Int.max, toleranceSeconds: 300))
        XCTAssertEqual(failure("t=1000,v1=\(mac)", now: 1000), .mismatch)
    }

    func testContentProblemsAreFoundByPointerAndTheStrictParseRefusesThem() throws {
        let body = Array(#"{"a":{"b/c":["x","\u0000"]},"k\uD800":1,"n":[1e999],"ok":"\uD83D\uDE00"}"#.utf8)
        XCTAssertThrowsError(try JSONReader.parse(body)) { XCTAssertTrue(($0 as! JSONReader.Failure).isContentProblem) }
        let (value, problems) = try JSONReader.parseReportingContent(body)
        XCTAssertEqual(problems.map(\.pointer), ["/a/b~1c/1", "/k\u{FFFD}", "/n/0"])
        XCTAssertEqual(value["ok"], .string("😀"))
        XCTAssertEqual(value["n"], .array([.null]))
        // Syntax errors stay syntax errors.
        XCTAssertThrowsError(try JSONReader.parse(Array(#"{"a":"\u12"}"#.utf8))) { XCTAssertFalse(($0 as! JSONReader.Failure).isContentProblem) }
        XCTAssertThrowsError(try JSONReader.parseReportingContent(Array(#"{"a":"\u0000"#.utf8)))
    }

    /// A repeated member is dropped (the first value counts); a content problem in its value is
    /// reported at the object holding it, never under the path of the kept value. Found by
    /// probing what GenerativeIngestTests generates: a NUL in a second `"batch"` rejected the
    /// first batch's valid messages, blaming a field that held a valid value.
    func testAProblemInARepeatedMemberIsReportedAtItsObjectNotAtTheKeptValue() throws {
        let (value, problems) = try JSONReader.parseReportingContent(Array(
            #"{"a":{"x":"ok","x":["\u0000",{"y":"\uD800"}]},"batch":[1],"batch":[{"u":"\uD800"}]}"#.utf8))
        XCTAssertEqual(problems.map(\.pointer), ["/a", "/a", ""])
        XCTAssertTrue(problems.allSatisfy { $0.detail.contains("repeated member") }, "\(problems)")
        XCTAssertEqual(value["a"], .object(["x": .string("ok")]))
        XCTAssertEqual(value["batch"], .array([.number(1)]))

        let decoder = SegmentMessageDecoder()
        // Outside the kept messages: the body is refused, no message is blamed.
        let outside = #"{"batch":[{"type":"track","userId":"u","event":"e"}],"batch":[{"userId":"\u0000"}]}"#
        XCTAssertThrowsError(try decoder.decodeBatchEach(Array(outside.utf8), receivedAt: received)) {
            XCTAssertEqual(($0 as? SegmentMessageDecoder.Rejection)?.errors.map(\.pointer), [""])
        }
        // Inside a message: that message is rejected, pointing at the message, and only it.
        let inside = #"{"batch":[{"type":"track","userId":"u","event":"e","userId":"\u0000"},{"type":"track","userId":"v","event":"e"}]}"#
        let decoded = try decoder.decodeBatchEach(Array(inside.utf8), receivedAt: received)
        XCTAssertEqual(decoded.accepted.map(\.index), [1])
        XCTAssertEqual(decoded.rejected.map(\.index), [0])
        XCTAssertEqual(decoded.rejected.first?.errors.map(\.pointer), ["/batch/0"])
    }

    /// A body that is no JSON is refused naming its syntax error, even when a content problem (a
    /// NUL, a lone surrogate: valid syntax) comes before it. Found by GenerativeIngestTests: a
    /// batch with a `\u0000` early and raw invalid UTF-8 later was "not valid JSON: NUL".
    func testMalformedBodyNamesTheSyntaxErrorNotAnEarlierContentProblem() {
        let decoder = SegmentMessageDecoder()
        let body: [UInt8] = Array(#"{"batch":[{"type":"track","userId":"\u0000","event":"e"},{"userId":""#.utf8) + [0xFF] + Array(#""}]}"#.utf8)
        XCTAssertThrowsError(try decoder.decodeBatchEach(body, receivedAt: received)) {
            let rejection = $0 as? SegmentMessageDecoder.Rejection
            XCTAssertEqual(rejection?.title, "Malformed JSON")
            XCTAssertEqual(rejection?.errors.map(\.detail), ["the body is not valid JSON: invalid UTF-8 in a string at byte 69"])
        }
        let single = Array(#"{"userId":"\uD800","event":"e","x":tru}"#.utf8)
        XCTAssertThrowsError(try decoder.decodeSingle(single, kind: .track, receivedAt: received)) {
            XCTAssertEqual(($0 as? SegmentMessageDecoder.Rejection)?.errors.first?.detail.contains("unexpected character"), true, "\($0)")
        }
    }

    /// ICU, behind `ISO8601DateFormatter`, divided by zero (SIGFPE: the whole server died) on a
    /// date-time whose fraction has about 32 digits or more; one `timestamp` from a public write
    /// key was enough. Found by scripts/fuzz-ingest.sh. The fraction is cut to 9 digits first.
    func testALongFractionOfSecondsNeitherCrashesNorChangesTheTime() throws {
        for digits in [10, 31, 32, 35, 40, 43] {
            for digit in ["0", "9"] {
                let text = "2026-11-19T10:00:00." + String(repeating: digit, count: digits) + "Z"
                let parsed = try XCTUnwrap(ISO8601.parse(text), text)
                XCTAssertEqual(Timestamp(parsed).description, digit == "0" ? "2026-11-19T10:00:00.000Z" : "2026-11-19T10:00:00.999Z", text)
                let offset = "2026-11-19T10:00:00." + String(repeating: digit, count: digits) + "+01:00"
                if offset.utf8.count <= 64 { XCTAssertNotNil(ISO8601.parse(offset), offset) }  // longer: refused by length
            }
        }
        XCTAssertEqual(Timestamp.parse("2026-11-19T10:00:00." + String(repeating: "0", count: 40) + "Z")?.description, "2026-11-19T10:00:00.000Z")
        let body = #"{"userId":"u-1","event":"e","timestamp":"4052-11-19T10:00:00.000000000000000000000000000000000000000000Z"}"#
        XCTAssertThrowsError(try SegmentMessageDecoder().decodeSingle(Array(body.utf8), kind: .track, receivedAt: received)) {
            XCTAssertEqual(($0 as? SegmentMessageDecoder.Rejection)?.errors.map(\.pointer), ["/timestamp"], "year 4052: outside the window")
        }
    }

    /// Pointers are built and read by Unicode scalar, not by Character: a member name starting with
    /// a combining mark (U+20E9) glues it to the `/` before it. Found by scripts/fuzz-ingest.sh: the
    /// `/` or `~` in such a name went unescaped, and a content problem in such a member of batch
    /// message 1 refused the whole batch instead of message 1 alone.
    func testPointersAreEscapedAndReadByScalarNotByCharacter() throws {
        let (_, problems) = try JSONReader.parseReportingContent(Array(#"{"/\u20E9":"\u0000","~\u20E9":["\uD800"]}"#.utf8))
        XCTAssertEqual(problems.map(\.pointer), ["/~1\u{20E9}", "/~0\u{20E9}/0"])
        let body = #"{"batch":[{"type":"track","userId":"u","event":"e"},{"type":"track","userId":"u","event":"e","\u20E9":"\u0000"}]}"#
        let decoded = try SegmentMessageDecoder().decodeBatchEach(Array(body.utf8), receivedAt: received)
        XCTAssertEqual(decoded.accepted.map(\.index), [0])
        XCTAssertEqual(decoded.rejected.map(\.index), [1])
        XCTAssertEqual(decoded.rejected.first?.errors.map(\.pointer), ["/batch/1/\u{20E9}"])
        XCTAssertEqual(decoded.rejected.first?.reason, "/\u{20E9}")
    }

    func testEventTimeWindowAfterSkewCorrection() throws {
        let decoder = SegmentMessageDecoder()
        func pointers(_ json: String) -> [String] {
            do { _ = try decoder.decodeSingle(Array(json.utf8), kind: .track, receivedAt: received); return [] } catch { return error.errors.map(\.pointer) }
        }
        XCTAssertEqual(pointers(#"{"userId":"u","event":"x","timestamp":"0000-06-01T00:00:00.000Z"}"#), ["/timestamp"])
        XCTAssertEqual(pointers(#"{"userId":"u","event":"x","timestamp":"0001-01-01T00:00:00Z","sentAt":"9999-01-01T00:00:00Z"}"#), ["/timestamp"])
        XCTAssertEqual(pointers(#"{"userId":"u","event":"x","timestamp":"2099-01-01T00:00:00Z"}"#), ["/timestamp"])
        XCTAssertEqual(pointers(#"{"userId":"u","event":"x","sentAt":"99999-01-01T00:00:00Z"}"#), ["/sentAt"])
        XCTAssertEqual(pointers(#"{"userId":"u","event":"x","originalTimestamp":"1970-01-01T00:00:00Z"}"#), ["/originalTimestamp"])
        XCTAssertEqual(pointers(#"{"userId":"u","event":"x","timestamp":"2000-01-01T00:00:00Z"}"#), [])
        // Every pair of extreme dates: never a trap, and the result is in the window or refused.
        for t in ["0000-01-01T00:00:00.000Z", "9999-12-31T23:59:59.999Z", "2026-11-18T00:00:00Z"] {
            for s in ["0000-01-01T00:00:00.000Z", "9999-12-31T23:59:59.999Z", "2026-11-18T00:00:00Z"] {
                let json = #"{"userId":"u","event":"x","timestamp":"\#(t)","sentAt":"\#(s)"}"#
                if let m = try? decoder.decodeSingle(Array(json.utf8), kind: .track, receivedAt: received) {
                    XCTAssertEqual(m.occurredAt.timeIntervalSince(received), -(ISO8601.parse(s)!.timeIntervalSince(ISO8601.parse(t)!)), accuracy: 0.001)
                    XCTAssertLessThanOrEqual(m.occurredAt, received.addingTimeInterval(86_400))
                } else {
                    XCTAssertEqual(pointers(json), ["/timestamp"], json)
                }
            }
        }
    }

    func testBatchSplitsIntoAcceptedAndRejected() throws {
        let decoder = SegmentMessageDecoder()
        let decoded = try decoder.decodeBatchEach(Array(#"""
            {"batch":[{"type":"track","userId":"u","event":"a"},{"type":"track","userId":"u\u0000","event":"b","messageId":"m-1"},
                      7,{"type":"track","userId":"u","event":"c"}]}
            """#.utf8), receivedAt: received)
        XCTAssertEqual(decoded.accepted.map(\.index), [0, 3])
        XCTAssertEqual(decoded.rejected.map(\.index), [1, 2])
        XCTAssertEqual(decoded.rejected[0].messageId, "m-1")
        XCTAssertEqual(decoded.rejected[0].errors.map(\.pointer), ["/batch/1/userId"])
        XCTAssertEqual(decoded.rejected.map(\.reason), ["/userId", "/"])
        let long = RejectedMessage(index: 0, messageId: nil, errors: [MessageFieldError(pointer: "/batch/0/" + String(repeating: "é", count: 300), detail: "")])
        XCTAssertLessThanOrEqual(long.reason.utf8.count, 200)
    }

    func testWriteScopeParsesAndAdminImpliesIt() throws {
        XCTAssertEqual(try APIScope.parseList("read,write"), [.read, .write])
        XCTAssertTrue(APIScope.write.isGranted(by: [.admin]))
        XCTAssertFalse(APIScope.write.isGranted(by: [.read, .ingest, .queue]))
        XCTAssertFalse(APIScope.read.isGranted(by: [.write]))
    }

    func testIngestLimitsAreConfigurable() throws {
        let c = try ServiceConfiguration.resolve(file: nil, flags: [:], environment: [
            "LEADROUTER_INGEST_MAX_IDENTIFIER_BYTES": "512", "LEADROUTER_INGEST_EARLIEST_EVENT_TIME": "2010-01-01T00:00:00Z",
            "LEADROUTER_INGEST_MAX_EVENT_TIME_AHEAD": "2h", "LEADROUTER_INGEST_MAX_BATCH_MESSAGES": "100"])
        XCTAssertEqual(c.ingestLimits.maxIdentifierBytes, 512)
        XCTAssertEqual(c.ingestLimits.earliestEventTime, Date(timeIntervalSince1970: 1_262_304_000))
        XCTAssertEqual(c.ingestLimits.maxEventTimeAheadSeconds, 7200)
        XCTAssertEqual(c.ingestLimits.maxBatchMessages, 100)
        XCTAssertEqual(ServiceConfiguration().ingestLimits, IngestLimits())
        XCTAssertEqual(IngestLimits().maxIdentifierBytes, 256)
        XCTAssertEqual(IngestLimits().earliestEventTime, ISO8601.parse("2000-01-01T00:00:00Z"))
        XCTAssertEqual(IngestLimits().maxEventTimeAheadSeconds, 86_400)
        for (name, value) in [("LEADROUTER_INGEST_EARLIEST_EVENT_TIME", "yesterday"), ("LEADROUTER_INGEST_MAX_IDENTIFIER_BYTES", "0"),
                              ("LEADROUTER_INGEST_MAX_EVENT_TIME_AHEAD", "-1s"), ("LEADROUTER_INGEST_MAX_IDENTIFER_BYTES", "512")] {
            XCTAssertThrowsError(try ServiceConfiguration.resolve(file: nil, flags: [:], environment: [name: value]), name)
        }
    }
}

extension HostileInputUnitTests {
    func testDatesWithAndWithoutMillisecondsAgreeBefore1582() {
        XCTAssertEqual(ISO8601.parse("0000-01-01T00:00:00Z"), ISO8601.earliest)
        XCTAssertEqual(ISO8601.parse("0000-01-01T00:00:00Z"), ISO8601.parse("0000-01-01T00:00:00.000Z"))
        XCTAssertEqual(ISO8601.parse("1500-03-01T12:00:00Z"), ISO8601.parse("1500-03-01T12:00:00.000Z"))
        XCTAssertEqual(ISO8601.parse("2026-11-24T10:00:00Z"), ISO8601.parse("2026-11-24T10:00:00+00:00"))
        XCTAssertNil(ISO8601.parse("2026-11-24T10:00:00"))
    }
}
