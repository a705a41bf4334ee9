import XCTest
@testable import Profiles
@testable import RulesTools
@testable import Segmentation

/// Signal state: what is kept, its encoding and size, missing signals and backfill.
final class SignalStateTests: XCTestCase {
    func testSpecsKeepOnlyWhatThresholdsNeed() {
        let rs = load(sampleYAML)
        let byType = Dictionary(rs.signals.map { ($0.eventType, $0) }, uniquingKeysWith: { a, _ in a })
        // count(added_to_cart, 7d) >= 1 and count(added_to_cart, 14d) >= 1: two most recent within 14d.
        XCTAssertEqual(byType["added_to_cart"]?.keep, 2)
        XCTAssertEqual(byType["added_to_cart"]?.window, 14 * day)
        XCTAssertEqual(byType["product_viewed"]?.keep, 3)
        XCTAssertEqual(byType["*"]?.keepsLatest, true, "inactive() keeps the latest event of any type")
        XCTAssertEqual(byType["*"]?.window, 14 * day)
        XCTAssertEqual(byType["completed_checkout"]?.window, day)
    }

    func testPruneKeepsTheMostRecentInsideTheWindowAndTheLatest() {
        var s = SignalSeries(times: [1, 5, 6, 7, 8, 20], keep: 2, window: 10, keepsLatest: false)
        s.prune(now: 15)
        XCTAssertEqual(s.times, [7, 8, 20], "two most recent in (5, 15], plus the future one")
        var l = SignalSeries(times: [1, 2], keep: 1, window: 5, keepsLatest: true)
        l.prune(now: 100)
        XCTAssertEqual(l.times, [2], "outside the window only the latest stays")
        var cap = SignalSeries(times: Array(0..<100), keep: 64, window: 1000, keepsLatest: false)
        cap.prune(now: 1000)
        XCTAssertEqual(cap.times.count, SignalState.maxTimesPerSignal)
        XCTAssertEqual(cap.times.first, 36)
    }

    func testSaturatedCountsStayExactForTheirThreshold() {
        // keep = 3 for `>= 2`; 10 occurrences, then time passes: the count crosses 2 exactly when a full list would.
        let engine = exprRuleset("count(a, 1d) >= 2", exit: nil)
        var s = LeadState()
        for i in 0..<10 { s = engine.evaluate(state: s, event: ev("a", Int64(i) * hour), now: at(Int64(i) * hour)).newState }
        XCTAssertEqual(s.signals.series.values.map(\.times.count).max(), 3)
        let r = engine.evaluate(state: s, now: at(9 * hour).date)
        XCTAssertEqual(r.decision.nextEvaluationAt, at(8 * hour + day), "the second most recent (8h) leaves at 8h + 1d")
    }

    func testEncodeDecodeRoundTripAndVersion() throws {
        let engine = Engine(load(sampleYAML))
        let r = runEvents(engine, [ev("Product Viewed", 0), ev("Product Viewed", hour), ev("Product Added", 2 * hour),
                                   ev("Pricing Requested", 3 * hour), ev("Order Completed", 4 * hour)])
        let bytes = r.newState.signals.encode()
        XCTAssertEqual(bytes.first, SignalState.formatVersion)
        let back = try SignalState(decoding: bytes)
        XCTAssertEqual(back, r.newState.signals)
        XCTAssertEqual(back.encode(), bytes)
        XCTAssertThrowsError(try SignalState(decoding: [9])) { XCTAssertEqual($0 as? SignalStateDecodingError, .unsupportedVersion(9)) }
        XCTAssertThrowsError(try SignalState(decoding: Array(bytes.dropLast()))) { XCTAssertEqual($0 as? SignalStateDecodingError, .truncated) }
        XCTAssertEqual(try SignalState(decoding: SignalState().encode()), SignalState())
    }

    func testSizeForATwentySegmentRulesetStaysUnderTwoKiB() throws {
        var yaml = """
        version: 1
        events: { types: [v, c, p, w, n, d, s] }
        segments:

        """
        let types = ["v", "c", "p", "w", "n", "d", "s"]
        for i in 0..<20 {
            let t = types[i % types.count], u = types[(i + 3) % types.count]
            yaml += """
              - name: decision.seg\(i).theme
                priority: \(i)
                enter: 'count(\(t), \(i % 4 + 1)d) >= \(i % 3 + 1) or count(\(u) where event.properties.k == "\(i % 5)", 30d) >= 2'
                exit: 'inactive(\(i % 3 + 7)d) or since(\(t)) > 20d'
                route: { email: { sequence: s\(i) } }

            """
        }
        let engine = Engine(load(yaml))
        var s = LeadState()
        var rng = SplitMix(seed: 42)
        var now: Int64 = 0
        for _ in 0..<500 {
            now += Int64(rng.next() % UInt64(6 * hour))
            let e = ev(types[Int(rng.next() % 7)], now, properties: ["k": .string(String(rng.next() % 5))])
            s = engine.evaluate(state: s, event: e, now: at(now)).newState
        }
        let size = s.signals.encode().count
        XCTAssertLessThan(size, 2048, "signal state bytes for 20 segments after 500 events")
        XCTAssertEqual(s.signals.signalCount, engine.ruleset.signals.count)
    }

    func testMissingSignalsAndBackfill() {
        let v1 = Engine(load("""
        version: 1
        events: { types: [a, b] }
        segments:
          - { name: decision.x.a, enter: 'count(a, 7d) >= 1', route: { email: { sequence: s } } }
        """))
        let v2 = Engine(load("""
        version: 2
        events: { types: [a, b] }
        segments:
          - { name: decision.x.a, enter: 'count(a, 7d) >= 1', route: { email: { sequence: s } } }
          - { name: decision.x.b, enter: 'count(b, 7d) >= 2', route: { email: { sequence: s } } }
        """))
        let events = [ev("b", 0), ev("a", hour), ev("b", 2 * hour)]
        let s1 = runEvents(v1, events).newState
        XCTAssertTrue(v1.ruleset.signalsMissing(from: s1.signals).isEmpty)
        let missing = v2.ruleset.signalsMissing(from: s1.signals)
        XCTAssertEqual(missing.map(\.description), ["b"])
        // Without backfill the new signal only sees new events and stays flagged.
        let partial = v2.evaluate(state: s1, now: at(2 * hour).date)
        XCTAssertEqual(partial.decision.segments.current, ["decision.x.a"])
        XCTAssertEqual(v2.ruleset.signalsMissing(from: partial.newState.signals).map(\.description), ["b"])
        // Backfill from stored events: exact again.
        let filled = v2.backfill(state: s1, events: events, now: at(2 * hour))
        XCTAssertTrue(v2.ruleset.signalsMissing(from: filled.signals).isEmpty)
        XCTAssertEqual(v2.evaluate(state: filled, now: at(2 * hour).date).decision.segments.current, ["decision.x.a", "decision.x.b"])
        // A new lead has nothing to backfill: its first evaluation makes every signal complete.
        let fresh = v2.evaluate(state: LeadState(), event: ev("a", 0), now: t0).newState
        XCTAssertTrue(v2.ruleset.signalsMissing(from: fresh.signals).isEmpty)
    }

    func testSignalKeysAreStable() {
        let a = load("version: 1\nevents: { types: [x] }\nsegments:\n  - { name: decision.a.b, enter: 'count(x where event.properties.p == \"q\", 1d) >= 1' }")
        let b = load("version: 1\nevents: { types: [x] }\nsegments:\n  - { name: decision.a.b, enter: \"count( x where event.properties.p=='q' , 2d ) > 3\" }")
        XCTAssertEqual(a.signals.map(\.key), b.signals.map(\.key))
        XCTAssertEqual(a.signals.first?.key, stableHash("x\u{1f}event.properties.p == \"q\""))
        XCTAssertEqual(a.signals.first?.description, "x where event.properties.p == \"q\"")
    }
}

/// A tiny deterministic generator for test data.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e3779b97f4a7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58476d1ce4e5b9
        z = (z ^ (z >> 27)) &* 0x94d049bb133111eb
        return z ^ (z >> 31)
    }
}

extension SignalStateTests {
    func testHigherThresholdOrLongerWindowNeedsBackfill() {
        func engine(_ rule: String) -> Engine {
            Engine(load("version: 1\nevents: { types: [a] }\nsegments:\n  - { name: decision.x.a, enter: '\(rule)', route: { email: { sequence: s } } }"))
        }
        let v1 = engine("count(a, 7d) >= 1"), v2 = engine("count(a, 7d) >= 5"), v3 = engine("count(a, 30d) >= 1")
        let s = runEvents(v1, [ev("a", 0), ev("a", 1), ev("a", 2)]).newState
        XCTAssertEqual(s.signals.series.values.first?.times, [1, 2].map { t0.milliseconds + $0 }, "keep 2 for >= 1")
        XCTAssertEqual(v2.ruleset.signalsMissing(from: s.signals).map(\.keep), [6])
        XCTAssertEqual(v3.ruleset.signalsMissing(from: s.signals).map(\.window), [30 * day])
        XCTAssertTrue(engine("count(a, 1d) >= 1").ruleset.signalsMissing(from: s.signals).isEmpty, "less is covered")
    }
}
