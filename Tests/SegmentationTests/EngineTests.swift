import XCTest
@testable import Profiles
@testable import RulesTools
@testable import Segmentation

/// Evaluation: aliases, sources, statuses, stages, hysteresis, priority, suppression, explanations.
final class EngineTests: XCTestCase {
    let routing = """
    version: 7
    events: { types: [a, b, buy, unsub] }
    statuses: { on_event: { buy: converted, unsub: unsubscribed } }
    suppress:
      ads: 'lead.customer'
      email: 'lead.status == "unsubscribed"'
    teams: { inside: { members: [ { id: r1 } ] } }
    segments:
      - name: decision.high.a
        priority: 10
        enter: 'count(a, 7d) >= 1'
        exit: 'count(a, 7d) == 0'
        route:
          email: { sequence: e1 }
          ads: { audience: au1, landing_page: /x }
          sales: { queue: q1, team: inside, sla: 15m }
      - { name: decision.high.b, priority: 10, enter: 'count(b, 7d) >= 1', exit: 'inactive(3d)', route: { email: { sequence: e2 } } }
      - { name: awareness.low.c, priority: 50, enter: 'count(b, 7d) >= 2', route: { ads: { audience: au3 } } }
    """

    func testAliasesAndUnknownTypesAreFlagged() {
        let engine = Engine(load(sampleYAML))
        let r1 = engine.evaluate(state: LeadState(), event: ev("Product Added", 0), now: t0)
        XCTAssertEqual(r1.decision.eventType, "added_to_cart")
        XCTAssertFalse(r1.decision.unknownEventType)
        let r2 = engine.evaluate(state: r1.newState, event: ev("Weird Thing", 1), now: at(1))
        XCTAssertEqual(r2.decision.eventType, "Weird Thing")
        XCTAssertTrue(r2.decision.unknownEventType)
        let r3 = engine.evaluate(state: r2.newState, event: ev("added_to_cart", 2), now: at(2))
        XCTAssertFalse(r3.decision.unknownEventType, "canonical names are known too")
        XCTAssertEqual(r3.newState.lastEventAt, at(2))
        XCTAssertEqual(r3.newState.firstSeen, t0)
    }

    func testSourcesFirstAndLastTouchByOccurrenceTime() {
        let engine = Engine(load(sampleYAML))
        let email: [String: Value] = ["campaign": .object(["medium": .string("email")])]
        let cpc: [String: Value] = ["campaign": .object(["medium": .string("cpc")])]
        var s = engine.evaluate(state: LeadState(), event: ev("Product Viewed", 5 * day, context: email), now: at(5 * day)).newState
        XCTAssertEqual(s.firstSource?.channel, "email_newsletter")
        // A late event from an earlier paid click becomes the first touch, not the last.
        s = engine.evaluate(state: s, event: ev("Product Viewed", 1 * day, context: cpc), now: at(5 * day + 1)).newState
        XCTAssertEqual(s.firstSource, LeadState.Touch(channel: "paid_search", at: at(1 * day)))
        XCTAssertEqual(s.lastSource, LeadState.Touch(channel: "email_newsletter", at: at(5 * day)))
        s = engine.evaluate(state: s, event: ev("Product Viewed", 6 * day), now: at(6 * day)).newState
        XCTAssertEqual(s.lastSource?.channel, "email_newsletter", "an event without a matching source keeps the last touch")
        XCTAssertTrue(holds("lead.source == 'paid_search' and lead.source.first == 'paid_search' and lead.source.last == 'email_newsletter'", state: s))
    }

    func testStatusMovesAndCustomerIsSticky() {
        let engine = Engine(load(sampleYAML))
        var r = engine.evaluate(state: LeadState(), event: ev("Pricing Requested", 0), now: t0)
        XCTAssertEqual(r.decision.status, "qualified")
        XCTAssertEqual(r.decision.stage, "decision")
        r = engine.evaluate(state: r.newState, event: ev("Order Completed", 2 * day), now: at(2 * day))
        XCTAssertEqual(r.decision.status, "converted")
        XCTAssertTrue(r.newState.customer)
        XCTAssertEqual(r.decision.stage, "retention")
        // A late pricing request (before the order) does not move the status back.
        r = engine.evaluate(state: r.newState, event: ev("Pricing Requested", 1 * day), now: at(2 * day + 1))
        XCTAssertEqual(r.decision.status, "converted")
        r = engine.evaluate(state: r.newState, event: ev("Unsubscribed", 3 * day), now: at(3 * day))
        XCTAssertEqual(r.decision.status, "unsubscribed")
        XCTAssertTrue(r.newState.customer, "customer stays true once converted")
    }

    func testStagesInOrder() {
        let engine = Engine(load(sampleYAML))
        var r = engine.evaluate(state: LeadState(), event: ev("Product Viewed", 0), now: t0)
        XCTAssertEqual(r.decision.stage, "awareness")
        r = engine.evaluate(state: r.newState, event: ev("Product Viewed", 1), now: at(1))
        XCTAssertEqual(r.decision.stage, "consideration")
        r = engine.evaluate(state: r.newState, event: ev("Product Added", 2), now: at(2))
        XCTAssertEqual(r.decision.stage, "decision")
        r = engine.evaluate(state: r.newState, now: at(14 * day + 2).date)
        XCTAssertEqual(r.decision.stage, "consideration", "cart left the 14d window, views are within 30d")
    }

    func testHysteresis() {
        let engine = exprRuleset("count(a, 7d) >= 2", exit: "count(a, 7d) == 0")
        var r = engine.evaluate(state: LeadState(), event: ev("a", 0), now: t0)
        XCTAssertEqual(r.decision.segments.current, [])
        r = engine.evaluate(state: r.newState, event: ev("a", 1 * day), now: at(1 * day))
        XCTAssertEqual(r.decision.segments.entered, ["decision.test.expr"])
        XCTAssertEqual(r.newState.memberships["decision.test.expr"], at(1 * day))
        // Enter no longer holds (one in the window) but exit does not hold either: stays.
        r = engine.evaluate(state: r.newState, now: at(7 * day).date)
        XCTAssertEqual(r.decision.segments.current, ["decision.test.expr"])
        XCTAssertEqual(r.decision.segments.entered, [])
        r = engine.evaluate(state: r.newState, now: at(8 * day).date)
        XCTAssertEqual(r.decision.segments.exited, ["decision.test.expr"])
        XCTAssertEqual(r.decision.segments.current, [])
        XCTAssertNil(r.newState.memberships["decision.test.expr"])
        // A non-member does not enter while exit holds.
        let blocked = exprRuleset("count(a, 7d) >= 1", exit: "count(b, 7d) >= 1")
        let s = blocked.evaluate(state: LeadState(), event: ev("b", 0), now: t0).newState
        XCTAssertEqual(blocked.evaluate(state: s, event: ev("a", 1), now: at(1)).decision.segments.current, [])
        // Without `exit`, a member leaves when `enter` stops holding.
        let plain = exprRuleset("count(a, 1d) >= 1", exit: nil)
        let p = plain.evaluate(state: LeadState(), event: ev("a", 0), now: t0)
        XCTAssertEqual(p.decision.segments.current, ["decision.test.expr"])
        XCTAssertEqual(plain.evaluate(state: p.newState, now: at(1 * day).date).decision.segments.exited, ["decision.test.expr"])
    }

    func testPriorityTiesAndRoute() throws {
        let engine = Engine(load(routing))
        var r = engine.evaluate(state: LeadState(), event: ev("a", 0), now: t0)
        r = engine.evaluate(state: r.newState, event: ev("b", 1), now: at(1))
        XCTAssertEqual(r.decision.segments.current, ["decision.high.a", "decision.high.b"])
        XCTAssertEqual(r.decision.primarySegment, "decision.high.a", "equal priority: first by name")
        XCTAssertEqual(r.decision.rulesetVersion, 7)
        XCTAssertEqual(r.decision.actions, [
            Action(channel: "email", segment: "decision.high.a", sequence: "e1"),
            Action(channel: "ads", segment: "decision.high.a", audience: "au1", landingPage: "/x"),
            Action(channel: "sales", segment: "decision.high.a", queue: "q1", team: "inside", slaDueAt: at(1 + 15 * minute)),
        ])
        r = engine.evaluate(state: r.newState, event: ev("b", 2), now: at(2))
        XCTAssertEqual(r.decision.primarySegment, "awareness.low.c", "higher priority wins")
        XCTAssertEqual(r.decision.actions, [Action(channel: "ads", segment: "awareness.low.c", audience: "au3")])
    }

    func testSuppressionWithReasons() {
        let engine = Engine(load(routing))
        var r = engine.evaluate(state: LeadState(), event: ev("buy", 0), now: t0)
        r = engine.evaluate(state: r.newState, event: ev("a", 1), now: at(1))
        XCTAssertEqual(r.decision.actions.map(\.channel), ["email", "sales"])
        XCTAssertEqual(r.decision.suppressed, [SuppressedAction(channel: "ads", reason: "lead.customer")])
        r = engine.evaluate(state: r.newState, event: ev("unsub", 2), now: at(2))
        XCTAssertEqual(r.decision.actions.map(\.channel), ["sales"])
        XCTAssertEqual(r.decision.suppressed, [SuppressedAction(channel: "ads", reason: "lead.customer"),
                                               SuppressedAction(channel: "email", reason: "lead.status == \"unsubscribed\"")])
    }

    func testExplanationOfEnterAndExit() {
        let engine = Engine(load(sampleYAML))
        let r = engine.evaluate(state: LeadState(), event: ev("Product Added", 0), now: t0)
        let e = r.decision.explanation.segments["decision.high-intent.cart"]
        XCTAssertEqual(e?.change, "entered")
        // An entry shows `enter` only, and of it the clause that decided (the `or` part that held).
        XCTAssertEqual(e?.enter, "count(added_to_cart, 7d) is 1, >= 1 ✓")
        XCTAssertNil(e?.exit)
        XCTAssertEqual(e?.clauses, [ExplainedClause(clause: "count(added_to_cart, 7d) >= 1", holds: true, event: nil)])
        XCTAssertEqual(e?.terms, [ExplainedTerm(expression: "count(added_to_cart, 7d)", value: .number(1))])
        let out = engine.evaluate(state: r.newState, now: at(14 * day).date)
        XCTAssertEqual(out.decision.segments.exited, ["decision.high-intent.cart"])
        let x = out.decision.explanation.segments["decision.high-intent.cart"]
        XCTAssertEqual(x?.change, "exited")
        // An exit shows `exit` only, and of an `or` that held only the part that held.
        XCTAssertNil(x?.enter)
        XCTAssertEqual(x?.exit, "inactive(14d) ✓")
        XCTAssertEqual(x?.clauses.map(\.holds), [true])
    }

    func testDecisionJSONShapeAndDeterminism() throws {
        let engine = Engine(load(sampleYAML))
        let events = [ev("Product Viewed", 0), ev("Product Added", minute), ev("Pricing Requested", 2 * minute)]
        let a = runEvents(engine, events), b = runEvents(engine, events)
        let bytesA = try Decision.jsonEncoder.encode(a.decision), bytesB = try Decision.jsonEncoder.encode(b.decision)
        XCTAssertEqual(bytesA, bytesB)
        XCTAssertEqual(try Decision.jsonEncoder.encode(a.newState), try Decision.jsonEncoder.encode(b.newState))
        let json = try JSONSerialization.jsonObject(with: bytesA) as! [String: Any]
        XCTAssertEqual(Set(json.keys), ["lead_id", "event_id", "ruleset_version", "evaluated_at", "segments", "primary_segment",
                                        "stage", "status", "score", "band", "actions", "suppressed", "explanation",
                                        "next_evaluation_at", "event_type", "unknown_event_type", "sequence", "occurred_at"])
        XCTAssertEqual(json["evaluated_at"] as? String, "2026-11-18T11:08:40.000Z")
        XCTAssertEqual(json["score"] as? Double, 43)
        XCTAssertEqual(json["band"] as? String, "product_email_series")
        let decoded = try JSONDecoder().decode(Decision.self, from: bytesA)
        XCTAssertEqual(decoded, a.decision)
        let state = try JSONDecoder().decode(LeadState.self, from: try Decision.jsonEncoder.encode(a.newState))
        XCTAssertEqual(state, a.newState)
    }
}

extension EngineTests {
    func testLeadStateDecodesWithDefaults() throws {
        let s = try JSONDecoder().decode(LeadState.self, from: Data(#"{"email":"a@b.co","company":{"size":20}}"#.utf8))
        XCTAssertEqual(s.email, "a@b.co")
        XCTAssertEqual(s.company.size, 20)
        XCTAssertEqual(s.status, "new")
        XCTAssertEqual(s.signals, SignalState())
        var expected = LeadState(email: "a@b.co")
        expected.company.size = 20
        XCTAssertEqual(s, expected)
    }

    func testEventRulesAreUnsettledAfterTheEvent() {
        // A stage that holds only while its event is evaluated: a re-evaluation right after differs.
        let engine = Engine(load("""
        version: 1
        events: { types: [a] }
        stages: [ { stage: decision, when: 'event.type == "a"' }, { stage: awareness, when: 'true' } ]
        segments: []
        """))
        let r = engine.evaluate(state: LeadState(), event: ev("a", 0), now: t0)
        XCTAssertEqual(r.decision.stage, "decision")
        XCTAssertEqual(r.decision.nextEvaluationAt, at(1))
        XCTAssertEqual(engine.evaluate(state: r.newState, now: at(1).date).decision.stage, "awareness")
    }
}
