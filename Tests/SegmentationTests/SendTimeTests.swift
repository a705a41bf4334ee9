import XCTest
@testable import Segmentation

/// `delay` + `window` → `send_at`: the first instant at or after now + delay inside the window in
/// the lead's zone, through both daylight-saving transitions; the zone's source in the explanation.
final class SendTimeTests: XCTestCase {
    func ms(_ iso: String) -> Int64 { Timestamp.parse(iso)!.milliseconds }
    let berlin = TimeZone(identifier: "Europe/Berlin")!

    func send(_ now: String, delay: Int64 = 0, _ window: String, _ zone: TimeZone) -> String {
        let w = SendTiming.parseWindow(window)!
        return Timestamp(milliseconds: SendTiming(delayMs: delay, window: w, windowText: window).sendAt(now: ms(now), zone: zone)).description
    }

    func testWindowInTheLeadsZone() {
        // 03:00 in Berlin (CET, UTC+1) is before the window: 09:00 local the same day.
        XCTAssertEqual(send("2026-12-07T02:00:00Z", "09:00-19:00", berlin), "2026-12-07T08:00:00.000Z")
        // Inside the window: at once (plus the delay).
        XCTAssertEqual(send("2026-12-07T10:00:00Z", delay: 2 * hour, "09:00-19:00", berlin), "2026-12-07T12:00:00.000Z")
        // The delay lands after the window: next morning.
        XCTAssertEqual(send("2026-12-07T16:30:00Z", delay: 2 * hour, "09:00-19:00", berlin), "2026-12-08T08:00:00.000Z")
        // A window past midnight.
        XCTAssertEqual(send("2026-12-07T12:00:00Z", "22:00-06:00", berlin), "2026-12-07T21:00:00.000Z")
        XCTAssertEqual(send("2026-12-07T03:00:00Z", "22:00-06:00", berlin), "2026-12-07T03:00:00.000Z")
        // The end is exclusive.
        XCTAssertEqual(send("2026-12-07T18:00:00Z", "09:00-19:00", berlin), "2026-12-08T08:00:00.000Z")
    }

    func testSpringForwardSkipsTheWindowStart() {
        // 2026-03-29: Berlin goes from 02:00 CET to 03:00 CEST. A window from 02:30 opens at the
        // first instant after the skipped hour, 03:00 CEST = 01:00Z.
        XCTAssertEqual(send("2026-03-28T23:30:00Z", "02:30-04:00", berlin), "2026-03-29T01:00:00.000Z")
        // 09:00 after the change is 07:00Z (UTC+2), the day before 08:00Z (UTC+1).
        XCTAssertEqual(send("2026-03-28T20:00:00Z", "09:00-19:00", berlin), "2026-03-29T07:00:00.000Z")
        XCTAssertEqual(send("2026-03-27T20:00:00Z", "09:00-19:00", berlin), "2026-03-28T08:00:00.000Z")
    }

    func testFallBackRepeatsAnHour() {
        // 2026-10-25: 03:00 CEST becomes 02:00 CET; 02:00-02:30 local happens twice. At 02:40
        // CEST (00:40Z) the second 02:00 (CET, 01:00Z) is the next instant inside the window.
        XCTAssertEqual(send("2026-10-25T00:40:00Z", "02:00-02:30", berlin), "2026-10-25T01:00:00.000Z")
        // Inside the first pass: at once.
        XCTAssertEqual(send("2026-10-25T00:10:00Z", "02:00-02:30", berlin), "2026-10-25T00:10:00.000Z")
        // 09:00 after the change is 08:00Z again.
        XCTAssertEqual(send("2026-10-24T20:00:00Z", "09:00-19:00", berlin), "2026-10-25T08:00:00.000Z")
    }

    let yaml = """
    version: 1
    events: { types: [carted] }
    segments:
      - name: decision.high.cart
        enter: 'count(carted, 7d) >= 1'
        route:
          email: { sequence: checkout-help, delay: 2h, window: "09:00-19:00" }
          ads: { audience: carts }
    """

    func testZoneFromContextThenCountryThenUTC() throws {
        let engine = Engine(load(yaml))
        let now = Timestamp.parse("2026-12-07T02:00:00Z")!
        func decide(_ lead: LeadState, _ context: [String: Value]) -> Decision {
            engine.evaluate(state: lead, event: Event(name: "carted", context: context, occurredAt: now), now: now).decision
        }
        var lead = LeadState(); lead.country = "US"
        let byContext = decide(lead, ["timezone": .string("Asia/Tokyo")])
        XCTAssertEqual(byContext.actions.first?.sendAt?.description, "2026-12-07T04:00:00.000Z")   // 13:00 in Tokyo, inside
        let note = try XCTUnwrap(byContext.explanation.actions.first)
        XCTAssertEqual(note.field, "send_at")
        XCTAssertEqual(note.rule, "now + 2h, inside 09:00-19:00 in Asia/Tokyo (context.timezone)")
        let byCountry = decide(lead, [:])
        XCTAssertEqual(byCountry.actions.first?.sendAt?.description, "2026-12-07T14:00:00.000Z")   // 09:00 in New York
        XCTAssertEqual(byCountry.explanation.actions.first?.rule, "now + 2h, inside 09:00-19:00 in America/New_York (country US)")
        // The zone is kept on the lead: a decision without event (time passing) still uses it.
        let kept = engine.evaluate(state: engine.evaluate(state: lead, event: Event(name: "carted", context: ["timezone": .string("Asia/Tokyo")], occurredAt: now), now: now).newState,
                                   now: now.date)
        XCTAssertEqual(kept.newState.timezone, "Asia/Tokyo")
        XCTAssertEqual(kept.decision.actions.first?.sendAt?.description, "2026-12-07T04:00:00.000Z")
        let utc = decide(LeadState(), ["timezone": .string("Not/AZone")])
        XCTAssertEqual(utc.actions.first?.sendAt?.description, "2026-12-07T09:00:00.000Z")
        XCTAssertEqual(utc.explanation.actions.first?.rule, "now + 2h, inside 09:00-19:00 in UTC")
        XCTAssertNil(utc.actions.last?.sendAt, "ads has no timing")
    }

    /// A `context.timezone` that is some country's main zone comes from the table resolved at load;
    /// any other zone Foundation knows is still resolved by name: both give the zone's own rules.
    func testContextZoneInsideAndOutsideTheLoadedTable() {
        let engine = Engine(load(yaml))
        let now = Timestamp.parse("2026-12-07T02:00:00Z")!
        func sendAt(_ zone: String) -> String? {
            engine.evaluate(state: LeadState(), event: Event(name: "carted", context: ["timezone": .string(zone)], occurredAt: now), now: now)
                .decision.actions.first?.sendAt?.description
        }
        XCTAssertNotNil(LeadZone.zones["Europe/Berlin"])
        XCTAssertNil(LeadZone.zones["America/Chicago"])
        XCTAssertEqual(sendAt("Europe/Berlin"), "2026-12-07T08:00:00.000Z")    // 05:00 there: waits for 09:00 CET
        XCTAssertEqual(sendAt("America/Chicago"), "2026-12-07T15:00:00.000Z")  // 22:00 the day before: 09:00 CST
    }

    func testCheckErrors() {
        let base = """
        version: 1
        segments:
          - name: decision.x.y
            enter: 'true'

        """
        XCTAssertEqual(loadErrors(base + "    route: { email: { sequence: s, window: 9-17 } }"),
                       ["r.yaml:5:44: `window` `9-17` is not a time window: write HH:MM-HH:MM in the lead's local time, e.g. 09:00-19:00 (22:00-07:00 wraps past midnight)"])
        XCTAssertEqual(loadErrors(base + "    route: { email: { sequence: s, delay: soon } }"),
                       ["r.yaml:5:43: `delay` `soon` is not a duration: write a whole number followed by s, m, h, d or w (e.g. 30s, 15m, 2h, 7d, 4w)"])
        XCTAssertEqual(loadErrors(base + "    route: { email: { sequence: s, windw: \"09:00-10:00\" } }"),
                       ["r.yaml:5:36: unknown key `windw` in `route.email` (did you mean `window`?); allowed: sequence, delay, window"])
    }
}
