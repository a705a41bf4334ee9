import XCTest
@testable import Profiles
@testable import RulesTools
@testable import Segmentation

/// For random event sequences through the sample ruleset: nothing changes before
/// `next_evaluation_at`, and something changes at it.
final class NextEvaluationPropertyTests: XCTestCase {
    struct Seen: Equatable {
        var current: [String]; var stage: String?; var band: String?; var primary: String?; var suppressed: [String]
        init(_ d: Decision) {
            current = d.segments.current; stage = d.stage; band = d.band; primary = d.primarySegment
            suppressed = d.suppressed.map(\.channel)
        }
    }

    func testNoChangeBeforeAndAChangeAtNextEvaluation() {
        let engine = Engine(load(sampleYAML))
        let names = ["Product Viewed", "Product Added", "Checkout Started", "Order Completed", "Pricing Requested",
                     "Unsubscribed", "page_viewed", "Mystery"]
        var rng = SplitMix(seed: 7)
        var checkedNext = 0
        for _ in 0..<60 {
            var s = LeadState()
            var now: Int64 = 0
            for _ in 0..<(3 + Int(rng.next() % 8)) {
                now += Int64(rng.next() % UInt64(5 * day))
                // Some events arrive late (occurred up to 2 days before now).
                let occurred = now - (rng.next() % 4 == 0 ? Int64(rng.next() % UInt64(2 * day)) : 0)
                let e = ev(names[Int(rng.next() % UInt64(names.count))], occurred,
                           properties: ["path": .string(rng.next() % 2 == 0 ? "/shipping" : "/home")])
                let r = engine.evaluate(state: s, event: e, now: at(now))
                s = r.newState
                let settled = Seen(engine.evaluate(state: s, now: at(now).date).decision)
                guard let next = r.decision.nextEvaluationAt?.milliseconds else {
                    // No change at any later instant we try.
                    for d in [hour, day, 7 * day, 31 * day, 90 * day] {
                        XCTAssertEqual(Seen(engine.evaluate(state: s, now: at(now + d).date).decision), settled)
                    }
                    continue
                }
                XCTAssertGreaterThan(next, at(now).milliseconds)
                for _ in 0..<5 {
                    let span = next - at(now).milliseconds
                    let t = at(now).milliseconds + 1 + Int64(rng.next() % UInt64(max(1, span - 1)))
                    guard t < next else { continue }
                    XCTAssertEqual(Seen(engine.evaluate(state: s, now: Timestamp(milliseconds: t).date).decision), settled,
                                   "changed before next_evaluation_at")
                }
                XCTAssertEqual(Seen(engine.evaluate(state: s, now: Timestamp(milliseconds: next - 1).date).decision), settled)
                XCTAssertNotEqual(Seen(engine.evaluate(state: s, now: Timestamp(milliseconds: next).date).decision), settled,
                                  "nothing changed at next_evaluation_at")
                checkedNext += 1
            }
        }
        XCTAssertGreaterThan(checkedNext, 50)
    }
}
