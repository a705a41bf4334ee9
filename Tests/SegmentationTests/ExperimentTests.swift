import XCTest
@testable import Segmentation

/// Experiments on a route's channel: the ruleset syntax and its errors, deterministic sticky
/// assignment, the split over many leads, and the decision (variant on the action, holdout in
/// `suppressed`, the explanation naming the arm).
final class ExperimentTests: XCTestCase {
    static func yaml(version: Int = 1, variants: String = "{a: {sequence: pricing-a, weight: 50}, b: {sequence: pricing-b, weight: 50}}",
                     holdout: String = "10%", extra: String = "") -> String {
        """
        version: \(version)
        events: { types: [asked, carted, bought] }
        teams: { inside: { members: [ { id: rep_a } ] } }
        segments:
          - name: decision.high.pricing
            priority: 10
            goal: { when: 'count(bought, 30d) >= 1', within: 14d }
            enter: 'count(asked, 30d) >= 1'
            route:
              email: {experiment: pricing-copy, variants: \(variants), holdout: \(holdout)}
              sales: { queue: high-intent, team: inside }
        \(extra)
        """
    }

    func lead(_ k: Int) -> LeadState {
        var s = LeadState()
        s.id = LeadKey(String(format: "00000000-0000-4000-8000-%012x", k))
        return s
    }

    // MARK: - Syntax

    func testLoadsVariantsSortedWithHoldout() throws {
        let rs = load(Self.yaml(variants: "{b: {sequence: pricing-b, weight: 30}, a: {sequence: pricing-a, weight: 60}}"))
        let e = try XCTUnwrap(rs.segments[0].route.experiments.first)
        XCTAssertEqual(e.name, "pricing-copy")
        XCTAssertEqual(e.channel, "email")
        XCTAssertEqual(e.holdout, 10)
        XCTAssertEqual(e.variants.map(\.key), ["a", "b"])
        XCTAssertEqual(e.variants.map(\.weight), [60, 30])
        XCTAssertEqual(e.variants.map { $0.route.email?.sequence }, ["pricing-a", "pricing-b"])
        XCTAssertNil(rs.segments[0].route.email, "the experiment's channel has no plain action")
        XCTAssertEqual(rs.experiments, [ExperimentDefinition(name: "pricing-copy", channels: ["email"], segments: ["decision.high.pricing"],
                                                             holdout: 10, variants: [.init(key: "a", weight: 60), .init(key: "b", weight: 30)])])
        XCTAssertTrue(rs.hasExperiments)
    }

    func testErrorsHaveLineAndColumn() {
        // (variants, holdout) → the one error, at the offending value on line 10.
        let cases: [(String, String, String)] = [
            ("{a: {sequence: pricing-a, weight: 0}, b: {sequence: pricing-b, weight: 50}}", "10%",
             "10:85: `weight` of variant `a` must be positive; remove the variant to stop it"),
            ("{a: {sequence: pricing-a, weight: 50}, b: {sequence: pricing-b, weight: 50}}", "100%",
             "10:138: `holdout` `100%` must be a percentage from 0% up to (not including) 100%, e.g. 10%"),
            ("{a: {sequence: pricing-a, weight: 50}, b: {sequence: pricing-b, weight: 50}}", "-1",
             "10:138: `holdout` `-1` must be a percentage from 0% up to (not including) 100%, e.g. 10%"),
            ("{a: {audience: pricing-a, weight: 50}}", "10%",
             "10:56: unknown key `audience` in variant `a` of `route.email`; allowed: weight, sequence, delay, window"),
            ("{holdout: {sequence: pricing-a, weight: 50}}", "10%",
             "10:52: variant key `holdout` must be lower-case letters, digits and inner hyphens, and not `holdout` (the held-out arm's name)"),
            ("{a: {sequence: pricing-a}}", "10%", "10:55: variant `a` needs a `weight`, e.g. `weight: 50`"),
            ("{}", "10%", "10:51: `variants` needs at least one variant, e.g. `a: {sequence: pricing-a, weight: 50}`"),
            ("{a: {weight: 50}}", "10%", "10:55: `route.email` needs a `sequence`"),
        ]
        for (variants, holdout, error) in cases {
            XCTAssertEqual(loadErrors(Self.yaml(variants: variants, holdout: holdout)), ["r.yaml:" + error], variants)
        }
        // The same name twice on one channel (here a second segment), and on another channel with other arms.
        let twice = """
              - name: decision.high.cart
                enter: 'count(carted, 7d) >= 1'
                route:
                  email: {experiment: pricing-copy, variants: {a: {sequence: cart-a, weight: 1}}}
                  ads: {experiment: pricing-copy, variants: {a: {audience: cart-a, weight: 1}}}
            """
        XCTAssertEqual(loadErrors(Self.yaml(extra: twice)), [
            "r.yaml:15:27: experiment `pricing-copy` already runs on email (line 10); an experiment name must be unique per channel, so its statistics count one set of leads",
            "r.yaml:16:25: experiment `pricing-copy` also runs on email (line 10) with other variants, weights or holdout; one experiment has one set of arms",
        ])
    }

    func testVariantFieldsAreOrdinaryActionFields() {
        let variants = """
            {a: {sequence: [ {when: 'lead.country == "DE"', value: pricing-a-de}, {value: pricing-a} ], delay: 1h, weight: 1}, b: {sequence: 'pricing-{{ lead.country }}', weight: 1}}
            """
        let engine = Engine(load(Self.yaml(variants: variants, holdout: "0")))
        var seen: Set<String> = []
        for k in 0..<40 {
            var state = lead(k)
            state.country = "DE"
            let d = runEvents(engine, [ev("asked", 0)], state: state).decision
            let email = d.actions.first { $0.channel == "email" }
            XCTAssertNotNil(email)
            switch email?.variant {
            case "a":
                XCTAssertEqual(email?.sequence, "pricing-a-de")
                XCTAssertEqual(email?.sendAt, at(hour))
            case "b":
                XCTAssertEqual(email?.sequence, "pricing-DE")
                XCTAssertNil(email?.sendAt)
            default: XCTFail("no variant: \(d.actions)")
            }
            seen.insert(email?.variant ?? "")
        }
        XCTAssertEqual(seen, ["a", "b"])
    }

    // MARK: - Assignment

    func testAssignmentIsStickyAcrossVersionsAndVariantOrder() {
        let v1 = Engine(load(Self.yaml(version: 1)))
        // Version 2: another version number, the variants written in the other order, a new segment.
        let v2 = Engine(load(Self.yaml(version: 2, variants: "{b: {sequence: pricing-b2, weight: 50}, a: {sequence: pricing-a2, weight: 50}}",
                                       extra: "  - { name: decision.high.cart, enter: 'count(carted, 7d) >= 1', route: { ads: { audience: carts } } }")))
        var arms: [String: Int] = [:]
        for k in 0..<1_000 {
            let first = runEvents(v1, [ev("asked", 0)], state: lead(k))
            let second = v2.evaluate(state: first.newState, event: ev("asked", hour), now: at(hour))
            XCTAssertEqual(arm(first.decision), arm(second.decision), "lead \(k)")
            arms[arm(first.decision), default: 0] += 1
        }
        XCTAssertEqual(Set(arms.keys), ["a", "b", "holdout"])
        // The assignment itself reads nothing but the id and the name.
        XCTAssertEqual(ExperimentAssignment.arm(leadId: "ABC", experiment: "x", holdout: 10, weights: [("a", 1), ("b", 1)]),
                       ExperimentAssignment.arm(leadId: "abc", experiment: "x", holdout: 10, weights: [("a", 1), ("b", 1)]))
    }

    /// Raising the holdout only moves leads into it; a variant's leads stay in that variant.
    func testRaisingTheHoldoutMovesOnlyLeadsIntoIt() {
        for k in 0..<2_000 {
            let id = "lead-\(k)"
            let before = ExperimentAssignment.arm(leadId: id, experiment: "x", holdout: 10, weights: [("a", 50), ("b", 50)])
            let after = ExperimentAssignment.arm(leadId: id, experiment: "x", holdout: 20, weights: [("a", 50), ("b", 50)])
            if before == "holdout" { XCTAssertEqual(after, "holdout") } else if after != "holdout" { XCTAssertEqual(after, before) }
        }
    }

    func testSplitOverTenThousandLeadsIsWithinAPercentOfTheWeights() {
        let engine = Engine(load(Self.yaml(variants: "{a: {sequence: pricing-a, weight: 60}, b: {sequence: pricing-b, weight: 30}}")))
        var counts: [String: Int] = [:]
        let n = 10_000
        for k in 0..<n { counts[arm(runEvents(engine, [ev("asked", 0)], state: lead(k)).decision), default: 0] += 1 }
        // Expected: holdout 10 %, then 90 % split 2 : 1 → a 60 %, b 30 %. One percentage point is
        // more than 3 standard deviations of a share of 10 000 (at most 0.5 points).
        for (arm, share) in [("holdout", 0.10), ("a", 0.60), ("b", 0.30)] {
            XCTAssertEqual(Double(counts[arm] ?? 0) / Double(n), share, accuracy: 0.01, "\(arm): \(counts)")
        }
        // A different experiment name gives an independent assignment of the same leads.
        var same = 0
        for k in 0..<n {
            let id = "lead-\(k)"
            if ExperimentAssignment.arm(leadId: id, experiment: "one", holdout: 0, weights: [("a", 1), ("b", 1)])
                == ExperimentAssignment.arm(leadId: id, experiment: "two", holdout: 0, weights: [("a", 1), ("b", 1)]) { same += 1 }
        }
        XCTAssertEqual(Double(same) / Double(n), 0.5, accuracy: 0.02)
    }

    // MARK: - Decision

    func testHeldOutLeadGetsNoActionOnTheChannelAndTheExplanationSaysWhy() throws {
        let engine = Engine(load(Self.yaml()))
        var held: Decision?, acting: Decision?
        for k in 0..<200 where held == nil || acting == nil {
            let d = runEvents(engine, [ev("asked", 0)], state: lead(k)).decision
            if arm(d) == "holdout" { held = held ?? d } else { acting = acting ?? d }
        }
        let h = try XCTUnwrap(held)
        XCTAssertEqual(h.actions.map(\.channel), ["sales"], "held out of email only")
        XCTAssertEqual(h.suppressed, [SuppressedAction(channel: "email", reason: "holdout", experiment: "pricing-copy", segment: "decision.high.pricing")])
        let note = try XCTUnwrap(h.explanation.actions.first { $0.field == "variant" })
        XCTAssertEqual(note.value, "holdout")
        XCTAssertEqual(note.rule, "experiment pricing-copy by lead id: holdout 10%, a 50, b 50 → holdout")

        let a = try XCTUnwrap(acting)
        let email = try XCTUnwrap(a.actions.first { $0.channel == "email" })
        XCTAssertEqual(email.experiment, "pricing-copy")
        XCTAssertEqual(email.sequence, email.variant == "a" ? "pricing-a" : "pricing-b")
        XCTAssertEqual(email.segment, "decision.high.pricing")
        XCTAssertTrue(a.suppressed.isEmpty)
        XCTAssertEqual(a.explanation.actions.first { $0.field == "variant" }?.value, email.variant)
        XCTAssertNil(a.actions.first { $0.channel == "sales" }?.variant, "the other channel is not in the experiment")
    }

    /// With `routing.all_segments: [email]`, a held-out lead gets no email from its other segments either.
    func testHoldoutBlocksTheChannelForOtherSegments() throws {
        let engine = Engine(load(Self.yaml(extra: """
              - { name: decision.high.cart, priority: 1, enter: 'count(carted, 7d) >= 1', route: { email: { sequence: cart-reminder } } }
            routing: { all_segments: [email] }
            """)))
        var sawHeld = false, sawActing = false
        for k in 0..<200 {
            let d = runEvents(engine, [ev("carted", 0), ev("asked", minute)], state: lead(k)).decision
            let emails = d.actions.filter { $0.channel == "email" }.compactMap(\.sequence)
            if arm(d) == "holdout" {
                XCTAssertEqual(emails, []); sawHeld = true
            } else {
                XCTAssertEqual(emails.count, 2, "\(emails)"); sawActing = true
            }
        }
        XCTAssertTrue(sawHeld && sawActing)
    }

    func testNoExperimentMeansNoVariantFields() {
        let engine = Engine(load(Self.yaml().replacingOccurrences(
            of: "{experiment: pricing-copy, variants: {a: {sequence: pricing-a, weight: 50}, b: {sequence: pricing-b, weight: 50}}, holdout: 10%}",
            with: "{sequence: pricing}")))
        XCTAssertFalse(engine.ruleset.hasExperiments)
        let d = runEvents(engine, [ev("asked", 0)], state: lead(1)).decision
        XCTAssertEqual(d.actions.compactMap(\.variant), [])
        XCTAssertFalse(d.explanation.actions.contains { $0.field == "variant" })
    }

    func arm(_ d: Decision) -> String {
        if d.suppressed.contains(where: { $0.reason == "holdout" }) { return "holdout" }
        return d.actions.first { $0.experiment != nil }?.variant ?? "none"
    }
}
