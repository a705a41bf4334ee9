import Foundation
import Segmentation
import XCTest
@testable import Ingest
@testable import JSONCoding
@testable import LeadStore

/// `JSONWriter` and `DecisionJSON` must give exactly `Decision.jsonEncoder`'s bytes: stored
/// answers are compared byte for byte with the first answer, and consumers see one shape.
final class JSONWriterTests: XCTestCase {
    let encoder = Decision.jsonEncoder

    func encoded<T: Encodable>(_ value: T) throws -> String { String(decoding: try encoder.encode(value), as: UTF8.self) }

    func testStringsAndNumbersMatchJSONEncoder() throws {
        var control = ""
        for i in 0..<0x20 { control.unicodeScalars.append(Unicode.Scalar(UInt8(i))) }
        let strings = ["", "plain", "a/b \"q\" back\\slash", control + "\u{7f}é€😀\u{2028}", "https://shop.example.com/p?x=1"]
        for s in strings {
            var w = JSONWriter()
            w.string(s)
            XCTAssertEqual(String(decoding: w.bytes, as: UTF8.self), try encoded(s))
        }
        let numbers: [Double] = [0, -0.0, 1, -1, 120, 1.5, 0.1, 0.30000000000000004, 1e-7, 1e16, 12345678901234568, 1e21, 1e300, 2.2250738585072014e-308,
                                 1.7976931348623157e308, 123456789012, 0.000123, 40.123, -3.5e-5]
        for n in numbers {
            var w = JSONWriter()
            w.number(n)
            XCTAssertEqual(String(decoding: w.bytes, as: UTF8.self), try encoded(n), "\(n)")
        }
    }

    func testValuesSortKeysAsJSONEncoderDoes() throws {
        let value = Value.object([
            "b": .array([.null, .bool(true), .bool(false), .number(3), .string("x")]), "a_b": .number(1), "ab": .number(2),
            "aB": .number(3), "Ab": .number(4), "a10": .number(5), "a9": .number(6), "a.b": .object(["z": .null, "y": .array([])]),
            "a-b": .object([:]), "ä": .string("u"), "": .string("empty"),
        ])
        var w = JSONWriter()
        w.value(value)
        XCTAssertEqual(String(decoding: w.bytes, as: UTF8.self), try encoded(value))
    }

    /// Decisions from the sample ruleset over a journey (entries, exits, actions, suppressions,
    /// scores, explanations with values of every kind) encode identically.
    func testDecisionsOfASampleJourneyMatchJSONEncoder() throws {
        let yaml = try String(contentsOf: repositoryRoot.appendingPathComponent("config/segments.yaml"), encoding: .utf8)
        let engine = Engine(try Ruleset.load(yaml: yaml, fileName: "segments.yaml").ruleset)
        var state = LeadState()
        state.status = "new"
        var now = Date(timeIntervalSince1970: 1_790_000_000.123)
        let names = ["Products Searched", "Product Viewed", "Product Viewed", "Newsletter Subscribed", "Product Added", "Cart Viewed",
                     "Checkout Started", "Pricing Requested", "Demo Requested", "Order Completed", "Unknown Thing", "Webinar Attended"]
        var compared = 0
        for (i, name) in names.enumerated() {
            let event = Event(name: name, properties: ["price": .number(Double(i) * 40.5 + 0.25), "category": .string("running-shoes"),
                                                       "path": .string("/p/\(i)"), "quantity": .number(Double(i % 3))],
                              context: ["campaign": .object(["medium": .string(i % 2 == 0 ? "cpc" : "email")])],
                              occurredAt: now, messageId: "m-\(i)")
            var evaluation = engine.evaluate(state: state, event: event, now: now)
            evaluation.decision.leadId = UUID().uuidString.lowercased()
            evaluation.decision.eventId = i % 4 == 0 ? nil : UUID().uuidString.lowercased()
            if var action = evaluation.decision.actions.first {
                action.queue = "q"; action.team = "t"; action.ownerId = "o"; action.slaDueAt = Timestamp(now)
                action.assignedBy = "round_robin"; action.audience = "aud"; action.landingPage = "/lp"
                action.itemId = UUID().uuidString.lowercased(); action.script = "call \"script\" \(i)"
                action.sendAt = Timestamp(now.addingTimeInterval(7_200)); action.band = "route_to_sales"
                action.skipped = i % 3 == 0 ? [] : [AssignmentSkip(ownerId: "rep_\"a\"", step: "territory", reason: "at_capacity (25/25)"),
                                                    AssignmentSkip(ownerId: nil, step: "account", reason: "no account for example.com")]
                evaluation.decision.actions.append(action)
            }
            XCTAssertEqual(String(decoding: DecisionJSON.document(evaluation.decision).bytes, as: UTF8.self),
                           try encoded(evaluation.decision), "after \(name)")
            for (segment, explanation) in evaluation.decision.explanation.segments {
                XCTAssertEqual(String(decoding: DecisionJSON.reason(explanation).bytes, as: UTF8.self), try encoded(explanation), segment)
                compared += 1
            }
            state = evaluation.newState
            state.traits["note/\(i)"] = .string("line\n\(i)")
            XCTAssertEqual(String(decoding: LeadJSON.traits(state.traits).bytes, as: UTF8.self), try encoded(state.traits))
            XCTAssertEqual(String(decoding: LeadJSON.scoreParts(state.scoreParts).bytes, as: UTF8.self), try encoded(state.scoreParts))
            XCTAssertEqual(String(decoding: LeadJSON.memberships(state.memberships).bytes, as: UTF8.self), try encoded(state.memberships))
            if let touch = state.firstSource {
                XCTAssertEqual(String(decoding: LeadJSON.touch(touch).bytes, as: UTF8.self), try encoded(touch))
            }
            now = now.addingTimeInterval(3_600 * Double(i + 1) + 0.007)
        }
        XCTAssertGreaterThan(compared, 3, "the journey should enter and leave segments")
    }

    /// `DecisionJSON` writes each field by hand: a field added to one of these types must be
    /// added there too, or answers would silently lose it. This fails until it is.
    func testDecisionWriterKnowsEveryField() throws {
        func fields(_ value: Any) -> [String] { Mirror(reflecting: value).children.compactMap(\.label) }
        let yaml = try String(contentsOf: repositoryRoot.appendingPathComponent("config/segments.yaml"), encoding: .utf8)
        let engine = Engine(try Ruleset.load(yaml: yaml, fileName: "segments.yaml").ruleset)
        var state = LeadState()
        state.status = "new"
        let now = Date(timeIntervalSince1970: 1_790_000_000)
        let d = engine.evaluate(state: state, event: Event(name: "Pricing Requested", occurredAt: now, messageId: "m"), now: now).decision
        XCTAssertEqual(fields(d), ["leadId", "eventId", "sequence", "occurredAt", "rulesetVersion", "evaluatedAt", "segments", "primarySegment", "stage", "status",
                                   "score", "band", "actions", "suppressed", "explanation", "nextEvaluationAt", "eventType", "unknownEventType",
                                   "segmentScores"])
        XCTAssertEqual(fields(d.segments), ["entered", "exited", "current"])
        let action = try XCTUnwrap(d.actions.first)
        XCTAssertEqual(fields(action), ["channel", "segment", "sequence", "audience", "landingPage", "queue", "team", "ownerId",
                                        "slaDueAt", "assignedBy", "itemId", "skipped", "movedFrom", "script", "sendAt", "band", "experiment", "variant"])
        let score = try XCTUnwrap(d.explanation.score)
        XCTAssertEqual(fields(score), ["previous", "previousAt", "decayed", "halfLife", "rules", "score", "band", "text"])
        XCTAssertEqual(fields(try XCTUnwrap(score.rules.first)), ["rule", "points", "added", "cap", "capped", "age", "text"])
        let segment = try XCTUnwrap(d.explanation.segments.values.first)
        XCTAssertEqual(fields(segment), ["change", "enter", "exit", "clauses", "terms"])
        XCTAssertEqual(fields(try XCTUnwrap(segment.clauses.first)), ["clause", "holds", "event"])
        XCTAssertEqual(fields(try XCTUnwrap(segment.terms.first)), ["expression", "value"])
        let suppressed = try JSONDecoder().decode(SuppressedAction.self, from: Data(#"{"channel":"email","reason":"r"}"#.utf8))
        XCTAssertEqual(fields(suppressed), ["channel", "reason", "cap", "experiment", "segment"])
        XCTAssertEqual(fields(d.explanation), ["segments", "score", "status", "actions"])
        // DecisionJSON.write(_: ActionExplanation) writes each of these.
        XCTAssertEqual(fields(ActionExplanation(channel: "sales", segment: "s", field: "script")),
                       ["channel", "segment", "field", "value", "choice", "rule", "template", "missing"])
        // DecisionJSON.write(_: StatusExplanation) writes each of these.
        XCTAssertEqual(fields(try XCTUnwrap(d.explanation.status)), ["from", "to", "event", "rule", "kept", "by"])
    }
}
