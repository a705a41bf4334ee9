import Foundation
import XCTest
@testable import Segmentation

/// What a backtest's quick replay asks of the engine changes nothing else: `Engine.explains` off
/// leaves out the explanation only, and `nextEvaluationBefore:` leaves out a `next_evaluation_at`
/// at or after the horizon only. Along random journeys (events of every type the ruleset knows,
/// random properties, pages and zones, late events, sweeps at `next_evaluation_at` and at random
/// later instants) through the shipped ruleset and through random rulesets, every evaluation's new
/// state, decision (explanation aside), `next_evaluation_at`, goals and stage goals equal those of
/// the explaining engine, its explanation is empty, and with a random horizon the decision carries
/// `next_evaluation_at` exactly when it is before the horizon. `Engine.describesLead` off as
/// well leaves out `segments.current`, `segment_scores` and the stage goals only.
final class QuickEvaluationTests: XCTestCase {
    func testTheShippedRulesetDecidesTheSameWithoutExplanations() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../config/segments.yaml")
        let ruleset = try Ruleset.load(yaml: String(contentsOf: url, encoding: .utf8), fileName: "segments.yaml").ruleset
        var explained = 0, scheduled = 0, described = 0, scored = 0
        for seed in UInt64(1)...40 {
            let (changes, nexts, current, scores) = try compareJourney(Engine(ruleset), seed: seed, steps: 60)
            explained += changes; scheduled += nexts; described += current; scored += scores
        }
        XCTAssertGreaterThan(explained, 200, "the explaining engine did explain (not a vacuous comparison)")
        XCTAssertGreaterThan(scheduled, 500, "evaluations scheduled sweeps")
        XCTAssertGreaterThan(described, 200, "decisions listed current segments for describesLead to leave out")
        XCTAssertGreaterThan(scored, 500, "decisions carried `segment_scores` for describesLead to leave out")
    }

    /// `describesLead` off on a lead with a segment score: the scores and the current list are
    /// left out, the stored state (scores included) is the same, at every step.
    func testWithoutDescribingTheLeadTheStateKeepsItsSegmentScores() throws {
        let engine = Engine(load(SegmentScoreTests.yaml))
        var bare = engine
        bare.explains = false
        bare.describesLead = false
        var full = LeadState(), lean = LeadState()
        for (step, (name, offset)) in [("viewed", 0), ("viewed", hour), ("left", day), ("viewed", 3 * day)].enumerated() {
            let a = engine.evaluate(state: full, event: ev(name, offset), now: at(offset))
            let b = bare.evaluate(state: lean, event: ev(name, offset), now: at(offset), nextEvaluationBefore: .max)
            XCTAssertEqual(b.newState, a.newState, "step \(step)")
            XCTAssertEqual(b.decision.segments.entered, a.decision.segments.entered, "step \(step)")
            XCTAssertEqual(b.decision.segments.exited, a.decision.segments.exited, "step \(step)")
            XCTAssertEqual(b.decision.actions, a.decision.actions, "step \(step)")
            XCTAssertEqual(b.decision.nextEvaluationAt, a.decision.nextEvaluationAt, "step \(step)")
            XCTAssertEqual(b.decision.segments.current, [], "step \(step)")
            XCTAssertNil(b.decision.segmentScores, "step \(step)")
            if name == "viewed" {
                XCTAssertTrue(a.decision.segments.current.contains("consideration.x.comparer"), "step \(step)")
                XCTAssertFalse(a.decision.segmentScores?.isEmpty ?? true, "step \(step): the full decision has the score")
                XCTAssertFalse(b.newState.segmentScores.isEmpty, "step \(step): the state keeps it")
            }
            full = a.newState; lean = b.newState
        }
    }

    func testRandomRulesetsDecideTheSameWithoutExplanations() throws {
        var explained = 0, scheduled = 0
        for seed in UInt64(20_261_207)..<20_261_207 + 60 {
            var factory = RandomRulesetFactory(rng: SeededGenerator(seed: seed), actionVariety: true)
            let random = factory.ruleset(segments: Int.random(in: 2...6, using: &factory.rng))
            let ruleset = try Ruleset.load(yaml: random.yaml, fileName: "random.yaml").ruleset
            let (changes, nexts, _, _) = try compareJourney(Engine(ruleset), seed: seed, steps: 30)
            explained += changes; scheduled += nexts
        }
        XCTAssertGreaterThan(explained, 100)
        XCTAssertGreaterThan(scheduled, 300)
    }

    /// One journey through `engine` and its copy without explanations, from the same states;
    /// returns how many evaluations changed a segment (and so had something to explain) and how
    /// many scheduled a sweep (so had a `next_evaluation_at` a horizon could cut), listed current
    /// segments, and carried segment scores (both of which `describesLead` off leaves out).
    func compareJourney(_ engine: Engine, seed: UInt64, steps: Int) throws -> (changes: Int, nexts: Int, current: Int, scores: Int) {
        var quiet = engine
        quiet.explains = false
        var bare = quiet
        bare.describesLead = false
        var rng = SeededGenerator(seed: seed)
        let types = engine.ruleset.plan.events.keys.sorted() + ["page_viewed", "unknown_thing"]
        var state = LeadState(email: rng.chance(0.5) ? "lead\(seed)@example.com" : nil, country: rng.chance(0.5) ? "DE" : nil)
        state.id = LeadKey("00000000-0000-4000-8000-\(String(format: "%012d", seed))")
        var now: Int64 = 1_793_610_000_000
        var changes = 0, nexts = 0, current = 0, scores = 0
        for step in 0..<steps {
            var event: Event?
            if let next = try quietStep(engine, quiet, state: state, event: nil, now: now).nextEvaluationAt, rng.chance(0.3) {
                now = next.milliseconds   // the sweep the live service would make
            } else {
                now += Int64.random(in: 1...(rng.chance(0.3) ? 40 : 2) * 86_400_000, using: &rng)
                if rng.chance(0.8) {
                    var context: [String: Value] = ["page": .object(["path": .string(rng.pick(["/p/1", "/shipping", "/guides", "/c/bags"]))])]
                    if rng.chance(0.2) { context["timezone"] = .string(rng.pick(["Europe/Berlin", "America/New_York"])) }
                    event = Event(name: rng.pick(types), properties: [
                        "category": .string(rng.pick(["skincare-sets", "bags & backpacks", "gym"])),
                        "price": .number(Double(Int.random(in: 0...900, using: &rng))), "value": .number(Double(Int.random(in: 0...900, using: &rng))),
                        "path": .string(rng.pick(["/shipping", "/returns", "/p/2"])), "revenue": .number(Double(Int.random(in: 0...2000, using: &rng))),
                    ], context: context, occurredAt: Timestamp(milliseconds: now - (rng.chance(0.1) ? Int64.random(in: 0...5 * 86_400_000, using: &rng) : 0)))
                }
            }
            let full = engine.evaluate(state: state, event: event, now: Timestamp(milliseconds: now))
            let lean = quiet.evaluate(state: state, event: event, now: Timestamp(milliseconds: now))
            let at = "seed \(seed), step \(step)"
            XCTAssertEqual(lean.newState, full.newState, at)
            var decision = full.decision
            decision.explanation = Explanation()
            XCTAssertEqual(lean.decision, decision, at)
            XCTAssertEqual(lean.decision.explanation, Explanation(), at)
            XCTAssertEqual(lean.goalsReached, full.goalsReached, at)
            XCTAssertEqual(lean.stageGoalsHeld, full.stageGoalsHeld, at)
            let horizon = now + Int64.random(in: -86_400_000...30 * 86_400_000, using: &rng)
            let bounded = quiet.evaluate(state: state, event: event, now: Timestamp(milliseconds: now), nextEvaluationBefore: horizon)
            var expected = lean.decision
            expected.nextEvaluationAt = full.decision.nextEvaluationAt.flatMap { $0.milliseconds < horizon ? $0 : nil }
            XCTAssertEqual(bounded.decision, expected, "\(at), horizon \(horizon)")
            XCTAssertEqual(bounded.newState, full.newState, at)
            // What a backtest's replay runs: the same horizon, without describing the lead.
            let replayed = bare.evaluate(state: state, event: event, now: Timestamp(milliseconds: now), nextEvaluationBefore: horizon)
            var undescribed = expected
            undescribed.segments.current = []
            undescribed.segmentScores = nil
            XCTAssertEqual(replayed.decision, undescribed, "\(at), horizon \(horizon)")
            XCTAssertEqual(replayed.newState, full.newState, at)
            XCTAssertEqual(replayed.goalsReached, full.goalsReached, at)
            XCTAssertEqual(replayed.stageGoalsHeld, [], at)
            if !full.decision.segments.current.isEmpty { current += 1 }
            if full.decision.segmentScores != nil { scores += 1 }
            if full.decision.nextEvaluationAt != nil { nexts += 1 }
            if !full.decision.segments.entered.isEmpty || !full.decision.segments.exited.isEmpty {
                XCTAssertFalse(full.decision.explanation.segments.isEmpty, at)
                changes += 1
            }
            state = full.newState
        }
        return (changes, nexts, current, scores)
    }

    /// The decision an event-less evaluation at `now` makes (for its `next_evaluation_at`); both
    /// engines must agree on it too.
    func quietStep(_ engine: Engine, _ quiet: Engine, state: LeadState, event: Event?, now: Int64) throws -> Decision {
        let full = engine.evaluate(state: state, event: event, now: Timestamp(milliseconds: now)).decision
        XCTAssertEqual(quiet.evaluate(state: state, event: event, now: Timestamp(milliseconds: now)).decision.nextEvaluationAt, full.nextEvaluationAt)
        return full
    }
}
