import Foundation
import XCTest
@testable import Profiles
@testable import RulesTools
@testable import Segmentation

/// Decay by half-life, per-rule caps, late-event points, bands.
final class ScoringTests: XCTestCase {
    func testDecayByHalfLife() {
        let engine = Engine(load(sampleYAML))
        let s = engine.evaluate(state: LeadState(), event: ev("Product Viewed", 0), now: t0).newState
        XCTAssertEqual(s.score, 3)
        XCTAssertEqual(s.scoreAt, t0)
        let half = engine.evaluate(state: s, now: at(14 * day).date)
        XCTAssertEqual(half.newState.score, 1.5, accuracy: 1e-12)
        XCTAssertEqual(half.decision.score, 1.5)
        let quarter = engine.evaluate(state: s, now: at(7 * day).date)
        XCTAssertEqual(quarter.newState.score, 3 * pow(0.5, 0.5), accuracy: 1e-12)
        // Decay composes: 7d then 7d more equals 14d at once.
        let twice = engine.evaluate(state: quarter.newState, now: at(14 * day).date)
        XCTAssertEqual(twice.newState.score, 1.5, accuracy: 1e-12)
        // `now` earlier than the stored score time never grows the score.
        XCTAssertEqual(engine.evaluate(state: half.newState, now: at(day).date).newState.score, 1.5, accuracy: 1e-12)
    }

    func testPerRuleCapBoundsTheDecayedContribution() {
        let engine = Engine(load(sampleYAML))
        var s = LeadState()
        var last: Evaluation?
        for i in 0..<12 { last = engine.evaluate(state: s, event: ev("Product Viewed", Int64(i)), now: at(Int64(i))); s = last!.newState }
        XCTAssertEqual(s.score, 30, accuracy: 1e-9, "10 views reach the cap of 30; views 11 and 12 add nothing")
        let rule = last!.decision.explanation.score!.rules[0]
        XCTAssertEqual(rule.points, 3)
        XCTAssertEqual(rule.added, 0)
        XCTAssertTrue(rule.capped)
        XCTAssertEqual(rule.cap, 30)
        // After one half-life the contribution is 15, so the rule can add again up to the cap.
        let r = engine.evaluate(state: s, event: ev("Product Viewed", 14 * day + 11), now: at(14 * day + 11))
        XCTAssertEqual(r.newState.score, 18, accuracy: 1e-6)
        // Uncapped rules add in full on top.
        let p = engine.evaluate(state: r.newState, event: ev("Pricing Requested", 14 * day + 12), now: at(14 * day + 12))
        XCTAssertEqual(p.newState.score, 58, accuracy: 1e-6)
        XCTAssertEqual(p.decision.band, "product_email_series")
        let q = engine.evaluate(state: p.newState, event: ev("page_viewed", 14 * day + 13, properties: ["path": .string("/returns")]),
                                now: at(14 * day + 13))
        XCTAssertEqual(q.newState.score, 63, accuracy: 1e-6)
        XCTAssertEqual(q.decision.band, "route_to_sales")
    }

    func testLateEventAddsDecayedPoints() {
        let engine = Engine(load(sampleYAML))
        let r = engine.evaluate(state: LeadState(), event: ev("Pricing Requested", 0), now: at(14 * day))
        XCTAssertEqual(r.newState.score, 20, accuracy: 1e-9, "40 points, one half-life old")
        XCTAssertEqual(r.decision.explanation.score?.rules.first?.added, 20)
        XCTAssertEqual(r.decision.band, "nurture_only")
    }

    func testScoreExplanation() throws {
        let engine = Engine(load(sampleYAML))
        let s = engine.evaluate(state: LeadState(), event: ev("Product Viewed", 0), now: t0).newState
        let r = engine.evaluate(state: s, event: ev("Pricing Requested", 14 * day), now: at(14 * day))
        let e = try XCTUnwrap(r.decision.explanation.score)
        XCTAssertEqual(e.previous, 3)
        XCTAssertEqual(e.previousAt, t0)
        XCTAssertEqual(e.decayed, 1.5)
        XCTAssertEqual(e.halfLife, "14d")
        XCTAssertEqual(e.rules, [ScoreRuleApplication(rule: "event.type == \"requested_pricing\"", points: 40, added: 40, cap: nil, capped: false,
                                                      age: nil, text: "40 points → 40")])
        XCTAssertEqual(e.score, 41.5)
        XCTAssertEqual(e.band, "product_email_series")
        XCTAssertEqual(e.text, "3, 14 days ago, half-life 14d → 1.5 + 40 = 41.5 (band product_email_series)")
    }

    /// A late event's points decay by its age, and the explanation says so in words.
    func testScoreExplanationSpellsOutTheDecayOfALateEvent() throws {
        let engine = Engine(load(sampleYAML))
        let r = engine.evaluate(state: LeadState(), event: ev("Pricing Requested", 0), now: at(7 * day))
        let e = try XCTUnwrap(r.decision.explanation.score)
        XCTAssertEqual(e.rules.first?.age, "7d")
        XCTAssertEqual(e.rules.first?.added, 28.284)
        XCTAssertEqual(e.rules.first?.text, "40 points, 7 days ago, half-life 14d → 28.3")
        XCTAssertEqual(e.text, "0 + 28.3 = 28.3 (band nurture_only)")
        // A capped rule shows what the cap left of the decayed points.
        var s = LeadState()
        for i in 0..<10 { s = engine.evaluate(state: s, event: ev("Product Viewed", Int64(i) * minute), now: at(Int64(i) * minute)).newState }
        let late = engine.evaluate(state: s, event: ev("Product Viewed", 10 * minute - day), now: at(10 * minute))
        let capped = try XCTUnwrap(late.decision.explanation.score?.rules.first)
        XCTAssertTrue(capped.capped)
        XCTAssertEqual(capped.text, "3 points, 1 day ago, half-life 14d → 2.9, cap 30 → 0")
    }
}
