import XCTest
@testable import Segmentation

/// Differential checks of the action semantics against naive references: `send_at` against a
/// minute-by-minute scan of local time (zones with half-hour and 45-minute offsets and a
/// half-hour daylight-saving shift, instants around every transition of the year), and caps
/// against a model that keeps every send forever and replays the specification decision by
/// decision.
final class ActionDifferentialTests: XCTestCase {
    func testSendAtAgreesWithAMinuteScan() throws {
        let zones = ["Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "Australia/Lord_Howe",
                     "Pacific/Chatham", "America/Sao_Paulo", "UTC"].map { TimeZone(identifier: $0)! }
        var rng = SeededGenerator(seed: 20)
        var checked = 0
        for zone in zones {
            // Instants around each transition of 2026 (and random ones).
            var anchors: [Int64] = []
            var d = Date(timeIntervalSince1970: 1_767_225_600)   // 2026-01-01
            while let next = zone.nextDaylightSavingTimeTransition(after: d), next.timeIntervalSince1970 < 1_798_761_600 {
                anchors.append(Int64(next.timeIntervalSince1970 * 1000)); d = next
            }
            for _ in 0..<4 { anchors.append(Int64.random(in: 1_767_225_600_000..<1_798_761_600_000, using: &rng)) }
            for anchor in anchors {
                for _ in 0..<60 {
                    let now = anchor + Int64.random(in: -2 * 86_400_000...86_400_000, using: &rng)
                    let start = Int.random(in: 0..<1440, using: &rng)
                    var end = Int.random(in: 0..<1440, using: &rng)
                    if end == start { end = (start + 1) % 1440 }
                    let delay: Int64 = [0, 60_000, 3_600_000, 7_200_000, 86_400_000].randomElement(using: &rng)!
                    let timing = SendTiming(delayMs: delay, window: (start, end), windowText: nil)
                    let got = timing.sendAt(now: now, zone: zone)
                    let want = referenceSendAt(now + delay, window: (start, end), zone: zone)
                    XCTAssertEqual(got, want, "\(zone.identifier) now \(Timestamp(milliseconds: now)) +\(delay) ms window \(start)-\(end)")
                    checked += 1
                    if got != want { return }
                }
            }
        }
        XCTAssertGreaterThan(checked, 2000)
    }

    /// The caps of the specification, replayed with every send kept: per channel, the actions the
    /// previous decision carried are not new; a new action over the first matching cap's `max` sends
    /// in `(now − per, now]` is left out (and not carried).
    struct ReferenceCaps {
        var carried: [String: Set<Int64>] = [:]
        var sends: [String: [Int64]] = [:]

        mutating func apply(_ actions: [Action], band: String?, now: Int64, caps: [(channel: String, entries: [(band: String?, max: Int, per: Int64)])])
            -> (kept: [Action], capped: [String]) {
            var kept: [Action] = []
            var capped: [String] = []
            var nowCarried: [String: Set<Int64>] = [:]
            for a in actions {
                guard let entries = caps.first(where: { $0.channel == a.channel })?.entries else { kept.append(a); continue }
                let id = Engine.identity(a)
                if carried[a.channel, default: []].contains(id) { kept.append(a); nowCarried[a.channel, default: []].insert(id); continue }
                let cap = entries.first { $0.band == nil || $0.band == band }!
                let recent = sends[a.channel, default: []].filter { $0 > now - cap.per }.count
                if recent >= cap.max {
                    if !capped.contains(a.channel) { capped.append(a.channel) }
                    continue
                }
                sends[a.channel, default: []].append(now)
                nowCarried[a.channel, default: []].insert(id)
                kept.append(a)
            }
            for (channel, _) in caps { carried[channel] = nowCarried[channel] ?? [] }
            return (kept, capped)
        }
    }

    func testCapsAgreeWithAnUnboundedReference() throws {
        var rng = SeededGenerator(seed: 7)
        var decisions = 0, cappedSeen = 0
        for sequence in 0..<250 {
            let perEmail: Int64 = [3_600_000, 86_400_000, 3 * 86_400_000].randomElement(using: &rng)!
            let perAds: Int64 = [7_200_000, 2 * 86_400_000].randomElement(using: &rng)!
            let maxNurture = Int.random(in: 0...2, using: &rng), maxEmail = Int.random(in: 1...4, using: &rng), maxAds = Int.random(in: 1...3, using: &rng)
            let capsYAML = """
            caps:
              email: [ { when: 'lead.band == "low"', max: \(maxNurture), per: \(perEmail / 60_000)m }, { max: \(maxEmail), per: \(perEmail / 60_000)m } ]
              ads: { max: \(maxAds), per: \(perAds / 60_000)m }
            """
            let body = """
            version: 1
            events: { types: [a, b, c, d, buy] }
            routing: { all_segments: [ads] }
            scoring:
              half_life: 1d
              rules: [ { when: 'event.type == "buy"', points: 40 } ]
              bands: [ { below: 30, action: low }, { action: high } ]
            segments:
              - { name: decision.x.a, priority: 4, enter: 'count(a, 6h) >= 1', route: { email: { sequence: ea }, ads: { audience: aa } } }
              - { name: decision.x.b, priority: 3, enter: 'count(b, 12h) >= 1', route: { email: { sequence: [ { when: 'lead.band == "high"', value: eb-high }, { value: eb } ] }, ads: { audience: ab } } }
              - { name: decision.x.c, priority: 2, enter: 'count(c, 1d) >= 1', route: { email: { sequence: ec }, ads: { audience: aa } } }
              - { name: decision.x.d, priority: 1, enter: 'count(d, 2d) >= 1', route: { ads: { audience: ad, landing_page: "/d/{{ lead.band }}" } } }

            """
            let capped = Engine(load(body + capsYAML)), free = Engine(load(body))
            var reference = ReferenceCaps()
            var sCapped = LeadState(), sFree = LeadState()
            var now: Int64 = t0.milliseconds
            for _ in 0..<30 {
                now += Int64.random(in: 60_000...(18 * 3_600_000), using: &rng)
                let type = ["a", "b", "c", "d", "buy", nil].randomElement(using: &rng)!
                let event = type.map { Event(name: $0, occurredAt: Timestamp(milliseconds: now)) }
                let rc = capped.evaluate(state: sCapped, event: event, now: Timestamp(milliseconds: now))
                let rf = free.evaluate(state: sFree, event: event, now: Timestamp(milliseconds: now))
                sCapped = rc.newState; sFree = rf.newState
                let want = reference.apply(rf.decision.actions, band: rf.decision.band, now: now,
                                           caps: [("ads", [(nil, maxAds, perAds)]),
                                                  ("email", [("low", maxNurture, perEmail), (nil, maxEmail, perEmail)])])
                XCTAssertEqual(rc.decision.actions, want.kept, "sequence \(sequence) at \(Timestamp(milliseconds: now))")
                XCTAssertEqual(rc.decision.suppressed.filter { $0.reason == "frequency_cap" }.map(\.channel), want.capped.sorted(),
                               "sequence \(sequence) at \(Timestamp(milliseconds: now))")
                if rc.decision.actions != want.kept { return }
                decisions += 1
                cappedSeen += want.capped.count
            }
        }
        XCTAssertEqual(decisions, 7_500)
        XCTAssertGreaterThan(cappedSeen, 300, "the random caps should fire often")
    }
}
