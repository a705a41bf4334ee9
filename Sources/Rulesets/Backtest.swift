import Essentials
import Foundation
import LeadStore
import Postgres
import Segmentation

/// A backtest: the stored events of `[from, to)` replayed, lead by lead, through a candidate
/// ruleset and through the active one in the pure engine — nothing is written to lead state —
/// and what would differ reported. Each lead starts from its state at `from`: its stored profile
/// (who it is) with nothing accrued, brought forward by its events of the warm-up `[from −
/// warmup, from)` (evaluated, not counted); it then takes its events of the period in order
/// (each evaluated at its own time), with the sweeper's time-based re-evaluations between them
/// where the live service would make them, and is evaluated once more at `to`. See docs/rulesets.md#backtest.
public struct Backtest: Sendable {
    public let candidate: Engine
    public let active: Engine
    public let from: Date
    public let to: Date
    /// The share of leads replayed (deterministic by lead id), in (0, 1].
    public let sample: Double
    /// How far before `from` a lead's events are replayed to rebuild its state at `from`
    /// (seconds): by default the longest signal window of either version, which is what any
    /// count at `from` can look back over (and the retention job's floor).
    public var warmup: Double
    /// Events read per page (one keyset query each; the next page is read while this one is replayed).
    public var pageSize = 20_000
    /// Replays every lead with explanations and every `next_evaluation_at` worked out in full, as
    /// the report's examples are: the report must be the same either way (`BacktestTests`); only slower.
    public var explainsEveryLead = false
    /// `candidate` and `active` without explanations (`Engine.explains`): what every lead is
    /// replayed with (`bounded` too). The report reads explanations only for its examples, which
    /// are replayed again with them (`LeadOutcome.explainedEntries`); building them for every
    /// evaluation was a large share of a replay's cost (docs/benchmarks/backtest.md).
    let quickCandidate: Engine, quickActive: Engine
    /// Compiles both versions again from their YAML (same versions, same numbers), for each
    /// replay worker after the first (`withOwnEngines`). Workers sharing one compiled ruleset
    /// retain and release its nodes, closures and names from two cores at once: every such
    /// atomic bounced a cache line between them, and two workers used a fifth more CPU than one
    /// for the same replay (docs/benchmarks/backtest.md). Nil: the workers share the engines.
    public var compileEngines: (@Sendable () throws -> (candidate: Engine, active: Engine))?

    /// The engines work out `next_evaluation_at`: it says when the replay sweeps.
    public init(candidate: Engine, active: Engine, from: Date, to: Date, sample: Double = 1) {
        var candidate = candidate, active = active
        candidate.computesNextEvaluation = true; active.computesNextEvaluation = true
        candidate.explains = true; active.explains = true
        self.candidate = candidate; self.active = active; self.from = from; self.to = to; self.sample = sample
        var quickCandidate = candidate, quickActive = active
        quickCandidate.explains = false; quickActive.explains = false
        quickCandidate.describesLead = false; quickActive.describesLead = false
        self.quickCandidate = quickCandidate; self.quickActive = quickActive
        warmup = Double((candidate.ruleset.signals + active.ruleset.signals).map(\.window).max() ?? 0) / 1000
    }

    /// This backtest with its own compiled copies of both versions (`compileEngines`), or
    /// itself when there is nothing to compile them from. The engines are equal, so the
    /// replay and its report are the same (`BacktestTests`).
    func withOwnEngines() throws -> Backtest {
        guard let compileEngines else { return self }
        let engines = try compileEngines()
        var copy = Backtest(candidate: engines.candidate, active: engines.active, from: from, to: to, sample: sample)
        copy.warmup = warmup; copy.pageSize = pageSize; copy.explainsEveryLead = explainsEveryLead
        copy.compileEngines = compileEngines
        return copy
    }

    /// One engine's replay of one lead.
    public struct Replay: Sendable {
        /// The evaluation at `to`.
        public var final: Evaluation
        /// Segment → how many times the lead entered / left it during the period.
        public var entries: [String: Int] = [:]
        public var exits: [String: Int] = [:]
        /// Segment → how many of the period's entries reached the segment's `goal` within its
        /// horizon, by `to` (each entry counts once, as in segment metrics).
        public var goalsReached: [String: Int] = [:]
        /// The last decision that entered a segment: what explains the lead's memberships (its
        /// `explanation` empty unless the engine explains, `LeadOutcome.explainedEntries`).
        public var lastEntry: Decision?
    }

    /// Both replays of one lead.
    public struct LeadOutcome: Sendable {
        public var leadId: UUID
        public var candidate: Replay
        public var active: Replay
        /// The lead's memberships as stored today.
        public var current: Set<String>
        /// Events of the period replayed (warm-up events not counted).
        public var events: Int
        /// Both sides' `lastEntry` with its explanation: the lead replayed again through the
        /// explaining engines when the replays above left explanations out — the same
        /// evaluations, so the same decisions, now explained. Only the report's examples ask.
        public var explainedEntries: @Sendable () -> (candidate: Decision?, active: Decision?)
    }

    /// Whether `lead` is in the sample: the first 8 bytes of its id as a fraction of 2^64.
    func sampled(_ lead: UUID) -> Bool { sample >= 1 || Self.position(lead) < sample }

    /// Where a lead id sits in id order, in [0, 1): random ids spread evenly, so the last lead
    /// done is the walk's progress.
    static func position(_ lead: UUID) -> Double {
        let u = lead.uuid
        let high = [u.0, u.1, u.2, u.3, u.4, u.5, u.6, u.7].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return Double(high) / 18_446_744_073_709_551_616.0
    }

    /// The state a lead starts its warm-up with: who it is (the stored profile: identify traits
    /// are not kept as a history, so they and the time zone are today's), with nothing accrued — no status, stage,
    /// score, memberships, signals, sources, interest, sends or segment scores; the replay
    /// rebuilds what the engine derives from events.
    static func startState(_ stored: LeadState?) -> LeadState {
        guard let s = stored else { return LeadState() }
        var state = LeadState(email: s.email, userId: s.userId, country: s.country, region: s.region,
                              shipToRegion: s.shipToRegion, company: s.company, traits: s.traits)
        state.timezone = s.timezone
        return state
    }

    /// Replays `events` (one lead's, oldest first) from `start` through `engine`: those before
    /// `from` bring the state forward uncounted; those after are counted.
    ///
    /// Between events, and between the last one and `to`, the lead is evaluated without an event
    /// whenever the live sweeper would look at it, at exactly that time: the schedule is kept as
    /// the lead row keeps `next_evaluation_at` (an event's evaluation keeps an earlier time
    /// already scheduled, a sweep stores its own; `Store.leadSaveQueries`), and a sweep due
    /// before an event's time runs before it (one due at the same millisecond is the event's
    /// own evaluation). So a membership whose window runs out between two events ends when it
    /// would have live — and a later event enters it again — instead of lasting to that event.
    ///
    /// `bounded`: each evaluation looks for `next_evaluation_at` only as far as the schedule can
    /// use it (`Engine.evaluate(…, nextEvaluationBefore:)`): an event's only before the time
    /// already scheduled, any only before `to`. The schedule, so every evaluation, is the same;
    /// only the decisions' own `next_evaluation_at` may be left out (the final one's always).
    public func replay(_ engine: Engine, start: LeadState, events: [Event], bounded: Bool = false) -> Replay {
        let fromMs = Timestamp(from).milliseconds, toMs = Timestamp(to).milliseconds
        let end = bounded ? toMs : Int64.max
        var state = start
        var entries: [String: Int] = [:], exits: [String: Int] = [:]
        var reached: Set<GoalKey> = []
        var lastEntry: Decision?
        func note(_ evaluation: Evaluation) {
            let decision = evaluation.decision
            for name in decision.segments.entered { entries[name, default: 0] += 1 }
            for name in decision.segments.exited { exits[name, default: 0] += 1 }
            if !decision.segments.entered.isEmpty { lastEntry = decision }
            for goal in evaluation.goalsReached where goal.enteredAt.milliseconds >= fromMs {
                reached.insert(GoalKey(segment: goal.segment, enteredAt: goal.enteredAt.milliseconds))
            }
        }
        var scheduled: Int64?
        /// The sweeps due before `limit`, each at its time; a schedule that does not move on ends them.
        func sweep(before limit: Int64) {
            while let due = scheduled, due < limit {
                var evaluation = engine.evaluate(state: state.take(), event: nil, now: Timestamp(milliseconds: due), nextEvaluationBefore: end)
                if due >= fromMs { note(evaluation) }
                swap(&state, &evaluation.newState)   // moved, not copied field by field
                scheduled = evaluation.decision.nextEvaluationAt.map(\.milliseconds).flatMap { $0 > due ? $0 : nil }
            }
        }
        for event in events {
            sweep(before: event.occurredAt.milliseconds)
            var evaluation = engine.evaluate(state: state.take(), event: event, now: event.occurredAt,
                                             nextEvaluationBefore: bounded ? min(scheduled ?? end, end) : end)
            if event.occurredAt.milliseconds >= fromMs { note(evaluation) }
            swap(&state, &evaluation.newState)
            if let next = evaluation.decision.nextEvaluationAt?.milliseconds, next < scheduled ?? .max { scheduled = next }
        }
        sweep(before: toMs)
        // The report reads the final decision's segments and route, never when it would sweep next.
        let final = engine.evaluate(state: state, event: nil, now: Timestamp(milliseconds: toMs), nextEvaluationBefore: bounded ? toMs : .max)
        note(final)
        var goals: [String: Int] = [:]
        for key in reached { goals[key.segment, default: 0] += 1 }
        return Replay(final: final, entries: entries, exits: exits, goalsReached: goals, lastEntry: lastEntry)
    }

    /// One membership's entry, counted once however many evaluations see its goal hold.
    struct GoalKey: Hashable { var segment: String; var enteredAt: Int64 }

    /// One lead's stored events, oldest first.
    typealias Group = (lead: UUID, events: [Store.StoredEvent])

    /// A page as the reader hands it over: the sampled leads' events and stored states.
    struct Page {
        var groups: [Group]
        var states: [UUID: LeadState]
        /// The share of the lead-id space walked after it.
        var progress: Double
        var last: Bool
    }

    /// Walks the events of `[from − warmup, to)` page by page (`pool`, one connection per page,
    /// no transaction held) and replays each sampled lead through both engines on one of
    /// `workers` threads, below request handling's priority (the engine is pure). A lead always
    /// goes to the same worker (`worker(of:among:)`, a stable hash of its id), which replays its
    /// leads in lead order and hands each outcome to `each(worker, outcome)` on its own thread:
    /// what a worker accumulates needs no lock against the others, and merging the workers'
    /// parts in worker order gives the same result for any `workers`. A reader thread reads the
    /// next page (and its leads' stored states) while the workers replay this one.
    /// `progress` gets the share done whenever every worker has finished a page, and answers
    /// false to stop (cancelled). Returns whether it ran to the end.
    @discardableResult
    public func run(pool: PostgresPool, workers: Int = ProcessInfo.processInfo.activeProcessorCount,
                    progress: (Double) throws -> Bool,
                    each: @escaping @Sendable (_ worker: Int, LeadOutcome) throws -> Void) throws -> Bool {
        let reader = PageReader(backtest: self, pool: pool)
        defer { reader.stop() }
        // The first worker replays with these engines, each other one with its own copy.
        let backtests = try (0..<max(1, workers)).map { $0 == 0 ? self : try withOwnEngines() }
        let replayers = Replayers(backtests: backtests, each: each)
        defer { replayers.stop() }
        var shares: [Double] = []
        while true {
            let page = try reader.next()
            shares.append(page.progress)
            // Waits until every worker has finished the page before this one (so at most two
            // pages are in flight), then says how far that one got.
            let finished = try replayers.replay(page, number: shares.count - 1)
            if page.last { try replayers.finish(); return true }
            if let finished, !(try progress(shares[finished])) { return false }
        }
    }

    /// Which of `count` workers replays `lead`: its id's last 8 bytes modulo `count` (random bits
    /// in generated ids, unrelated to the first 8 that decide the sample and the order).
    static func worker(of lead: UUID, among count: Int) -> Int {
        let u = lead.uuid
        let low = [u.8, u.9, u.10, u.11, u.12, u.13, u.14, u.15].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return Int(low % UInt64(count))
    }

    /// Decodes one lead's stored events (once, for both engines) and replays them through both.
    func outcome(of group: Group, states: [UUID: LeadState]) throws -> LeadOutcome {
        let (lead, stored) = group
        let fromMs = Timestamp(from).milliseconds
        var events: [Event] = []
        events.reserveCapacity(stored.count)
        var counted = 0
        for event in stored {
            events.append(try event.decoded())
            if event.at.milliseconds >= fromMs { counted += 1 }
        }
        var start = Self.startState(states[lead])
        start.id = LeadKey(lead.lowercasedText)
        let explained = explainsEveryLead
        let c = replay(explained ? candidate : quickCandidate, start: start, events: events, bounded: !explained)
        let a = replay(explained ? active : quickActive, start: start, events: events, bounded: !explained)
        return LeadOutcome(leadId: lead, candidate: c, active: a,
                           current: Set(states[lead].map { Array($0.memberships.keys) } ?? []), events: counted,
                           explainedEntries: { [self, start, events] in
            explained ? (c.lastEntry, a.lastEntry)
                : (replay(candidate, start: start, events: events).lastEntry, replay(active, start: start, events: events).lastEntry)
        })
    }

    /// Reads one page after `cursor`: its leads grouped (the last lead of a full page continues
    /// on the next one, so it is `carried` over) and their stored states.
    func readPage(pool: PostgresPool, after cursor: inout EventCursor?, carried: inout Group?) throws -> Page {
        let page = try pool.withConnection {
            try Store($0).backtestEventPage(from: from.addingTimeInterval(-warmup), to: to, after: cursor, limit: pageSize)
        }
        cursor = page.next
        var groups: [Group] = []
        if let carried { groups.append(carried) }
        carried = nil
        for event in page.events where sampled(event.leadId) {
            if groups.last?.lead == event.leadId { groups[groups.count - 1].events.append(event) } else { groups.append((event.leadId, [event])) }
        }
        let last = page.events.count < pageSize
        if !last { carried = groups.popLast() }
        let states = groups.isEmpty ? [:] : try pool.withConnection { try Store($0).leadStates(groups.map(\.lead)) }
        return Page(groups: groups, states: states, progress: cursor.map { Self.position($0.leadId) } ?? 0, last: last)
    }

    /// How much lower than request handling the replay threads run (nice +5): a backtest uses
    /// every core it gets, and ingest on the same node must keep its latency.
    static let niceness: Int32 = 5
}
