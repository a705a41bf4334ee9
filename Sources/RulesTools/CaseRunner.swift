import Foundation
import Segmentation

/// Plays test cases against a ruleset with the real engine, the way the service would: events are
/// evaluated when received, a CRM status change or profile update is followed by an evaluation,
/// and (with `sweep`) the lead is re-evaluated at every `next_evaluation_at` that falls due.
public struct CaseRunner: Sendable {
    /// A bound on sweeps between two steps, so an engine that never settles is reported, not hung.
    public static let maxSweepsPerStep = 10_000

    /// The engine the cases run on.
    public let engine: Engine

    /// A runner for cases against `ruleset` (load it with `Ruleset.load` or `RulesCheckReport`).
    public init(ruleset: Ruleset) { engine = Engine(ruleset) }

    /// Runs one case to its end and collects every failed expectation.
    public func run(_ testCase: TestCase) -> CaseOutcome {
        var state = LeadProfile.state(from: testCase.lead, at: Timestamp(testCase.start))
        var outcome = CaseOutcome(name: testCase.name, line: testCase.line, failures: [], segmentsEntered: [])
        var pending: Timestamp?
        var entered: Set<String> = []
        var exited: Set<String> = []
        func apply(_ evaluation: Evaluation) {
            state = evaluation.newState
            pending = evaluation.decision.nextEvaluationAt
            entered.formUnion(evaluation.decision.segments.entered)
            outcome.segmentsEntered.formUnion(evaluation.decision.segments.entered)
            exited.formUnion(evaluation.decision.segments.exited)
        }
        for step in testCase.steps {
            let now = Timestamp(step.evaluatedAt)
            var sweeps = 0
            while testCase.sweep, let due = pending, due <= now {
                let before = due
                apply(engine.evaluate(state: state, event: nil, now: due))
                sweeps += 1
                if sweeps > Self.maxSweepsPerStep || (pending.map { $0 <= before } ?? false) {
                    outcome.failures.append(StepFailure(step: step, start: testCase.start, mismatches: [], error:
                        "the engine's next_evaluation_at did not move past \(before) (sweep \(sweeps)): it must be after the evaluation instant"))
                    pending = nil
                }
            }
            let evaluation: Evaluation
            switch step.action {
            case let .event(event, _):
                LeadProfile.apply(traits: event.traits, to: &state)
                evaluation = event.kind == "identify"
                    ? engine.evaluate(state: state, event: nil, now: now)
                    : engine.evaluate(state: state, event: engineEvent(event, at: step.at), now: now)
            case let .setStatus(status):
                state.setStatus(status, at: now)
                evaluation = engine.evaluate(state: state, event: nil, now: now)
            case .evaluate:
                evaluation = engine.evaluate(state: state, event: nil, now: now)
            }
            apply(evaluation)
            if let expect = step.expect {
                let observed = Self.observe(evaluation.decision, state: state, entered: entered, exited: exited)
                let mismatches = expect.mismatches(against: observed)
                if !mismatches.isEmpty {
                    outcome.failures.append(StepFailure(step: step, start: testCase.start, mismatches: mismatches, error: nil))
                }
            }
            entered = []
            exited = []
        }
        return outcome
    }

    func engineEvent(_ event: CaseEvent, at: Date) -> Event {
        let name = event.kind == "page" ? "page_viewed" : (event.name ?? "")
        return Event(name: name, properties: event.properties.mapValues(\.engineValue),
                     context: event.context.mapValues(\.engineValue), occurredAt: at)
    }

    static func observe(_ decision: Decision, state: LeadState, entered: Set<String>, exited: Set<String>) -> ObservedDecision {
        ObservedDecision(
            stage: decision.stage, status: decision.status, band: decision.band, customer: state.customer,
            score: decision.score, current: decision.segments.current,
            entered: entered.sorted(), exited: exited.sorted(), primarySegment: decision.primarySegment,
            actions: decision.actions.map { ($0.channel, fields(of: $0)) },
            suppressed: decision.suppressed.map { ($0.channel, $0.reason) },
            nextEvaluationAt: decision.nextEvaluationAt?.date)
    }

    /// An action's fields by their JSON names, for comparing with what a case wrote.
    static func fields(of action: Action) -> [String: String] {
        let pairs: [(String, String?)] = [
            ("segment", action.segment), ("sequence", action.sequence), ("audience", action.audience),
            ("landing_page", action.landingPage), ("queue", action.queue), ("team", action.team),
            ("owner_id", action.ownerId), ("sla_due_at", action.slaDueAt?.description),
            ("assigned_by", action.assignedBy), ("script", action.script),
            ("send_at", action.sendAt?.description), ("band", action.band),
            ("experiment", action.experiment), ("variant", action.variant),
        ]
        return Dictionary(uniqueKeysWithValues: pairs.compactMap { key, value in value.map { (key, $0) } })
    }
}

/// The result of one case.
public struct CaseOutcome: Sendable {
    /// The case's name.
    public var name: String
    /// 1-based line of the case in its file.
    public var line: Int
    /// Every step whose decision differed, in order; empty when the case passed.
    public var failures: [StepFailure]
    /// Every segment the lead entered during the case (to check that cases cover a ruleset).
    public var segmentsEntered: Set<String>
    /// True when every expectation held.
    public var passed: Bool { failures.isEmpty }
}

/// A step whose decision differed from its expectation (or that could not run).
public struct StepFailure: Sendable {
    /// 1-based line of the step in its file.
    public var line: Int
    /// 1-based column of the step in its file.
    public var column: Int
    /// The step's `at` as an offset from the case start, e.g. `+1d40m`.
    public var offset: String
    /// The step's `at` as an ISO-8601 instant.
    public var instant: String
    /// The fields that differ.
    public var mismatches: [CaseMismatch]
    /// Why the step could not be checked, if it could not.
    public var error: String?

    init(step: CaseStep, start: Date, mismatches: [CaseMismatch], error: String?) {
        line = step.line
        column = step.column
        offset = CaseTime.offset(from: start, to: step.at)
        instant = Timestamp(step.at).description
        self.mismatches = mismatches
        self.error = error
    }
}
