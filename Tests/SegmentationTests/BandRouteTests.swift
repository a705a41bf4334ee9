import XCTest
@testable import Segmentation

/// A score band's `route`: it fills the channels the primary segment's route leaves open, its
/// actions name the band, and suppressions apply to it.
final class BandRouteTests: XCTestCase {
    var yaml: String { Self.yaml }
    static let yaml = """
    version: 1
    events: { types: [viewed, carted, called] }
    suppress: { sales: 'lead.traits.do_not_call == true' }
    teams: { inside: { members: [ { id: rep_a } ] } }
    scoring:
      rules: [ { when: 'event.type == "carted"', points: 50 } ]
      bands:
        - { below: 30, action: nurture_only }
        - { below: 60, action: product_email_series, route: { email: { sequence: product-series } } }
        - { action: route_to_sales, route: { email: { sequence: never-used }, sales: { queue: high-intent, team: inside, sla: 1h } } }
    segments:
      - name: decision.high.cart
        priority: 10
        enter: 'count(carted, 7d) >= 1'
        route: { email: { sequence: cart-reminder } }
      - name: awareness.low.viewer
        priority: 5
        enter: 'count(viewed, 7d) >= 1'
        route: { ads: { audience: viewers } }
      - name: decision.high.called
        priority: 20
        enter: 'count(called, 7d) >= 1'
        route: { sales: { queue: calls, team: inside } }
    """

    func describe(_ d: Decision) -> [String] {
        d.actions.map { "\($0.channel) \($0.sequence ?? $0.audience ?? $0.queue ?? "")" + ($0.band.map { " (band \($0))" } ?? "") }
    }

    func testBandRouteFillsOnlyOpenChannels() {
        let engine = Engine(load(yaml))
        // Score 50: product_email_series; the cart segment sets email, so the band adds nothing.
        let one = runEvents(engine, [ev("carted", 0)])
        XCTAssertEqual(one.decision.band, "product_email_series")
        XCTAssertEqual(describe(one.decision), ["email cart-reminder"])
        // Score 100: route_to_sales adds sales (email stays the segment's), with the SLA from now.
        let two = runEvents(engine, [ev("carted", 0), ev("carted", minute)])
        XCTAssertEqual(two.decision.band, "route_to_sales")
        XCTAssertEqual(describe(two.decision), ["email cart-reminder", "sales high-intent (band route_to_sales)"])
        XCTAssertEqual(two.decision.actions.last?.segment, "decision.high.cart")
        XCTAssertEqual(two.decision.actions.last?.slaDueAt, at(minute + hour))
        // The viewer segment (ads only) at score 50 gets the band's email.
        let viewer = runEvents(engine, [ev("viewed", 0)], state: { var s = LeadState(); s.score = 45; s.scoreAt = at(0); return s }())
        XCTAssertEqual(describe(viewer.decision), ["ads viewers", "email product-series (band product_email_series)"])
        // A primary segment with its own sales route keeps it.
        let called = runEvents(engine, [ev("carted", 0), ev("carted", minute), ev("called", 2 * minute)])
        XCTAssertEqual(describe(called.decision), ["sales calls", "email never-used (band route_to_sales)"])
    }

    func testSuppressionAppliesToTheBandRoute() {
        let engine = Engine(load(yaml))
        var lead = LeadState(); lead.traits["do_not_call"] = .bool(true)
        let r = runEvents(engine, [ev("carted", 0), ev("carted", minute)], state: lead)
        XCTAssertEqual(describe(r.decision), ["email cart-reminder"])
        XCTAssertEqual(r.decision.suppressed, [SuppressedAction(channel: "sales", reason: "lead.traits.do_not_call == true")])
    }

    func testNoPrimarySegmentNoBandRoute() {
        let engine = Engine(load(yaml))
        let r = runEvents(engine, [ev("other", 0)], state: { var s = LeadState(); s.score = 100; s.scoreAt = at(0); return s }())
        XCTAssertEqual(r.decision.band, "route_to_sales")
        XCTAssertEqual(r.decision.actions, [])
    }

    func testBandRouteCheckErrors() {
        XCTAssertEqual(loadErrors("""
        version: 1
        teams: { inside: { members: [ { id: a } ] } }
        scoring:
          bands: [ { action: route_to_sales, route: { sales: { queue: q, team: insde } } } ]
        segments:
          - { name: decision.x.y, enter: 'true', route: { email: { sequence: s } } }
        """), ["r.yaml:4:72: unknown team `insde` (did you mean `inside`?); define it under `teams:`"])
        XCTAssertEqual(loadErrors("""
        version: 1
        scoring:
          bands: [ { action: a, route: { sms: { to: x } } } ]
        segments:
          - { name: decision.x.y, enter: 'true', route: { email: { sequence: s } } }
        """), ["r.yaml:3:34: unknown key `sms` in `route`; allowed: email, ads, sales"])
    }
}
