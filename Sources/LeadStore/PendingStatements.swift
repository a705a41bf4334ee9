import Essentials
import Foundation
import Postgres
import Segmentation

/// The writes of the open transaction that wait to go out together: a lane stages those of every
/// message of its batch here and sends them in ONE pipeline (one round trip) before commit, as
/// one set-based statement per table (`StagedWrites`) followed by any other statements in the
/// order they were added. Whoever must run a statement now, and needs the staged writes applied
/// first (a read of rows they write), calls `flush()` before it.
package final class PendingStatements {
    package let store: Store
    /// Rows to write, one statement per table at flush.
    package var rows = StagedWrites()
    /// Other statements, run after the staged rows, in order.
    package private(set) var queries: [PostgresQuery] = []
    /// Sales routing left for the end of the batch, in decision order (`LateRoute`).
    package private(set) var late: [LateStep] = []
    /// The documents of routed decisions by their placeholders' bytes (`LateRoute`): callers that
    /// kept a document staged before the flush swap it for the real one (`resolve`).
    package private(set) var resolved: [[UInt8]: PostgresJSON] = [:]

    /// The transaction ran `Store.ingestPlans` first (ingest's `lockCheckAndResolve`): its
    /// settings hold until COMMIT, so the flushes do not send `Store.indexPlans` again.
    let plansSet: Bool

    package init(store: Store, plansSet: Bool = false) { self.store = store; self.plansSet = plansSet }

    func append(_ query: PostgresQuery) { queries.append(query) }

    package func append(contentsOf more: [PostgresQuery]) { queries.append(contentsOf: more) }

    /// Leaves `step` for the end of the batch (after the steps left before it).
    package func appendLate(_ step: LateStep) { late.append(step) }

    /// The routed document for `document` when it is a placeholder resolved by a flush, else `document`.
    package func resolve(_ document: PostgresJSON) -> PostgresJSON {
        resolved.isEmpty ? document : resolved[document.bytes] ?? document
    }

    /// Sends what is staged, in one round trip (two more when sales routing was left for the end).
    package func flush() throws {
        try routeLate()
        let batch = take()
        guard !batch.isEmpty else { return }
        try store.run(batch)
    }

    /// Hands what is staged to `transaction`'s next round trip instead of sending it now: the
    /// last writes of a transaction body go out with its COMMIT, in one round trip. Sales
    /// routing left for the end runs first, in a round trip of its own.
    package func flush(into transaction: PostgresTransaction) throws {
        try routeLate()
        transaction.add(contentsOf: take())
    }

    /// Runs the sales routing left for the end: one round trip carrying the batch's rows except
    /// decisions, outbox and idempotency rows (they hold the placeholders) and the lead rows,
    /// then the teams' round-robin rows locked in one fixed order (so two batches never wait for
    /// each other in a circle), then the closes and routes in decision order (each run of
    /// consecutive routes in one statement, `leadrouter_route_batch`). The routed
    /// documents then replace the placeholders; the rest (with the lead rows and owners) goes
    /// out with the next flush. The transaction's COMMIT then releases the team rows without
    /// waiting for the disk, and its `PostgresTransaction` waits for the flush after
    /// (`deferCommitFlush`).
    ///
    /// The lead rows (and the memberships that reference them) wait for the routing so that a
    /// new lead's INSERT carries the owner routing gave it: inserted before, its item's trigger
    /// (`leadrouter_lead_owner_follows_item`, migrations/0011) rewrote the whole just-inserted
    /// row for the owner — a second ~1 KB row version, with an entry in every leads index, per
    /// routed new lead (issue 23, target 7; docs/benchmarks/storage.md). An existing lead's row
    /// gets the owner from the trigger and keeps it through its UPDATE (which does not set
    /// owner_id), as before.
    private func routeLate() throws {
        guard !late.isEmpty else { return }
        let steps = late
        late = []
        var early = rows
        early.decisions = []; early.outbox = []; early.processed = []
        early.newLeads = []; early.leadSaves = [:]; early.leadOrder = []
        var rest = StagedWrites()
        rest.decisions = rows.decisions; rest.outbox = rows.outbox; rest.processed = rows.processed
        rest.newLeads = rows.newLeads; rest.leadSaves = rows.leadSaves; rest.leadOrder = rows.leadOrder
        rows = rest
        let inserted = Set(rows.newLeads.map(\.id))
        var batch = store.stagedWriteQueries(early, plansSet: plansSet)
        if batch.isEmpty, !plansSet { batch.append(Store.indexPlans) }
        let routes = steps.compactMap { step -> LateRoute? in
            guard case .route(let route) = step else { return nil }
            return route
        }
        // The team rows are held until COMMIT returns: not through the disk flush as well.
        if !routes.isEmpty, store.connection.deferCommitFlush() { batch.append(Store.commitWithoutWaitingForDiskQuery) }
        let teams = Array(Set(routes.compactMap(\.request.team))).sorted()
        if !teams.isEmpty { batch.append(store.lockTeamsQuery(teams)) }
        // Consecutive routes go out as one statement (`leadrouter_route_batch`): the team rows
        // are held while they run, so a statement's own round per route is paid by every batch
        // of the team in turn. Closes between them keep their place in decision order.
        var groups: [(index: Int, routes: [LateRoute], batched: Bool)] = []
        var run: [LateRoute] = []
        func endRun() {
            guard !run.isEmpty else { return }
            groups.append((batch.count, run, true))
            batch.append(store.routeToQueueQuery(run.map(\.request)))
            run = []
        }
        for step in steps {
            switch step {
            case .statements(let more):
                endRun()
                batch += more
            case .route(let route) where route.request.fitsRouteBatch:
                run.append(route)
            case .route(let route):
                endRun()
                groups.append((batch.count, [route], false))
                batch.append(store.routeToQueueQuery(route.request))
            }
        }
        endRun()
        let results = try store.connection.pipeline(batch)
        var documents: [[UInt8]: PostgresJSON] = [:]
        for group in groups {
            let answers = group.batched
                ? try Store.routedItems(results[group.index], count: group.routes.count)
                : [try Store.routedItem(results[group.index])]
            for (route, routed) in zip(group.routes, answers) {
                let after = try route.finish(routed)
                if inserted.contains(route.request.lead) {
                    // Its INSERT (in the next flush) carries the owner: the statements recording
                    // it on the row would find it there already.
                    if routed.isOpen { rows.leadSaves[route.request.lead]?.ownerId = routed.ownerId }
                } else {
                    queries += after
                }
                documents[route.placeholder.bytes] = route.document
            }
        }
        for i in rows.decisions.indices { if let d = documents[rows.decisions[i].document.bytes] { rows.decisions[i].document = d } }
        for i in rows.outbox.indices { if let d = documents[rows.outbox[i].payload.bytes] { rows.outbox[i].payload = d } }
        for i in rows.processed.indices {
            if let r = rows.processed[i].answer.response, let d = documents[r.bytes] { rows.processed[i].answer.response = d }
        }
        resolved.merge(documents) { _, new in new }
    }

    private func take() -> [PostgresQuery] {
        let batch = store.stagedWriteQueries(rows, plansSet: plansSet) + queries
        rows = StagedWrites()
        queries = []
        return batch
    }
}

/// Rows of several messages' writes, collected per table so that each table gets one statement.
package struct StagedWrites {
    /// The final state to store for one lead, and the state its row held before the batch
    /// (nil for a row this batch inserts): JSON columns that did not change are not re-sent.
    struct LeadSave {
        var state: LeadState
        var stored: LeadState?
        var primarySegment: String?
        var rulesetVersion: Int
        var nextEvaluationAt: Date?
        /// True when some evaluation changed the lead's memberships (its rows are synced).
        var membershipsChanged: Bool
        /// Store `nextEvaluationAt` as it is (the sweeper). Otherwise the row keeps an earlier
        /// time it already holds (see `Store.leadSaveQueries`).
        var exactSchedule: Bool
        /// The lead's decision count after the staged decisions (`leads.decision_seq`).
        var decisionSeq: Int
        /// Segment scores as the `memberships` rows rank them, now and as the row held them
        /// (nil: unknown, every one is written).
        var ranks: [String: SegmentRank] = [:]
        var storedRanks: [String: SegmentRank]? = nil
        /// The owner routing gave a lead this flush inserts (`PendingStatements.routeLate`): its
        /// INSERT carries it. Other rows get their owner from their item's trigger.
        var ownerId: String? = nil
    }

    package struct DecisionRow {
        /// Made here, not by the server: the idempotency record written with it points at it.
        var id = UUID.random()
        var leadId: UUID
        var eventId: UUID?
        var rulesetVersion: Int
        var evaluatedAt: Date
        /// The decision's number among its lead's (`decisions.seq`).
        var seq: Int
        var document: PostgresJSON
        /// The message whose idempotency record answers with this decision: that record is
        /// written by the decision's own statement, so the document is sent and parsed once.
        var answers: (writeKey: UUID, messageId: String)?

        package init(leadId: UUID, eventId: UUID? = nil, rulesetVersion: Int, evaluatedAt: Date, seq: Int, document: PostgresJSON,
                     answers: (writeKey: UUID, messageId: String)? = nil) {
            self.leadId = leadId; self.eventId = eventId; self.rulesetVersion = rulesetVersion; self.evaluatedAt = evaluatedAt
            self.seq = seq; self.document = document; self.answers = answers
        }
    }

    package struct HistoryRow {
        var leadId: UUID
        var change: MembershipChange
        var rulesetVersion: Int
        var eventId: UUID?
        var at: Date

        package init(leadId: UUID, change: MembershipChange, rulesetVersion: Int, eventId: UUID? = nil, at: Date) {
            self.leadId = leadId; self.change = change; self.rulesetVersion = rulesetVersion; self.eventId = eventId; self.at = at
        }
    }

    /// A membership whose segment goal held (`segment_goal_reached`; the first one counts).
    package struct GoalRow {
        var leadId: UUID
        var segment: String
        var enteredAt: Date
        var reachedAt: Date

        package init(leadId: UUID, segment: String, enteredAt: Date, reachedAt: Date) {
            self.leadId = leadId; self.segment = segment; self.enteredAt = enteredAt; self.reachedAt = reachedAt
        }
    }

    package struct ProcessedRow {
        var writeKey: UUID
        var messageId: String
        var answer: ProcessedMessage

        package init(writeKey: UUID, messageId: String, answer: ProcessedMessage) {
            self.writeKey = writeKey; self.messageId = messageId; self.answer = answer
        }
    }

    package var newLeads: [(id: UUID, firstSeen: Date)] = []
    package var identities: [(key: IdentityKey, leadId: UUID)] = []
    /// Lead saves by lead, and the order leads were first saved in.
    var leadSaves: [UUID: LeadSave] = [:]
    var leadOrder: [UUID] = []
    package var events: [EventRow] = []
    package var history: [HistoryRow] = []
    package var goals: [GoalRow] = []
    /// Experiment assignments and conversions (`Store+Experiments`).
    package var experiments = ExperimentWrites()
    /// Stage changes and stage goals (Store+StageHistory.swift).
    package var stages = StageWrites()
    package var decisions: [DecisionRow] = []
    package var outbox: [OutboxMessage] = []
    var processed: [ProcessedRow] = []

    var isEmpty: Bool {
        newLeads.isEmpty && identities.isEmpty && leadSaves.isEmpty && events.isEmpty && history.isEmpty && goals.isEmpty && decisions.isEmpty
            && stages.isEmpty && outbox.isEmpty && processed.isEmpty && experiments.isEmpty
    }

    /// Stages an idempotency record: on the decision row it answers with when that is the last
    /// one staged (same lead, event and document), else as a row of its own.
    package mutating func recordProcessed(_ row: ProcessedRow) {
        if let last = decisions.indices.last, decisions[last].answers == nil, decisions[last].leadId == row.answer.leadId,
           decisions[last].eventId == row.answer.eventId, let response = row.answer.response, decisions[last].document == response {
            decisions[last].answers = (row.writeKey, row.messageId)
        } else {
            processed.append(row)
        }
    }

    /// The earlier of two evaluation times, nil meaning none (later than any).
    static func sooner(_ a: Date?, _ b: Date?) -> Date? {
        guard let a else { return b }
        guard let b else { return a }
        return min(a, b)
    }

    /// Records the lead's new state; a lead saved again keeps the state its row held first, and
    /// the sooner of the evaluation times staged for it (`Store.leadSaveQueries` keeps a sooner
    /// one the row holds in the same way), so a lead decided twice in one batch is scheduled as if
    /// each decision had been written on its own.
    package mutating func saveLead(_ id: UUID, state: LeadState, stored: LeadState?, primarySegment: String?, rulesetVersion: Int,
                           nextEvaluationAt: Date?, membershipsChanged: Bool, exactSchedule: Bool = false, decisionSeq: Int,
                           ranks: [String: SegmentRank] = [:], storedRanks: [String: SegmentRank]? = nil) {
        if var save = leadSaves[id] {
            save.state = state
            save.ranks = ranks
            save.primarySegment = primarySegment
            save.rulesetVersion = rulesetVersion
            // As the row would have it after each save in turn: an earlier time stays unless exact.
            save.nextEvaluationAt = exactSchedule ? nextEvaluationAt : Self.sooner(save.nextEvaluationAt, nextEvaluationAt)
            save.membershipsChanged = save.membershipsChanged || membershipsChanged
            save.exactSchedule = save.exactSchedule || exactSchedule
            save.decisionSeq = decisionSeq
            leadSaves[id] = save
        } else {
            leadSaves[id] = LeadSave(state: state, stored: stored, primarySegment: primarySegment, rulesetVersion: rulesetVersion,
                                     nextEvaluationAt: nextEvaluationAt, membershipsChanged: membershipsChanged,
                                     exactSchedule: exactSchedule, decisionSeq: decisionSeq, ranks: ranks,
                                     storedRanks: stored == nil ? nil : storedRanks)
            leadOrder.append(id)
        }
    }
}
