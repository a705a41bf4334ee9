import Foundation
import XCTest
@testable import Profiles
@testable import RulesTools
@testable import Segmentation

/// The engine's compact signal state against a naive reference that keeps every event and
/// recomputes every count/since/inactive and sum/max/min/avg from the full history (Tests/…/Reference): random
/// rulesets (generated YAML with random windows, thresholds, `where` filters, hysteresis,
/// `membership.age`, `in_segment`, priority ties and time-dependent stage rules), random event
/// sequences (late and future-dated events, random gaps, millisecond edges), and random later
/// instants. At every step the current, entered and exited segments, the primary segment and the
/// stage must be equal, and `next_evaluation_at` must never be later than the reference's first
/// change of the decision (nor earlier than the first instant any function's value can change).
/// Half the rulesets have a lead score and some segments their own `score:` (random half-lives,
/// points of both signs, caps, late events): both must equal the reference's sums over every
/// arrival (segment scores from entry on). Some have caps per sliding window on email and sales
/// (one to three entries, the first whose `when` holds applies), sales routes, every current
/// segment's email (`routing.all_segments`) and email routes with `delay`/`window` read in the
/// lead's zone: every email action with its `send_at`, the sales hand-off and each channel's
/// `frequency_cap` suppression with the cap that fired must be the reference's.
final class DifferentialTests: XCTestCase {
    /// Where the random cases start; a fixed base keeps failures reproducible from the seed alone.
    static let base: Int64 = 1_793_610_000_000  // 2026-11-02T09:00:00Z
    static let sequencesPerRuleset = 4
    /// Whether some events are dated a little after they arrive (a client clock ahead); on unless
    /// DIFFERENTIAL_FUTURE=0.
    let futureEvents = ProcessInfo.processInfo.environment["DIFFERENTIAL_FUTURE"] != "0"

    func testEngineAgreesWithFullHistoryReferenceOnRandomRulesetsAndSequences() throws {
        // DIFFERENTIAL_SEED and DIFFERENTIAL_RUNS reproduce a failure or run deeper.
        var stats = DifferentialStats()
        var failed = false
        let runs = try runSeeds("DIFFERENTIAL", firstSeed: 20_261_125, defaultRuns: 500) { seed in
            let failure = try runOne(seed: seed, stats: &stats)
            failed = failed || failure != nil
            return failure
        }
        if failed { return }
        print("differential: \(runs) rulesets, \(stats)")
        XCTAssertEqual(stats.sequences, runs * Self.sequencesPerRuleset)
        guard runs >= 100 else { return }  // a single seed replayed: no statistics to check
        // The generator must really exercise what it claims to (not a vacuous pass).
        XCTAssertGreaterThan(stats.steps, runs * Self.sequencesPerRuleset * 8)
        XCTAssertGreaterThan(stats.probes, runs * Self.sequencesPerRuleset * 8)
        XCTAssertGreaterThan(stats.entered, runs)
        XCTAssertGreaterThan(stats.exited, runs / 2)
        XCTAssertGreaterThan(stats.lateEvents, runs)
        XCTAssertGreaterThan(stats.stageChanges, runs)
        XCTAssertGreaterThan(stats.aggregateRulesets, runs / 4)
        XCTAssertGreaterThan(stats.leadScored, runs * Self.sequencesPerRuleset * 2)
        XCTAssertGreaterThan(stats.segmentScored, runs * 2)
        XCTAssertGreaterThan(stats.nonZeroSegmentScores, runs)
        XCTAssertGreaterThan(stats.capped, runs / 4)
        XCTAssertGreaterThan(stats.salesCapped, runs / 8)
        XCTAssertGreaterThan(stats.cappedByWhen, runs / 8)
        XCTAssertGreaterThan(stats.severalEmails, runs / 4)
        XCTAssertGreaterThan(stats.deferred, runs)
        XCTAssertGreaterThan(stats.deferredOthers, runs / 8)
        // The engine claims exactness (conservative only after its probe limit): nearly every step.
        XCTAssertGreaterThan(Double(stats.exactNext), 0.95 * Double(stats.steps - stats.pendingReentries))
    }

    /// Runs one seed: a random ruleset and `sequencesPerRuleset` random sequences through it.
    /// Returns a description of the first disagreement, or nil.
    func runOne(seed: UInt64, stats: inout DifferentialStats) throws -> String? {
        var factory = RandomRulesetFactory(rng: SeededGenerator(seed: seed), actionVariety: true)
        let ruleset = factory.ruleset(segments: Int.random(in: 2...6, using: &factory.rng))
        let loaded: LoadedRuleset
        do {
            loaded = try Ruleset.load(yaml: ruleset.yaml, fileName: "random.yaml")
        } catch {
            return "the generated ruleset does not load:\n\(error.formatted)\n\(ruleset.yaml)"
        }
        if ["sum(", "max(", "min(", "avg("].contains(where: ruleset.yaml.contains) { stats.aggregateRulesets += 1 }
        let engine = Engine(loaded.ruleset)
        let reference = ReferenceEvaluator(ruleset: ruleset)
        for sequence in 0..<Self.sequencesPerRuleset {
            stats.sequences += 1
            if let problem = try runSequence(engine: engine, reference: reference, factory: &factory, stats: &stats) {
                return "sequence \(sequence): \(problem)"
            }
        }
        return nil
    }

    /// One random event sequence through both evaluators.
    func runSequence(engine: Engine, reference: ReferenceEvaluator, factory: inout RandomRulesetFactory,
                     stats: inout DifferentialStats) throws -> String? {
        let ruleset = reference.ruleset
        var state = LeadState()
        var lead = RefLead()
        lead.zone = factory.zone()
        state.timezone = lead.zone == "UTC" ? nil : lead.zone
        var now = Self.base
        var history: [String] = []
        let steps = Int.random(in: 4...24, using: &factory.rng)
        for step in 0..<steps {
            now += factory.gap()
            var refEvent: RefEvent?
            if factory.rng.chance(0.7) {
                var at = now
                if factory.rng.chance(0.25) {  // late: happened up to 20 days before it arrives
                    at -= Int64.random(in: 0...1_728_000_000, using: &factory.rng)
                    stats.lateEvents += 1
                } else if futureEvents, factory.rng.chance(0.05) {  // a client clock a little ahead
                    at += Int64.random(in: 1...120_000, using: &factory.rng)
                }
                refEvent = factory.event(at: at)
            }
            history.append(describe(step: step, now: now, event: refEvent))
            // Store and reload as the service does: the signal bytes often, the whole row now and then.
            if factory.rng.chance(0.2) { state.signals = try SignalState(decoding: state.signals.encode()) }
            if factory.rng.chance(0.02) { state = try roundTrip(state) }

            let evaluation = engine.evaluate(state: state, event: refEvent.map(engineEvent), now: Timestamp(milliseconds: now))
            let outcome = reference.evaluate(&lead, event: refEvent, now: now)
            state = evaluation.newState
            stats.steps += 1
            stats.entered += outcome.entered.count
            stats.exited += outcome.exited.count
            if outcome.stageChanged { stats.stageChanges += 1 }
            if outcome.score != nil { stats.leadScored += 1 }
            stats.segmentScored += outcome.segmentScores.count
            stats.nonZeroSegmentScores += outcome.segmentScores.values.filter { abs($0) > 0.01 }.count
            if outcome.emailCapped { stats.capped += 1 }
            if outcome.capped["sales"] != nil { stats.salesCapped += 1 }
            if outcome.capped.values.contains(where: \.hasWhen) { stats.cappedByWhen += 1 }
            if outcome.emails.count > 1 { stats.severalEmails += 1 }
            stats.deferred += outcome.emails.filter { ($0.sendAt ?? now) > now }.count
            if outcome.emails.dropFirst().contains(where: { ($0.sendAt ?? now) > now }) { stats.deferredOthers += 1 }
            if let problem = compare(evaluation.decision, outcome) {
                return report(problem, ruleset: ruleset, history: history)
            }
            if let problem = checkNext(evaluation.decision, lead: lead, reference: reference, now: now, stats: &stats) {
                return report(problem, ruleset: ruleset, history: history)
            }
            // Probe later instants without an event, on copies: the state must answer them exactly.
            do {
                let later = now + factory.gap()
                var probeLead = lead
                let probe = engine.evaluate(state: state, event: nil, now: Timestamp(milliseconds: later))
                let expected = reference.evaluate(&probeLead, event: nil, now: later)
                stats.probes += 1
                if let problem = compare(probe.decision, expected) {
                    return report("probe at \(Timestamp(milliseconds: later)): \(problem)", ruleset: ruleset, history: history)
                }
            }
        }
        return nil
    }

    func compare(_ decision: Decision, _ outcome: RefOutcome) -> String? {
        let current = Set(decision.segments.current)
        if current != outcome.current {
            return "current segments: engine \(current.sorted()), reference \(outcome.current.sorted())"
        }
        if Set(decision.segments.entered) != Set(outcome.entered) {
            return "entered: engine \(decision.segments.entered), reference \(outcome.entered.sorted())"
        }
        if Set(decision.segments.exited) != Set(outcome.exited) {
            return "exited: engine \(decision.segments.exited), reference \(outcome.exited.sorted())"
        }
        if decision.stage != outcome.stage {
            return "stage: engine \(decision.stage ?? "none"), reference \(outcome.stage)"
        }
        if decision.primarySegment != outcome.primary {
            return "primary segment: engine \(decision.primarySegment ?? "none"), reference \(outcome.primary ?? "none")"
        }
        return compareScores(decision, outcome) ?? compareActions(decision, outcome)
    }

    /// The actions: every email (which segment's, in order, with its `send_at`), the sales
    /// hand-off, and per channel whether a cap left an action out and which cap it was.
    func compareActions(_ decision: Decision, _ outcome: RefOutcome) -> String? {
        func show(_ t: Int64?) -> String { t.map { Timestamp(milliseconds: $0).description } ?? "none" }
        let emails = decision.actions.filter { $0.channel == "email" }
        if emails.map(\.segment) != outcome.emails.map(\.segment) {
            return "emails from: engine \(emails.map(\.segment)), reference \(outcome.emails.map(\.segment))"
        }
        for (action, expected) in zip(emails, outcome.emails) where action.sendAt?.milliseconds != expected.sendAt {
            return "send_at of \(expected.segment)'s email: engine \(show(action.sendAt?.milliseconds)), reference \(show(expected.sendAt))"
        }
        let sales = decision.actions.first { $0.channel == "sales" }
        if sales?.segment != outcome.sales {
            return "sales from: engine \(sales?.segment ?? "none"), reference \(outcome.sales ?? "none")"
        }
        for channel in ["email", "sales"] {
            let cap = decision.suppressed.first { $0.channel == channel && $0.reason == "frequency_cap" }?.cap
            let expected = outcome.capped[channel]
            let same = switch (cap, expected) {
            case (nil, nil): true
            case let (text?, expected?): expected.hasWhen ? text.hasPrefix(expected.text + " when ") : text == expected.text
            default: false
            }
            if !same {
                return "\(channel) capped by: engine \(cap ?? "none"), reference \(expected.map { $0.text + ($0.hasWhen ? " when …" : "") } ?? "none")"
            }
        }
        return nil
    }

    /// The lead score and each segment score, decayed to the evaluation, against the reference's
    /// sums over every arrival: the decision shows 3 decimals, so within 0.0005 plus the
    /// floating-point drift `ScoreDifferentialTests.tolerance` allows.
    func compareScores(_ decision: Decision, _ outcome: RefOutcome) -> String? {
        func near(_ a: Double, _ b: Double) -> Bool { abs(a - b) <= 0.0005 + ScoreDifferentialTests.tolerance(b) }
        if let expected = outcome.score, !near(decision.score, expected) {
            return "score: engine \(decision.score), reference \(expected)"
        }
        let engine = decision.segmentScores ?? [:]
        if Set(engine.keys) != Set(outcome.segmentScores.keys) {
            return "segment scores for: engine \(engine.keys.sorted()), reference \(outcome.segmentScores.keys.sorted())"
        }
        for (name, expected) in outcome.segmentScores where !near(engine[name]!, expected) {
            return "segment score of \(name): engine \(engine[name]!), reference \(expected)"
        }
        return nil
    }

    /// `next_evaluation_at` is never after the first instant at which the memberships would
    /// change (else the sweeper misses it), never before the first instant any function's value
    /// can change at all (else it is spurious work), and absent only when nothing will change.
    func checkNext(_ decision: Decision, lead: RefLead, reference: ReferenceEvaluator, now: Int64,
                   stats: inout DifferentialStats) -> String? {
        let engineNext = decision.nextEvaluationAt?.milliseconds
        if reference.reentersImmediately(lead, now: now) {
            // Not settled (a member left by `membership.age` while `enter` still holds): the next
            // evaluation, whenever it comes, re-enters, so it is due right away.
            stats.pendingReentries += 1
            guard engineNext == now + 1 else {
                return "next_evaluation_at: engine \(engineNext.map { Timestamp(milliseconds: $0).description } ?? "none"), but the state is not settled: due at now + 1 ms"
            }
            return nil
        }
        // Only instants up to the engine's answer need checking: a change before it is a miss.
        let change = reference.nextChange(lead, now: now, upTo: engineNext ?? .max)
        if engineNext == change { stats.exactNext += 1 }
        switch (engineNext, change) {
        case (nil, nil):
            return nil
        case let (nil, change?):
            return "next_evaluation_at: engine none, but the decision (memberships or stage) changes at \(Timestamp(milliseconds: change))"
        case let (next?, change):
            if next <= now { return "next_evaluation_at \(Timestamp(milliseconds: next)) is not after now" }
            if let change, next > change {
                return "next_evaluation_at: engine \(Timestamp(milliseconds: next)), later than the decision change at \(Timestamp(milliseconds: change))"
            }
            let candidates = reference.candidateInstants(lead, now: now)
            guard let first = candidates.first, next >= first else {
                return "next_evaluation_at: engine \(Timestamp(milliseconds: next)), before any function can change (first \(candidates.first.map { Timestamp(milliseconds: $0).description } ?? "none"))"
            }
            return nil
        }
    }

    func engineEvent(_ event: RefEvent) -> Event {
        var properties: [String: Value] = [:]
        for (key, value) in event.props {
            switch value {
            case let .string(text): properties[key] = .string(text)
            case let .int(number): properties[key] = .number(Double(number))
            }
        }
        return Event(name: event.type, properties: properties, occurredAt: Timestamp(milliseconds: event.at))
    }

    /// The lead row as JSON and back; it must come back equal.
    func roundTrip(_ state: LeadState) throws -> LeadState {
        let copy = try JSONDecoder().decode(LeadState.self, from: JSONEncoder().encode(state))
        XCTAssertEqual(copy, state)
        return copy
    }

    func describe(step: Int, now: Int64, event: RefEvent?) -> String {
        let at = Timestamp(milliseconds: now)
        guard let event else { return "  \(step): evaluate at \(at)" }
        let props = event.props.keys.sorted().map { "\($0)=\(event.props[$0]!)" }.joined(separator: " ")
        return "  \(step): at \(at) event \(event.type) occurred \(Timestamp(milliseconds: event.at)) \(props)"
    }

    func report(_ problem: String, ruleset: RefRuleset, history: [String]) -> String {
        "\(problem)\nruleset:\n\(ruleset.yaml)steps:\n\(history.joined(separator: "\n"))"
    }
}

/// Counters that show the random runs exercised what they claim.
struct DifferentialStats: CustomStringConvertible {
    var sequences = 0
    var steps = 0
    var entered = 0
    var exited = 0
    var stageChanges = 0
    var lateEvents = 0
    var exactNext = 0
    var pendingReentries = 0
    var probes = 0
    /// Rulesets using sum/max/min/avg.
    var aggregateRulesets = 0
    /// Steps with a lead score, segment scores compared, and those of them not near 0.
    var leadScored = 0
    var segmentScored = 0
    var nonZeroSegmentScores = 0
    /// Steps whose email a cap left out, whose sales hand-off a cap left out, where a cap with a
    /// `when` fired; steps with more than one email (`routing.all_segments`).
    var capped = 0
    var salesCapped = 0
    var cappedByWhen = 0
    var severalEmails = 0
    /// Emails whose `send_at` is after now; steps where a non-primary email is among them.
    var deferred = 0
    var deferredOthers = 0

    var description: String {
        "\(sequences) sequences (\(aggregateRulesets) rulesets with value aggregates), \(steps) steps, \(probes) probes, \(entered) entries, \(exited) exits, "
            + "\(stageChanges) stage changes, \(lateEvents) late events, \(leadScored) steps with a lead score, "
            + "\(segmentScored) segment scores (\(nonZeroSegmentScores) not near 0), \(capped) steps with email capped, "
            + "\(salesCapped) with sales capped, \(cappedByWhen) capped by a cap with `when`, \(severalEmails) with several emails, "
            + "\(deferred) emails sent later (send_at; \(deferredOthers) steps with a later non-primary one), "
            + "next_evaluation_at = first decision change (or both none) in \(exactNext) steps; "
            + "\(pendingReentries) steps left an immediate re-entry pending"
    }
}
