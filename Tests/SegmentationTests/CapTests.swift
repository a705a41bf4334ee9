import XCTest
@testable import Segmentation

/// `caps:`: sends per channel in a sliding window, an action counting once when a decision first
/// carries it, caps by engagement through `when`, and the capped action in `suppressed`.
final class CapTests: XCTestCase {
    let yaml = """
    version: 1
    events: { types: [a, b, c, buy] }
    scoring:
      rules: [ { when: 'event.type == "buy"', points: 50 } ]
      bands: [ { below: 30, action: nurture_only }, { action: engaged } ]
    caps:
      email: [ { when: 'lead.band == "nurture_only"', max: 1, per: 1d }, { max: 2, per: 7d } ]
      sales: { max: 0, per: 1d }
    teams: { t: { members: [ { id: r } ] } }
    segments:
      - { name: decision.x.a, priority: 1, enter: 'count(a, 30d) >= 1', route: { email: { sequence: sa } } }
      - { name: decision.x.b, priority: 2, enter: 'count(b, 30d) >= 1', route: { email: { sequence: sb } } }
      - { name: decision.x.c, priority: 3, enter: 'count(c, 30d) >= 1', route: { email: { sequence: sc }, sales: { queue: q, team: t } } }
    """

    func emails(_ d: Decision) -> [String] { d.actions.filter { $0.channel == "email" }.compactMap(\.sequence) }

    func testThreeSegmentsInADayGetTwoSequences() {
        let engine = Engine(load(yaml))
        var s = LeadState(); s.score = 40; s.scoreAt = at(0)   // band engaged (decays slowly without half-life)
        var r = engine.evaluate(state: s, event: ev("a", 0), now: at(0))
        XCTAssertEqual(emails(r.decision), ["sa"])
        // The same action again is no new send.
        r = engine.evaluate(state: r.newState, event: ev("a", hour), now: at(hour))
        XCTAssertEqual(emails(r.decision), ["sa"])
        r = engine.evaluate(state: r.newState, event: ev("b", 2 * hour), now: at(2 * hour))
        XCTAssertEqual(emails(r.decision), ["sb"])
        r = engine.evaluate(state: r.newState, event: ev("c", 3 * hour), now: at(3 * hour))
        XCTAssertEqual(emails(r.decision), [])
        XCTAssertEqual(r.decision.suppressed, [SuppressedAction(channel: "email", reason: "frequency_cap", cap: "max 2 per 7d"),
                                               SuppressedAction(channel: "sales", reason: "frequency_cap", cap: "max 0 per 1d")])
        XCTAssertEqual(r.newState.sent["email"]?.times, [at(0).milliseconds, at(2 * hour).milliseconds])
        // Tried again at each decision; once the first send is 7 days old, it goes out.
        r = engine.evaluate(state: r.newState, now: at(7 * day - minute).date)
        XCTAssertEqual(emails(r.decision), [])
        r = engine.evaluate(state: r.newState, event: ev("c", 7 * day), now: at(7 * day))
        XCTAssertEqual(emails(r.decision), ["sc"])
        XCTAssertEqual(r.newState.sent["email"]?.times, [at(2 * hour).milliseconds, at(7 * day).milliseconds])
    }

    func testCapByEngagement() {
        let engine = Engine(load(yaml))
        var r = runEvents(engine, [ev("a", 0)])
        XCTAssertEqual(r.decision.band, "nurture_only")
        XCTAssertEqual(emails(r.decision), ["sa"])
        r = engine.evaluate(state: r.newState, event: ev("b", hour), now: at(hour))
        XCTAssertEqual(emails(r.decision), [])
        XCTAssertEqual(r.decision.suppressed.first?.cap, #"max 1 per 1d when lead.band == "nurture_only""#)
        // A purchase moves the band: the second entry (2 per 7d) applies.
        r = engine.evaluate(state: r.newState, event: ev("buy", 2 * hour), now: at(2 * hour))
        XCTAssertEqual(r.decision.band, "engaged")
        XCTAssertEqual(emails(r.decision), ["sb"])
    }

    func testLogStaysBounded() {
        let engine = Engine(load("""
        version: 1
        events: { types: [a, b] }
        caps: { email: { max: 1000, per: 365d } }
        segments:
          - { name: decision.x.a, priority: 2, enter: 'count(a, 1h) >= 1', route: { email: { sequence: sa } } }
          - { name: decision.x.b, priority: 1, enter: 'true', route: { email: { sequence: sb } } }
        """))
        var s = LeadState()
        for k in 0..<200 {
            s = engine.evaluate(state: s, event: ev(k % 2 == 0 ? "a" : "b", Int64(k) * 2 * hour), now: at(Int64(k) * 2 * hour)).newState
        }
        XCTAssertEqual(s.sent["email"]?.times.count, SentLog.maxTimes)
        let json = try? JSONEncoder().encode(s)
        XCTAssertEqual(try json.map { try JSONDecoder().decode(LeadState.self, from: $0).sent }, s.sent)
    }

    func testCheckErrors() {
        let base = """
        version: 1
        events: { types: [a] }
        segments:
          - { name: decision.x.a, enter: 'true', route: { email: { sequence: sa } } }

        """
        XCTAssertEqual(loadErrors(base + "caps: { sms: { max: 1, per: 1d } }"),
                       ["r.yaml:5:9: unknown key `sms` in `caps`; allowed: email, ads, sales"])
        XCTAssertEqual(loadErrors(base + "caps: { email: [ { max: 1, per: 1d }, { when: 'true', max: 2, per: 7d } ] }"),
                       ["r.yaml:5:18: only the last cap of `email` may leave out `when` (it applies when no other does); later caps would never be used"])
        XCTAssertEqual(loadErrors(base + "caps: { email: { max: 1 } }"),
                       ["r.yaml:5:16: a cap needs `max` (sends allowed) and `per` (the window), e.g. { max: 3, per: 7d }"])
        XCTAssertEqual(loadErrors(base + "caps: { email: { max: many, per: 1d } }"),
                       ["r.yaml:5:23: `max` must be a whole number, not `many`"])
        XCTAssertEqual(loadErrors(base + "caps: { email: { when: 'lead.bnd == \"x\"', max: 1, per: 1d } }"),
                       ["r.yaml:5:25: unknown field `lead.bnd` (did you mean `lead.band`?)"])
        XCTAssertEqual(loadErrors(base + "caps: { email: { max: 1, per: 1 week } }"),
                       ["r.yaml:5:31: `per` `1 week` is not a duration: write a whole number followed by s, m, h, d or w (e.g. 30s, 15m, 2h, 7d, 4w)"])
    }
}
