import XCTest
@testable import Segmentation

/// A backfill fed page by page (`Engine.Backfill`, what ingest does with a lead's history read in
/// pages after a merge) must rebuild exactly the signals a backfill over the whole history does,
/// whatever the page size, while holding only the kept occurrences between pages.
final class StreamedBackfillTests: XCTestCase {
    let engine = Engine(load("""
        version: 1
        events: { types: [a, b, c] }
        segments:
          - { name: decision.x.a, enter: 'count(a, 7d) >= 3', route: { email: { sequence: s } } }
          - { name: decision.x.b, enter: 'count(b where event.properties.p == "q", 2d) >= 2 and since(b) < 1d', route: { email: { sequence: s } } }
          - { name: decision.x.c, enter: 'count(c, 30d) > 5', exit: 'inactive(3d)', route: { email: { sequence: s } } }
        """))

    func testPagedBackfillEqualsWholeBackfillForEveryPageSize() {
        var rng = SeededGenerator(seed: 42)
        let hour: Int64 = 3_600_000
        // 3 000 events over 60 days, oldest first, some in the future of `now` (up to a day ahead).
        var offsets = (0..<3_000).map { _ in Int64.random(in: -60 * 24 * hour...24 * hour, using: &rng) }
        offsets.sort()
        let events = offsets.map { offset -> Event in
            let name = ["a", "b", "c", "zz"][Int.random(in: 0..<4, using: &rng)]
            return ev(name, offset, properties: ["p": .string(Bool.random(using: &rng) ? "q" : "r")])
        }
        let now = at(0)
        // A lead with history whose stored signals are empty (as after a merge): every signal is missing.
        var state = LeadState()
        state.lastEventAt = at(-hour)
        XCTAssertFalse(engine.ruleset.signalsMissing(from: state.signals).isEmpty)
        let whole = engine.backfill(state: state, events: events, now: now)
        XCTAssertTrue(engine.ruleset.signalsMissing(from: whole.signals).isEmpty)
        for pageSize in [1, 2, 7, 100, 999, 3_000, 5_000] {
            var backfill = Engine.Backfill(engine: engine, state: state, now: now)
            XCTAssertTrue(backfill.isNeeded)
            var start = 0
            while start < events.count {
                let end = min(start + pageSize, events.count)
                backfill.add(Array(events[start..<end]))
                start = end
                // Between pages only the kept occurrences remain (bounded, not the history).
                for (_, series) in backfill.rebuilding {
                    XCTAssertLessThanOrEqual(series.times.count, SignalState.maxTimesPerSignal, "page size \(pageSize)")
                }
            }
            XCTAssertEqual(backfill.finish().signals, whole.signals, "page size \(pageSize)")
        }
        // Nothing missing: nothing to read.
        XCTAssertFalse(Engine.Backfill(engine: engine, state: whole, now: now).isNeeded)
    }
}
