import XCTest
@testable import Profiles
@testable import RulesTools
@testable import Segmentation

/// Actions of the primary segment's route, and of every current segment for the channels listed in
/// `routing.all_segments`; suppression across all of them; load errors of `routing`.
final class RoutingTests: XCTestCase {
    /// Three segments a lead can be in at once, and one it is not in.
    func ruleset(routing: String, suppress: String = "ads: 'lead.customer'") -> String {
        """
        version: 1
        events: { types: [viewed, carted] }
        statuses: { on_event: { carted: engaged } }
        suppress: { \(suppress) }
        teams: { inside: { members: [ { id: rep_a } ] } }
        \(routing)
        segments:
          - name: decision.high.cart
            priority: 100
            enter: 'count(carted, 7d) >= 1'
            route:
              email: { sequence: checkout-help }
              ads: { audience: cart-abandoners, landing_page: /checkout }
              sales: { queue: hot, team: inside, sla: 15m }
          - name: consideration.mid.runners
            priority: 50
            enter: 'count(viewed, 30d) >= 1'
            route:
              email: { sequence: running-tips }
              ads: { audience: running-fans, landing_page: /running }
              sales: { queue: warm, team: inside }
          - name: awareness.low.everyone
            priority: 50
            enter: 'true'
            route:
              email: { sequence: newsletter }
              ads: { audience: running-fans, landing_page: /running }
          - name: retention.high.vip
            priority: 200
            enter: 'lead.customer'
            route: { ads: { audience: vips } }
        """
    }

    func actions(_ e: Evaluation) -> [String] {
        e.decision.actions.map { a in
            "\(a.channel) \(a.segment) \(a.sequence ?? a.audience ?? a.queue ?? "")" + (a.landingPage.map { " \($0)" } ?? "")
        }
    }

    func testOnlyThePrimaryRouteActsByDefault() {
        let engine = Engine(load(ruleset(routing: "")))
        XCTAssertEqual(engine.ruleset.routing.allSegments, [])
        let r = runEvents(engine, [ev("viewed", 0), ev("carted", minute)])
        XCTAssertEqual(r.decision.segments.current, ["awareness.low.everyone", "consideration.mid.runners", "decision.high.cart"])
        XCTAssertEqual(r.decision.primarySegment, "decision.high.cart")
        XCTAssertEqual(actions(r), ["email decision.high.cart checkout-help", "ads decision.high.cart cart-abandoners /checkout",
                                    "sales decision.high.cart hot"])
    }

    func testAdsOfEveryCurrentSegmentWhenListed() throws {
        let engine = Engine(load(ruleset(routing: "routing: { all_segments: [ads] }")))
        XCTAssertEqual(engine.ruleset.routing.allSegments, ["ads"])
        let r = runEvents(engine, [ev("viewed", 0), ev("carted", minute)])
        // The primary's whole route, then the other members' ads by priority (ties by name), an
        // audience already given not repeated; email and sales stay with the primary.
        XCTAssertEqual(actions(r), ["email decision.high.cart checkout-help", "ads decision.high.cart cart-abandoners /checkout",
                                    "sales decision.high.cart hot", "ads awareness.low.everyone running-fans /running"])
        XCTAssertEqual(r.decision.suppressed, [])
        // Only the viewer segments: their shared audience once, from the first by name.
        let viewer = runEvents(engine, [ev("viewed", 0)])
        XCTAssertEqual(viewer.decision.primarySegment, "awareness.low.everyone")
        XCTAssertEqual(actions(viewer), ["email awareness.low.everyone newsletter", "ads awareness.low.everyone running-fans /running"])
        // The JSON of an action is unchanged in shape.
        let json = String(decoding: try Decision.jsonEncoder.encode(r.decision.actions[3]), as: UTF8.self)
        XCTAssertEqual(json, #"{"audience":"running-fans","channel":"ads","landing_page":"/running","segment":"awareness.low.everyone"}"#)
    }

    func testEmailOfEveryCurrentSegmentWhenListed() {
        let engine = Engine(load(ruleset(routing: "routing: { all_segments: [email, ads] }")))
        let r = runEvents(engine, [ev("viewed", 0), ev("carted", minute)])
        XCTAssertEqual(actions(r), ["email decision.high.cart checkout-help", "ads decision.high.cart cart-abandoners /checkout",
                                    "sales decision.high.cart hot",
                                    "email awareness.low.everyone newsletter", "ads awareness.low.everyone running-fans /running",
                                    "email consideration.mid.runners running-tips"])
    }

    func testSuppressionCoversEverySegmentsActionsOnTheChannel() {
        let engine = Engine(load(ruleset(routing: "routing: { all_segments: [ads] }")))
        var state = LeadState()
        state.setStatus("converted", at: at(0))
        let r = runEvents(engine, [ev("viewed", 0)], state: state)
        // The primary (vips) routes only ads; no member gets an ad, and ads is listed once.
        XCTAssertEqual(r.decision.primarySegment, "retention.high.vip")
        XCTAssertEqual(actions(r), [])
        XCTAssertEqual(r.decision.suppressed, [SuppressedAction(channel: "ads", reason: "lead.customer")])

        // Email suppressed: the primary routes no email, but with email for every segment a
        // member's sequence would act, so the suppression is reported.
        let emailEngine = Engine(load(ruleset(routing: "routing: { all_segments: [email] }", suppress: "email: 'lead.customer'")))
        let e = runEvents(emailEngine, [ev("viewed", 0)], state: state)
        XCTAssertEqual(actions(e), ["ads retention.high.vip vips"])
        XCTAssertEqual(e.decision.suppressed, [SuppressedAction(channel: "email", reason: "lead.customer")])
        // Without it, the primary's route has no email: nothing to suppress.
        let primaryOnly = Engine(load(ruleset(routing: "", suppress: "email: 'lead.customer'")))
        XCTAssertEqual(runEvents(primaryOnly, [ev("viewed", 0)], state: state).decision.suppressed, [])
    }

    func testNextEvaluationSeesSuppressionOfANonPrimaryChannel() {
        // The primary routes email only; a second member routes ads, suppressed after two quiet days.
        let yaml = """
        version: 1
        events: { types: [viewed] }
        suppress: { ads: 'inactive(2d)' }
        ROUTING
        segments:
          - { name: awareness.a.mail, priority: 10, enter: 'true', route: { email: { sequence: s } } }
          - { name: awareness.b.ads, priority: 5, enter: 'true', route: { ads: { audience: a } } }
        """
        let primaryOnly = Engine(load(yaml.replacingOccurrences(of: "ROUTING", with: "")))
        XCTAssertNil(runEvents(primaryOnly, [ev("viewed", 0)]).decision.nextEvaluationAt)
        let everySegment = Engine(load(yaml.replacingOccurrences(of: "ROUTING", with: "routing: { all_segments: [ads] }")))
        let r = runEvents(everySegment, [ev("viewed", 0)])
        XCTAssertEqual(actions(r), ["email awareness.a.mail s", "ads awareness.b.ads a"])
        XCTAssertEqual(r.decision.nextEvaluationAt, at(2 * day))
        let later = everySegment.evaluate(state: r.newState, now: at(2 * day).date)
        XCTAssertEqual(actions(later), ["email awareness.a.mail s"])
        XCTAssertEqual(later.decision.suppressed, [SuppressedAction(channel: "ads", reason: "inactive(2d)")])
    }

    func testRulesTestChecksEachActionOfAChannelInOrder() throws {
        let runner = CaseRunner(ruleset: load(ruleset(routing: "routing: { all_segments: [ads] }")))
        func outcome(_ second: String) throws -> CaseOutcome {
            try XCTUnwrap(CaseFile.parse(yaml: """
                cases:
                  - name: two audiences
                    start: 2026-11-02T09:00:00Z
                    steps:
                      - at: +0s
                        track: carted
                      - at: +1m
                        track: viewed
                        expect:
                          actions:
                            - { channel: email, sequence: checkout-help }
                            - { channel: ads, audience: cart-abandoners }
                            - { channel: sales, queue: hot }
                            - { channel: ads, audience: \(second) }
                """, fileName: "cases.yaml").cases.map(runner.run).first)
        }
        let passing = try outcome("running-fans")
        XCTAssertTrue(passing.passed, passing.report(fileName: "cases.yaml").joined(separator: "\n"))
        let failing = try outcome("vips")
        XCTAssertEqual(try XCTUnwrap(failing.failures.first).mismatches,
                       [CaseMismatch(field: "actions.ads.audience", expected: "vips", actual: "running-fans")])
    }

    func testRoutingLoadErrors() {
        let base = "version: 1\nsegments: []\nrouting:\n"
        XCTAssertEqual(loadErrors(base + "  all_segments: [ads, sales]\n"),
                       ["r.yaml:4:23: `sales` cannot act for every segment: a lead is worked from one sales queue by one owner, so sales follows the primary segment only; list email or ads"])
        XCTAssertEqual(loadErrors(base + "  all_segments: [add]\n"),
                       ["r.yaml:4:18: unknown channel `add` in `routing.all_segments` (did you mean `ads`?); it can list email and ads"])
        XCTAssertEqual(loadErrors(base + "  all_segment: [ads]\n").count, 1)
    }
}
