import XCTest
@testable import Profiles
@testable import RulesTools
@testable import Segmentation

/// `next_evaluation_at`: exact instants for windows, inactive, since, membership.age and score.
final class NextEvaluationTests: XCTestCase {
    func testSampleCartAbandonerIsRevisitedWhenInactiveAndTheStageWindowRunOut() {
        let engine = Engine(load(sampleYAML))
        let r = runEvents(engine, [ev("Product Viewed", 0), ev("Product Added", 10 * minute)])
        // At +7d the cart leaves count(added_to_cart, 7d) but the member stays (hysteresis), so the
        // first real change is at +14d: inactive(14d) exits the segment and the stage drops.
        XCTAssertEqual(r.decision.nextEvaluationAt, at(10 * minute + 14 * day))
        let later = engine.evaluate(state: r.newState, now: at(10 * minute + 14 * day).date)
        XCTAssertEqual(later.decision.segments.exited, ["decision.high-intent.cart"])
        XCTAssertEqual(later.decision.stage, "awareness", "one product view in 30d is not consideration")
        let justBefore = engine.evaluate(state: r.newState, now: at(10 * minute + 14 * day - 1).date)
        XCTAssertEqual(justBefore.decision.segments.exited, [])
        XCTAssertEqual(justBefore.decision.stage, "decision")
    }

    func testWindowEdgeOfTheCountThatDecides() {
        let engine = exprRuleset("count(a, 7d) >= 2", exit: nil)
        var s = LeadState()
        for t in [0, 1 * day, 2 * day] { s = engine.evaluate(state: s, event: ev("a", t), now: at(t)).newState }
        let r = engine.evaluate(state: s, now: at(2 * day).date)
        // Three in the window; it stops holding when the second one (1d) leaves: 1d + 7d.
        XCTAssertEqual(r.decision.nextEvaluationAt, at(8 * day))
        XCTAssertEqual(engine.evaluate(state: r.newState, now: at(8 * day - 1).date).decision.segments.current, ["decision.test.expr"])
        XCTAssertEqual(engine.evaluate(state: r.newState, now: at(8 * day).date).decision.segments.current, [])
    }

    func testSinceThresholdIsStrict() {
        let engine = exprRuleset("since(a) > 3d", exit: nil)
        let r = engine.evaluate(state: LeadState(), event: ev("a", 0), now: t0)
        XCTAssertEqual(r.decision.nextEvaluationAt, at(3 * day + 1))
        XCTAssertEqual(engine.evaluate(state: r.newState, now: at(3 * day).date).decision.segments.current, [])
        XCTAssertEqual(engine.evaluate(state: r.newState, now: at(3 * day + 1).date).decision.segments.current, ["decision.test.expr"])
    }

    func testMembershipAge() {
        let engine = exprRuleset("count(a, 30d) >= 1", exit: "membership.age >= 2d")
        let r = engine.evaluate(state: LeadState(), event: ev("a", 0), now: t0)
        XCTAssertEqual(r.decision.segments.entered, ["decision.test.expr"])
        XCTAssertEqual(r.decision.nextEvaluationAt, at(2 * day))
        let out = engine.evaluate(state: r.newState, now: at(2 * day).date)
        XCTAssertEqual(out.decision.segments.exited, ["decision.test.expr"])
        // `enter` still holds (30d window) and a non-member's membership.age is 0: an evaluation
        // one millisecond later re-enters, and the rules say so.
        XCTAssertEqual(out.decision.nextEvaluationAt, at(2 * day + 1))
        let back = engine.evaluate(state: out.newState, now: at(2 * day + 1).date)
        XCTAssertEqual(back.decision.segments.entered, ["decision.test.expr"])
        XCTAssertEqual(back.decision.nextEvaluationAt, at(4 * day + 1))
    }

    func testDecayingScoreCrossesAThreshold() {
        let engine = Engine(load("""
        version: 1
        events: { types: [a] }
        scoring:
          half_life: 1d
          rules: [ { when: 'event.type == "a"', points: 40 } ]
          bands: [ { below: 5, action: cold }, { action: warm } ]
        segments:
          - { name: decision.hot.score, enter: 'lead.score >= 10', exit: 'lead.score < 10', route: { email: { sequence: s } } }
        """))
        let r = engine.evaluate(state: LeadState(), event: ev("a", 0), now: t0)
        XCTAssertEqual(r.decision.segments.entered, ["decision.hot.score"])
        // 40 → 10 after two half-lives; `< 10` holds from the next millisecond.
        XCTAssertEqual(r.decision.nextEvaluationAt, at(2 * day + 1))
        let out = engine.evaluate(state: r.newState, now: at(2 * day + 1).date)
        XCTAssertEqual(out.decision.segments.exited, ["decision.hot.score"])
        // Then the band changes when the score drops below 5 (three half-lives).
        XCTAssertEqual(out.decision.band, "warm")
        // 40 · 0.5^(t / 1d) reaches 5 at t = 3d; the stored score was re-based at 2d + 1 ms, so
        // floating-point rounding decides the exact millisecond: the answer is the first one at which
        // the engine itself computes `cold`.
        let next = out.decision.nextEvaluationAt!.milliseconds
        XCTAssertLessThanOrEqual(abs(next - at(3 * day).milliseconds), 1)
        XCTAssertEqual(engine.evaluate(state: out.newState, now: Timestamp(milliseconds: next).date).decision.band, "cold")
        XCTAssertEqual(engine.evaluate(state: out.newState, now: Timestamp(milliseconds: next - 1).date).decision.band, "warm")
    }

    func testNothingTimeBasedGivesNil() {
        let engine = exprRuleset("lead.country == 'DE'", exit: nil)
        XCTAssertNil(engine.evaluate(state: LeadState(country: "DE"), event: ev("a", 0), now: t0).decision.nextEvaluationAt)
    }

    func testConservativeAfterTheProbeLimit() {
        // 20 non-members kept out by an exit that holds (status is new); each `enter`
        // (count(a, 1d) * 1 >= k) flips at one occurrence's window edge without letting anyone in:
        // every edge needs a full settle.
        var yaml = "version: 1\nevents: { types: [a] }\nsegments:\n"
        for k in 1...20 {
            yaml += "  - { name: decision.k\(k).x, enter: 'count(a, 1d) * 1 >= \(k)', exit: 'lead.status == \"new\"', route: { email: { sequence: s } } }\n"
        }
        let engine = Engine(load(yaml))
        let r = twentyMinutesOfA(engine)
        XCTAssertEqual(r.decision.segments.current, [])
        // Probes the first 16 edges, then answers the 17th: earlier than any real change (there is none).
        XCTAssertEqual(r.decision.nextEvaluationAt, at(16 * minute + day))
    }

    func testShadowedStageRulesAreNotProbed() {
        // The first stage always holds, so the 20 later stage rules cannot change the stage.
        var yaml = "version: 1\nevents: { types: [a] }\nstages:\n  - { stage: s0, when: 'true' }\n"
        for k in 1...20 { yaml += "  - { stage: s\(k), when: 'count(a, 1d) * 1 >= \(k)' }\n" }
        yaml += "segments: []\n"
        let engine = Engine(load(yaml))
        let r = twentyMinutesOfA(engine)
        XCTAssertEqual(r.decision.stage, "s0")
        XCTAssertNil(r.decision.nextEvaluationAt)
    }

    func testRulesHysteresisMakesIrrelevantAreNotProbed() {
        // 20 members held by `exit: 'false'`: their `enter` rules flip at each window edge, but a
        // member only leaves by `exit`, so nothing can change.
        var yaml = "version: 1\nevents: { types: [a] }\nsegments:\n"
        for k in 1...20 {
            yaml += "  - { name: decision.k\(k).x, enter: 'count(a, 1d) * 1 >= \(k)', exit: 'false', route: { email: { sequence: s } } }\n"
        }
        let engine = Engine(load(yaml))
        let r = twentyMinutesOfA(engine)
        XCTAssertEqual(r.decision.segments.current.count, 20)
        XCTAssertNil(r.decision.nextEvaluationAt)
    }

    func testValueChangesThatCannotMoveTheOutcomeAreSkipped() {
        // count(a, 1d) * 2 >= 100 never holds with 20 occurrences: no probe, and no re-evaluation needed.
        let engine = exprRuleset("count(a, 1d) * 2 >= 100", exit: nil)
        var s = LeadState()
        for i in 0..<20 { s = engine.evaluate(state: s, event: ev("a", Int64(i) * minute), now: at(Int64(i) * minute)).newState }
        XCTAssertNil(engine.evaluate(state: s, now: at(19 * minute).date).decision.nextEvaluationAt)
    }

    func testFutureDatedEventEntersTheWindowLater() {
        let engine = exprRuleset("count(a, 1d) >= 1", exit: nil)
        let r = engine.evaluate(state: LeadState(), event: ev("a", hour), now: t0)
        XCTAssertEqual(r.decision.segments.current, [])
        XCTAssertEqual(r.decision.nextEvaluationAt, at(hour))
    }
}

extension NextEvaluationTests {
    func testFutureDatedOccurrenceLeavingTheWindowIsScheduled() {
        // One occurrence an hour ago, one dated an hour ahead: `count(a, 1d) >= 1` holds throughout
        // until the future one leaves the window, 1d after its own time.
        let engine = exprRuleset("count(a, 1d) >= 1", exit: nil)
        var s = engine.evaluate(state: LeadState(), event: ev("a", -hour), now: t0).newState
        let r = engine.evaluate(state: s, event: ev("a", hour), now: t0)
        s = r.newState
        XCTAssertEqual(r.decision.segments.current, ["decision.test.expr"])
        XCTAssertEqual(r.decision.nextEvaluationAt, at(hour + day))
        XCTAssertEqual(engine.evaluate(state: s, now: at(hour + day - 1).date).decision.segments.current, ["decision.test.expr"])
        XCTAssertEqual(engine.evaluate(state: s, now: at(hour + day).date).decision.segments.current, [])
    }
}

/// Twenty `a` events a minute apart, then an event-less evaluation at the last one.
func twentyMinutesOfA(_ engine: Engine) -> Evaluation {
    var s = LeadState()
    for i in 0..<20 { s = engine.evaluate(state: s, event: ev("a", Int64(i) * minute), now: at(Int64(i) * minute)).newState }
    return engine.evaluate(state: s, now: at(19 * minute).date)
}

extension NextEvaluationTests {
    func testNonMemberBlockedByExitEntersWhenExitStopsHolding() {
        // Found by seg-tools' differential test: after `viewed`, enter becomes true at +15s but exit
        // (since(viewed) <= 21d) keeps the lead out until 21d + 1 ms.
        let engine = exprRuleset("not (count(a, 15s) >= 1)", exit: "since(a) <= 21d")
        let r = engine.evaluate(state: LeadState(), event: ev("a", 0), now: t0)
        XCTAssertEqual(r.decision.segments.current, [])
        XCTAssertEqual(r.decision.nextEvaluationAt, at(21 * day + 1))
        XCTAssertEqual(engine.evaluate(state: r.newState, now: at(21 * day + 1).date).decision.segments.current, ["decision.test.expr"])
    }

    func testStageRulesAfterATimeDependentHoldingRuleStayRelevant() {
        // Two rules give the same stage; when the first stops holding the second still gives it,
        // and the stage only changes when the second stops too.
        let engine = Engine(load("""
        version: 1
        events: { types: [a, b] }
        stages:
          - { stage: hot, when: 'count(a, 1d) >= 1' }
          - { stage: hot, when: 'count(b, 3d) >= 1' }
          - { stage: cold, when: 'true' }
        segments: []
        """))
        var s = engine.evaluate(state: LeadState(), event: ev("b", 0), now: t0).newState
        let r = engine.evaluate(state: s, event: ev("a", 1), now: at(1))
        s = r.newState
        XCTAssertEqual(r.decision.stage, "hot")
        XCTAssertEqual(r.decision.nextEvaluationAt, at(3 * day))
    }
}

extension NextEvaluationTests {
    func testARuleThatChangesAndChangesBackIsFollowed() {
        // Found by seg-tools' differential test: a future-dated event makes enter and exit false;
        // 80s after it enter is true again (its value at now) while exit is still false: it enters.
        let engine = exprRuleset("inactive(80s)", exit: "inactive(20m)")
        let r = engine.evaluate(state: LeadState(), event: ev("a", minute), now: t0)
        XCTAssertEqual(r.decision.segments.current, [])
        XCTAssertEqual(r.decision.nextEvaluationAt, at(minute + 80 * second))
        XCTAssertEqual(engine.evaluate(state: r.newState, now: at(minute + 80 * second).date).decision.segments.current,
                       ["decision.test.expr"])
    }
}

extension NextEvaluationTests {
    func testSinceNullTestFlipsWhenAFutureOccurrenceIsReached() {
        let engine = exprRuleset("since(a) != null", exit: nil)
        let r = engine.evaluate(state: LeadState(), event: ev("a", 30 * second), now: t0)
        XCTAssertEqual(r.decision.segments.current, [])
        XCTAssertEqual(r.decision.nextEvaluationAt, at(30 * second))
    }
}
