import Essentials
import Foundation
import LeadStore
import Postgres
import Segmentation

/// A backtest: the stored events of `[from, to)` replayed, lead by lead, through a candidate
/// ruleset and through the active one in the pure engine — nothing is written to lead state —
/// and what would differ reported. Each lead starts from its stored profile and status with no
/// signals, memberships or score, takes its events in order (each evaluated at its own time) and
/// is evaluated once more at `to`. See docs/rulesets.md#backtest.
public struct Backtest: Sendable {
    public let candidate: Engine
    public let active: Engine
    public let from: Date
    public let to: Date
    /// The share of leads replayed (deterministic by lead id), in (0, 1].
    public let sample: Double
    /// Events read per page (one keyset query each).
    public var pageSize = 5_000

    public init(candidate: Engine, active: Engine, from: Date, to: Date, sample: Double = 1) {
        self.candidate = candidate; self.active = active; self.from = from; self.to = to; self.sample = sample
    }

    /// One engine's replay of one lead.
    public struct Replay: Sendable {
        /// The evaluation at `to`.
        public var final: Evaluation
        /// Segment → how many times the lead entered / left it during the replay.
        public var entries: [String: Int] = [:]
        public var exits: [String: Int] = [:]
        /// The last decision that entered a segment: what explains the lead's memberships.
        public var lastEntry: Decision?
    }

    /// Both replays of one lead.
    public struct LeadOutcome: Sendable {
        public var leadId: UUID
        public var candidate: Replay
        public var active: Replay
        /// The lead's memberships as stored today.
        public var current: Set<String>
        /// Events replayed.
        public var events: Int
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

    /// The state a lead starts its replay with: its profile and status, nothing it accrued.
    static func startState(_ stored: LeadState?) -> LeadState {
        var state = stored ?? LeadState()
        state.stage = nil; state.score = 0; state.scoreAt = nil; state.scoreParts = [:]; state.band = nil
        state.memberships = [:]; state.signals = SignalState(); state.firstSeen = nil; state.lastEventAt = nil
        state.firstSource = nil; state.lastSource = nil
        return state
    }

    /// Replays `events` (one lead's, oldest first) from `start` through `engine`.
    public func replay(_ engine: Engine, start: LeadState, events: [Event]) -> Replay {
        var state = start
        var entries: [String: Int] = [:], exits: [String: Int] = [:]
        var lastEntry: Decision?
        func note(_ decision: Decision) {
            for name in decision.segments.entered { entries[name, default: 0] += 1 }
            for name in decision.segments.exited { exits[name, default: 0] += 1 }
            if !decision.segments.entered.isEmpty { lastEntry = decision }
        }
        for event in events {
            let evaluation = engine.evaluate(state: state, event: event, now: event.occurredAt)
            note(evaluation.decision)
            state = evaluation.newState
        }
        let final = engine.evaluate(state: state, now: to)
        note(final.decision)
        return Replay(final: final, entries: entries, exits: exits, lastEntry: lastEntry)
    }

    /// Walks the period's events page by page (`pool`, one connection per page, no transaction
    /// held), replays each sampled lead through both engines and hands its outcome to `each`, in
    /// lead order. The leads of a page are decoded and replayed on `threads` threads at once (the
    /// engine is pure; `each` runs on the caller's thread). `progress` gets the share done after
    /// each page and answers false to stop (cancelled). Returns whether it ran to the end.
    @discardableResult
    public func run(pool: PostgresPool, threads: Int = ProcessInfo.processInfo.activeProcessorCount,
                    progress: (Double) throws -> Bool, each: (LeadOutcome) throws -> Void) throws -> Bool {
        var cursor: EventCursor?
        var carried: (lead: UUID, events: [Store.StoredEvent])?
        while true {
            let page = try pool.withConnection { try Store($0).backtestEventPage(from: from, to: to, after: cursor, limit: pageSize) }
            cursor = page.next
            // Group by lead; the last lead of a full page may continue on the next one.
            var groups: [(lead: UUID, events: [Store.StoredEvent])] = []
            if let carried { groups.append(carried) }
            carried = nil
            for event in page.events where sampled(event.leadId) {
                if groups.last?.lead == event.leadId { groups[groups.count - 1].events.append(event) } else { groups.append((event.leadId, [event])) }
            }
            if page.events.count == pageSize { carried = groups.popLast() }
            let states = try pool.withConnection { try Store($0).leadStates(groups.map(\.lead)) }
            for outcome in try replayAll(groups, states: states, threads: threads) { try each(outcome) }
            if page.events.count < pageSize { return true }
            guard try progress(cursor.map { Self.position($0.leadId) } ?? 0) else { return false }
        }
    }

    /// Decodes and replays `groups` on up to `threads` threads; outcomes in `groups`' order.
    func replayAll(_ groups: [(lead: UUID, events: [Store.StoredEvent])], states: [UUID: LeadState], threads: Int) throws -> [LeadOutcome] {
        let chunks = max(1, min(threads, groups.count))
        let results = Locked([[LeadOutcome]?](repeating: nil, count: chunks))
        let failure = Locked<(any Error)?>(nil)
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            var out: [LeadOutcome] = []
            do {
                for i in stride(from: chunk, to: groups.count, by: chunks) {
                    let (lead, stored) = groups[i]
                    let events = try stored.map { try $0.decoded() }
                    var start = Self.startState(states[lead])
                    start.id = LeadKey(lead.lowercasedText)
                    out.append(LeadOutcome(leadId: lead, candidate: replay(candidate, start: start, events: events),
                                           active: replay(active, start: start, events: events),
                                           current: Set(states[lead].map { Array($0.memberships.keys) } ?? []), events: events.count))
                }
            } catch {
                failure.withLock { $0 = error }
            }
            results.withLock { $0[chunk] = out }
        }
        if let error = failure.withLock({ $0 }) { throw error }
        // Interleave back into group order (chunk c holds groups c, c + chunks, …).
        let parts = results.withLock { $0.map { $0 ?? [] } }
        var ordered: [LeadOutcome] = []
        ordered.reserveCapacity(groups.count)
        for i in 0..<groups.count { ordered.append(parts[i % chunks][i / chunks]) }
        return ordered
    }
}
