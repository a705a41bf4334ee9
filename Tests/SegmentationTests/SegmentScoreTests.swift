import XCTest
@testable import Segmentation

/// A segment's own `score:`: per member, decayed like the lead score, reset on entry, dropped on
/// exit, in the decision as `segment_scores`; checked against a reference that recomputes it from
/// every scored event since entry.
final class SegmentScoreTests: XCTestCase {
    /// Also what `QuickEvaluationTests` replays without describing the lead.
    static let yaml = """
    version: 1
    events: { types: [viewed, left] }
    segments:
      - name: consideration.x.comparer
        enter: 'count(viewed, 30d) >= 1'
        exit: 'count(left, 1d) >= 1'
        score:
          half_life: 7d
          rules:
            - { when: 'event.type == "page_viewed" and event.properties.path in ["/shipping", "/returns"]', points: 10 }
            - { when: 'event.type == "viewed"', points: 1, cap: 3 }
        route: { email: { sequence: s } }
      - { name: consideration.x.other, enter: 'true', route: { email: { sequence: o } } }
    """

    func page(_ path: String, _ at: Int64) -> Event { ev("page_viewed", at, properties: ["path": .string(path)]) }

    func testScoreDecaysResetsOnEntryAndLeavesWithTheMember() throws {
        let engine = Engine(load(Self.yaml))
        var r = runEvents(engine, [page("/shipping", 0)])
        XCTAssertEqual(r.decision.segmentScores, [:], "not a member yet: no score, the page view before entry does not count")
        r = engine.evaluate(state: r.newState, event: ev("viewed", hour), now: at(hour))
        XCTAssertEqual(r.decision.segmentScores, ["consideration.x.comparer": 1])
        r = engine.evaluate(state: r.newState, event: page("/returns", 2 * hour), now: at(2 * hour))
        XCTAssertEqual(r.decision.segmentScores?["consideration.x.comparer"] ?? 0, 10 + pow(0.5, 1.0 / 168), accuracy: 0.001)
        // One half-life later, without an event: decayed.
        r = engine.evaluate(state: r.newState, now: at(2 * hour + 7 * day).date)
        XCTAssertEqual(r.decision.segmentScores?["consideration.x.comparer"] ?? 0, (10 + pow(0.5, 1.0 / 168)) / 2, accuracy: 0.001)
        // Leaving drops it; entering again starts from 0.
        r = engine.evaluate(state: r.newState, event: ev("left", 8 * day), now: at(8 * day))
        XCTAssertEqual(r.decision.segmentScores, [:])
        r = engine.evaluate(state: r.newState, event: ev("viewed", 10 * day), now: at(10 * day))
        XCTAssertEqual(r.decision.segmentScores, ["consideration.x.comparer": 1])
        let json = try JSONEncoder().encode(r.newState)
        XCTAssertEqual(try JSONDecoder().decode(LeadState.self, from: json).segmentScores, r.newState.segmentScores)
        XCTAssertNil(Engine(load(sampleYAML)).evaluate(state: LeadState(), event: ev("Product Added", 0), now: at(0)).decision.segmentScores)
    }

    func testCheckErrors() {
        let base = "version: 1\nsegments:\n  - name: decision.x.y\n    enter: 'true'\n"
        XCTAssertEqual(loadErrors(base + "    score: { bands: [ { action: a } ], rules: [] }"),
                       ["r.yaml:5:21: a segment's `score` has no `bands`: bands belong to the lead score (`scoring.bands`)"])
        XCTAssertEqual(loadErrors(base + "    score: { rules: [ { when: 'lead.scor > 1', points: 1 } ] }"),
                       ["r.yaml:5:32: unknown field `lead.scor` (did you mean `lead.score`?)"])
        XCTAssertEqual(loadErrors(base + "    scor: { rules: [] }"),
                       ["r.yaml:5:5: unknown key `scor` in a segment (did you mean `score`?); allowed: name, description, owner, priority, enter, exit, route, goal, score"])
    }

    /// Random journeys: the engine's stored, decayed score against a sum over every scored event
    /// since the latest entry, each `points · 0.5^((now − t) / half_life)` with the cap applied as
    /// the engine's specification says (in arrival order, against the decayed running total).
    func testAgreesWithAFullHistoryReference() {
        let engine = Engine(load(Self.yaml))
        var rng = SeededGenerator(seed: 11)
        var checked = 0
        for _ in 0..<300 {
            var s = LeadState()
            var now: Int64 = t0.milliseconds
            var history: [(at: Int64, key: Int)] = []   // scored arrivals since entry: 0 = page, 1 = viewed
            var member = false
            for _ in 0..<25 {
                now += Int64.random(in: 60_000...(3 * 86_400_000), using: &rng)
                let kind = Int.random(in: 0..<4, using: &rng)
                let event: Event
                switch kind {
                case 0: event = Event(name: "page_viewed", properties: ["path": .string(["/shipping", "/returns", "/home"].randomElement(using: &rng)!)], occurredAt: Timestamp(milliseconds: now))
                case 1, 2: event = Event(name: "viewed", occurredAt: Timestamp(milliseconds: now))
                default: event = Event(name: "left", occurredAt: Timestamp(milliseconds: now))
                }
                let r = engine.evaluate(state: s, event: event, now: Timestamp(milliseconds: now))
                s = r.newState
                let isMember = r.decision.segments.current.contains("consideration.x.comparer")
                if isMember && !member { history = [] }
                member = isMember
                guard isMember else { XCTAssertNil(r.decision.segmentScores?["consideration.x.comparer"]); continue }
                if kind == 0, case .string(let p)? = event.properties["path"], p != "/home" { history.append((now, 0)) }
                if kind == 1 || kind == 2 { history.append((now, 1)) }
                // Reference: replay the arrivals, decaying between them.
                var total = 0.0, viewedPart = 0.0, last: Int64? = nil
                for h in history {
                    if let l = last { let f = pow(0.5, Double(h.at - l) / Double(7 * day)); total *= f; viewedPart *= f }
                    last = h.at
                    if h.key == 0 { total += 10 } else { let add = max(0, min(1, 3 - viewedPart)); viewedPart += add; total += add }
                }
                if let l = last { total *= pow(0.5, Double(now - l) / Double(7 * day)) }
                XCTAssertEqual(s.segmentScores["consideration.x.comparer"]?.score ?? -1, total, accuracy: 1e-9 * max(1, total) + 1e-8)
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 3000)
    }
}
