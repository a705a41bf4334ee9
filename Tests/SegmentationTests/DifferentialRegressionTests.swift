import Foundation
import XCTest
@testable import Profiles
@testable import RulesTools
@testable import Segmentation

/// Disagreements the differential test found, kept as plain cases so they stay fixed.
final class DifferentialRegressionTests: XCTestCase {
    func evaluate(_ rules: String, _ steps: [(type: String, color: String?, at: String)]) throws -> Decision {
        let engine = Engine(try Ruleset.load(yaml: rules, fileName: "r.yaml").ruleset)
        var state = LeadState()
        var decision: Decision?
        for step in steps {
            let at = try XCTUnwrap(Timestamp.parse(step.at))
            let properties: [String: Value] = step.color.map { ["color": .string($0)] } ?? [:]
            let evaluation = engine.evaluate(state: state, event: Event(name: step.type, properties: properties, occurredAt: at), now: at)
            state = evaluation.newState
            decision = evaluation.decision
        }
        return try XCTUnwrap(decision)
    }

    /// Seed 179: a rule that was true at `now`, false in between and true again later. The enter
    /// holds with the red view, but so does the exit; the count falls at +69s (enter false), the
    /// exit window ends at +84m, and after 9 quiet days `inactive(9d)` makes enter true again: the
    /// lead enters then, so that is the next evaluation (not "never").
    func testRuleTrueAtNowFalseInBetweenTrueAgainIsScheduled() throws {
        let decision = try evaluate("""
            version: 1
            events: { types: [viewed, carted] }
            segments:
              - name: awareness.random.s1
                priority: 1
                enter: 'count(viewed where event.properties.color == "red", 69s) == 1 or (inactive(9d) and since(carted) != null)'
                exit: 'count(viewed where event.properties.color == "red", 84m) >= 1'
                route: { email: { sequence: s1 } }
            """, [("carted", "red", "2026-12-01T08:11:17.536Z"), ("viewed", "red", "2026-12-01T10:31:24.536Z")])
        XCTAssertEqual(decision.segments.current, [])
        XCTAssertEqual(decision.nextEvaluationAt?.description, "2026-12-10T10:31:24.536Z")
    }

    /// Seed 20261273 (with future-dated events): a click dated 8.5 s after it arrives (a client
    /// clock ahead). `since(clicked) != null` becomes true when that instant comes, and the lead
    /// enters then.
    func testFutureDatedOccurrenceSchedulesItsNullCheck() throws {
        let engine = Engine(try Ruleset.load(yaml: """
            version: 1
            events: { types: [clicked] }
            segments:
              - name: awareness.random.s1
                priority: 1
                enter: 'since(clicked) != null'
                exit: 'count(clicked, 80m) > 3'
                route: { email: { sequence: s1 } }
            """, fileName: "r.yaml").ruleset)
        let occurred = try XCTUnwrap(Timestamp.parse("2026-12-24T21:09:05.231Z"))
        let received = try XCTUnwrap(Timestamp.parse("2026-12-24T21:08:56.710Z"))
        let evaluation = engine.evaluate(state: LeadState(), event: Event(name: "clicked", occurredAt: occurred), now: received)
        XCTAssertEqual(evaluation.decision.segments.current, [])
        XCTAssertEqual(evaluation.decision.nextEvaluationAt, occurred)
        let later = engine.evaluate(state: evaluation.newState, event: nil, now: occurred)
        XCTAssertEqual(later.decision.segments.entered, ["awareness.random.s1"])
    }

    /// Seed 20261143 (engine 14a853d): a non-member's `exit` is skipped while its `enter` is false
    /// at now, but `enter` turns true at +15s and `exit` turns false at 3w + 1 ms: the lead enters
    /// then.
    func testExitOfANonMemberWhoseEnterTurnsTrueLaterIsScheduled() throws {
        let decision = try evaluate("""
            version: 1
            events: { types: [viewed] }
            segments:
              - name: awareness.random.s1
                priority: 1
                enter: 'not (count(viewed, 15s) >= 1)'
                exit: 'since(viewed) <= 3w'
                route: { email: { sequence: s1 } }
            """, [("viewed", "blue", "2026-11-23T13:10:09.952Z")])
        XCTAssertEqual(decision.segments.current, [])
        XCTAssertEqual(decision.nextEvaluationAt?.description, "2026-12-14T13:10:09.953Z")
    }
}
