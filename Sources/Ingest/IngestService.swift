import Essentials
import Foundation
import LeadStore
import Logging
import Postgres
import Segmentation

/// What ingest answers for one message once its transaction committed.
public struct IngestResult: Sendable {
    public var leadId: UUID
    public var eventId: UUID
    /// The decision document (`POST /v1/events` answers with it).
    public var decision: PostgresJSON
    /// True when the message had been applied before and this is the stored answer.
    public var duplicate: Bool
    /// True when the message was dropped because it carries an identity suppressed by an
    /// erasure: nothing of it was stored (only the drop was counted).
    public var dropped = false
}

/// The ingest use case: one message → identity resolution → locked lead row → engine → state,
/// event, memberships, decision, outbox and idempotency record, all in ONE transaction; the
/// result exists only after commit.
public final class IngestService: Sendable {
    public let pool: PostgresPool
    /// The active ruleset version's engine, switched in place by an activation.
    public let rules: ActiveEngine
    public var engine: Engine { rules.engine }
    public let profile: ProfileUpdate
    public let counters: IngestCounters
    /// What other features do with each decision (the service injects sales routing).
    let decisionHook: any DecisionHook
    package let clock: @Sendable () -> Date
    package let logger: Logger
    /// What is stored of `context.ip` (`retention.context_ip`).
    let contextIP: ContextIPPolicy
    /// Tests only: called at the end of `applyBatch`, before the round trip with the writes and COMMIT.
    let beforeCommit: (@Sendable (PostgresTransaction) throws -> Void)?
    /// Told of each applied message (the drift counters); nil for none.
    let observer: (any IngestObserving)?

    package init(pool: PostgresPool, rules: ActiveEngine, profile: ProfileUpdate = ProfileUpdate(), counters: IngestCounters = IngestCounters(),
                 decisionHook: any DecisionHook = NoDecisionHook(), clock: @escaping @Sendable () -> Date = Date.init,
                 contextIP: ContextIPPolicy = .truncate,
                 beforeCommit: (@Sendable (PostgresTransaction) throws -> Void)? = nil, observer: (any IngestObserving)? = nil,
                 logger: Logger) {
        self.observer = observer
        self.pool = pool; self.rules = rules; self.profile = profile; self.counters = counters; self.contextIP = contextIP
        self.decisionHook = decisionHook; self.clock = clock; self.beforeCommit = beforeCommit; self.logger = logger
    }

    /// Applies one message sent with write key `writeKey`. A concurrent duplicate that loses the
    /// race on `processed_messages` is retried once and then finds the winner's answer.
    public func ingest(_ message: SegmentMessage, writeKey: UUID) throws -> IngestResult {
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try pool.withTransaction { conn in try apply(message, writeKey: writeKey, store: Store(conn)) }
            } catch let error as PostgresError where error.sqlState == .uniqueViolation && attempt < 3 {
                logger.debug("duplicate message raced; retrying", metadata: ["constraint": "\(error.constraint ?? "")"])
            }
        }
    }

    /// Applies the messages of a batch in order (each in its own transaction); returns after
    /// the last one committed.
    public func ingest(_ messages: [SegmentMessage], writeKey: UUID) throws -> [IngestResult] {
        try messages.map { try ingest($0, writeKey: writeKey) }
    }

    /// The body of the ingest transaction for one message; group commit applies whole batches
    /// with `applyBatch` and comes here for the messages that merge leads or need a backfill.
    func apply(_ message: SegmentMessage, writeKey: UUID, store: Store) throws -> IngestResult {
        let identity = MessageIdentity(message)
        let start = try store.lockCheckAndResolve(identity.lookupKeys, writeKey: writeKey,
                                                  messageId: message.messageIdProvided ? message.messageId : nil)
        if let done = start.processed { return duplicate(done) }
        let now = clock()
        if !start.suppressed.isEmpty {
            try store.connection.execute(store.countSuppressedDropsQuery(Array(start.suppressed), at: now))
            return dropped()
        }
        let (lead, others, isNew) = try lockLeads(Set(start.found.values), store: store, now: now)
        let pending = PendingStatements(store: store, plansSet: true)  // lockCheckAndResolve sent ingestPlans
        let decided = try decide(message, writeKey: writeKey, identity: identity, lead: lead, others: others, isNew: isNew,
                                 now: now, store: store, pending: pending)
        try pending.flush()
        var result = decided.result
        result.decision = pending.resolve(result.decision)  // routed at the flush (`LateRoute`)
        return result
    }

    /// Where rows that do not decode are recorded, counted and logged.
    package var quarantine: LeadQuarantine { LeadQuarantine(pool: pool, counters: counters, logger: logger) }

    /// The answer to a message applied before (the stored one, in its first bytes).
    func duplicate(_ done: ProcessedMessage) -> IngestResult {
        counters.add { $0.duplicates += 1 }
        let decision = done.response.map(Self.canonical) ?? DecisionJSON.strings(["lead_id": done.leadId.uuidString.lowercased()])
        return IngestResult(leadId: done.leadId, eventId: done.eventId, decision: decision, duplicate: true)
    }

    /// The answer to a message dropped because one of its identities is suppressed (an erased
    /// person): no lead, no event; Segment endpoints still answer `success`, as Segment does.
    func dropped() -> IngestResult {
        counters.add { $0.suppressedMessages += 1 }
        return IngestResult(leadId: Store.nilUUID, eventId: Store.nilUUID, decision: Self.droppedAnswer, duplicate: false, dropped: true)
    }

    static let droppedAnswer = PostgresJSON(rawBytes: Array(#"{"dropped":true,"reason":"identity_suppressed"}"#.utf8))

    /// Everything after the lead rows are locked: merge (run now), profile, engine, and the
    /// message's writes staged in `pending` — the new lead row, its identities, the event, the
    /// evaluation's writes and the idempotency record. Returns the result and the lead as the
    /// staged statements leave it.
    func decide(_ message: SegmentMessage, writeKey: UUID, identity: MessageIdentity, lead: LeadRecord, others: [LeadRecord],
                isNew: Bool, now: Date, store: Store, pending: PendingStatements) throws -> (result: IngestResult, lead: LeadRecord) {
        let engine = self.engine  // one version for the whole decision, even across an activation
        var lead = lead
        let before = lead.state
        var state = lead.state
        var rebuildSignals = needsBackfill(lead.state)
        if !others.isEmpty {
            state = LeadMerge.merge(survivor: state, others: others.map(\.state), halfLife: engine.ruleset.scoring.halfLife)
            try store.moveIdentitiesAndEvents(from: others.map(\.id), to: lead.id)
            for other in others {
                try store.markMerged(other.id, into: lead.id, at: now)
                try store.appendOutbox([OutboxMessage(topic: .leadMerged, leadId: lead.id, payload: DecisionJSON.strings([
                    "survivor_id": lead.id.uuidString.lowercased(), "merged_id": other.id.uuidString.lowercased()]))])
            }
            counters.add { $0.merges += others.count }
            rebuildSignals = true
        }
        if isNew { pending.rows.newLeads.append((lead.id, message.occurredAt)) }
        profile.apply(message, identity: identity, to: &state)
        if identity.invalidEmail != nil { counters.add { $0.invalidEmails += 1 } }
        if rebuildSignals {
            state = try engine.backfill(state: state, historyOf: lead.id, store: store, now: now, counters: counters)
        }

        let event = EngineEventMapping.event(for: message)
        let evaluation = engine.evaluate(state: state, event: event, now: now)
        if state.firstSource == nil, evaluation.newState.firstSource?.channel == SourceFallback.unknown {
            counters.add { $0.unknownSources += 1 }
        }
        if evaluation.decision.unknownEventType { counters.add { $0.unknownEventTypes += 1 } }
        if let observer {
            observer.observed(Self.observation(message, evaluation.decision, before: isNew ? nil : before, after: evaluation.newState,
                                               merged: others.map(\.state), now: now))
        }

        pending.rows.identities += identity.keys.map { ($0, lead.id) }
        let eventId = UUID.random()
        pending.rows.events.append(EventRow(
            id: eventId, leadId: lead.id, occurredAt: message.occurredAt, receivedAt: now, kind: message.kind.rawValue,
            type: evaluation.decision.eventType ?? message.kind.rawValue, name: message.event, messageId: message.messageId,
            writeKeyId: writeKey, message: EngineEventMapping.storedMessage(message, event: event, ip: contextIP)))
        if let consent = evaluation.newState.traits["consent"], consent != before.traits["consent"] {
            pending.rows.outbox.append(OutboxMessage(topic: .leadConsentChanged, leadId: lead.id,
                                                     payload: DecisionJSON.consentChange(leadId: lead.id, eventId: eventId, consent: consent)))
        }
        let written = try EvaluationWriter(store: store, hook: decisionHook, engine: engine).stage(
            leadId: lead.id, before: before, storedState: isNew || !others.isEmpty ? nil : before,
            previousPrimary: lead.primarySegment, evaluation: evaluation, eventId: eventId, occurredAt: message.occurredAt,
            decisionsBefore: lead.decisionSeq, into: pending)
        if message.messageIdProvided {
            pending.rows.recordProcessed(StagedWrites.ProcessedRow(
                writeKey: writeKey, messageId: message.messageId,
                answer: ProcessedMessage(leadId: lead.id, eventId: eventId, response: written.document)))
        }
        lead.state = evaluation.newState
        lead.primarySegment = written.decision.primarySegment
        lead.decisionSeq = written.decisions
        counters.add { $0.applied += 1 }
        return (IngestResult(leadId: lead.id, eventId: eventId, decision: written.document, duplicate: false), lead)
    }

    /// Locks the leads the message's keys point to; the survivor is the oldest, the others are
    /// the leads the message ties to it. No lead yet: a new one (inserted by the caller's pipeline).
    /// Merged leads are followed to the leads they were merged into, however long the chain.
    func lockLeads(_ found: Set<UUID>, store: Store, now: Date) throws -> (LeadRecord, [LeadRecord], isNew: Bool) {
        let records = try Self.lockChains(found, known: [:], store: store)
        let live = records.values.filter { $0.mergedInto == nil }
        guard !live.isEmpty else { return (LeadRecord(newLeadAt: now), [], true) }
        let sorted = live.sorted { ($0.createdAt, $0.id.uuidString) < ($1.createdAt, $1.id.uuidString) }
        return (sorted[0], Array(sorted.dropFirst()), false)
    }

    /// Locks the leads `ids` and every lead their `merged_into` pointers lead to, at any depth,
    /// adding them to `known` (rows already locked in this transaction). One round trip
    /// (`Store.leadChainsForUpdate`) follows whole chains; another is needed only when a merge
    /// committed between a chain's read and its lock (a locked row then points past what was
    /// read). Ends when every pointer of the locked rows is among them, or names a row that does
    /// not exist (which the foreign key rules out): it never traps and never gives up on depth.
    /// A row that does not decode throws `UndecodableLead`.
    static func lockChains(_ ids: Set<UUID>, known: [UUID: LeadRecord], store: Store) throws -> [UUID: LeadRecord] {
        var undecodable: [UUID: UndecodableLead] = [:]
        let records = try lockChains(ids, known: known, undecodable: &undecodable, store: store)
        if let first = undecodable.values.first { throw first }
        return records
    }

    /// `lockChains`, with the rows that do not decode collected in `undecodable` (locked too;
    /// their own pointers are not known, so a chain ends at them).
    static func lockChains(_ ids: Set<UUID>, known: [UUID: LeadRecord], undecodable: inout [UUID: UndecodableLead],
                           store: Store) throws -> [UUID: LeadRecord] {
        var records = known
        var asked = Set(known.keys).union(undecodable.keys)
        var wanted = ids.union(known.values.compactMap(\.mergedInto)).subtracting(asked)
        while !wanted.isEmpty {
            asked.formUnion(wanted)
            let (locked, failed) = try store.leadChainsForUpdateEach(Array(wanted))
            for record in locked { records[record.id] = record }
            for failure in failed { undecodable[failure.id] = failure }
            wanted = Set(records.values.compactMap(\.mergedInto)).subtracting(asked).subtracting(undecodable.keys)
        }
        return records
    }

    /// The live lead `id` answers for among `records`: followed along `merged_into` to the end.
    /// Nil when the chain leaves `records` or loops (a corrupt pointer cycle).
    static func liveEnd(of id: UUID, in records: [UUID: LeadRecord]) -> UUID? {
        var id = id
        var seen = Set<UUID>()
        while let record = records[id] {
            guard let next = record.mergedInto else { return id }
            guard seen.insert(id).inserted else { return nil }
            id = next
        }
        return nil
    }

    /// A stored answer in the bytes the first answer had (jsonb normalises spacing and key order).
    static func canonical(_ stored: PostgresJSON) -> PostgresJSON {
        guard let decision = try? stored.decode(Decision.self) else { return stored }
        return DecisionJSON.document(decision)
    }

    /// A lead with history whose stored signals do not cover what this ruleset counts (a new
    /// signal, a longer window), or whose `lead.interest` was never counted, is rebuilt from its
    /// stored events before the engine decides.
    func needsBackfill(_ state: LeadState) -> Bool { engine.ruleset.needsBackfill(state) }
}

extension IngestService: LeadStatusChanging {
    /// A CRM sets the lead's status (`PATCH /v1/leads/{id}`): the lead (or the lead it was
    /// merged into) is locked, re-evaluated at now with the new status, and the decision stored.
    /// Returns the live lead's id, or nil when there is no such lead.
    /// A lead whose row cannot be decoded throws `UndecodableLead`, recorded in the quarantine.
    public func setStatus(_ status: String, lead id: UUID) throws -> (leadId: UUID, decision: PostgresJSON)? {
        try quarantine.recording { try pool.withTransaction { conn in
            let store = Store(conn)
            // Locked along its merge chain: a merge committing meanwhile cannot leave us on a merged row.
            let records = try Self.lockChains([id], known: [:], store: store)
            guard let live = Self.liveEnd(of: id, in: records), let lead = records[live] else { return nil }
            return (lead.id, try applyStatus(status, to: lead, store: store))
        } }
    }

    /// The active ruleset's ack outcomes.
    package func salesOutcomes() -> [String: SalesOutcome] { engine.ruleset.salesOutcomes }

    /// The body of `setStatus` for a lead the caller locked in its own transaction (a queue ack
    /// closes the item and moves the status atomically).
    package func applyStatus(_ status: String, to lead: LeadRecord, store: Store) throws -> PostgresJSON {
        let now = clock(), engine = self.engine
        var state = lead.state
        state.setStatus(status, at: Timestamp(now))
        if needsBackfill(state) {
            state = try engine.backfill(state: state, historyOf: lead.id, store: store, now: now, counters: counters)
        }
        var evaluation = engine.evaluate(state: state, now: now)
        if lead.state.status != status {
            evaluation.decision.explanation.status = StatusExplanation(from: lead.state.status, to: status, by: "crm")
        }
        return try EvaluationWriter(store: store, hook: decisionHook, engine: engine).write(
            leadId: lead.id, before: lead.state, previousPrimary: lead.primarySegment, evaluation: evaluation, eventId: nil,
            decisionsBefore: lead.decisionSeq).document
    }
}

extension IngestService {
    /// What the drift counters are told of one applied message.
    /// `before` is nil for a lead this message creates.
    static func observation(_ message: SegmentMessage, _ decision: Decision, before: LeadState?, after state: LeadState,
                            merged: [LeadState] = [], now: Date) -> MessageObservation {
        var captured: FieldCaptures = []
        if state.email != nil { captured.insert(.validEmail) }
        if let source = state.firstSource, source.channel != SourceFallback.unknown { captured.insert(.knownSource) }
        if state.country != nil { captured.insert(.country) }
        if state.company.domain != nil { captured.insert(.companyDomain) }
        let unmapped = decision.unknownEventType
        var fields = FieldChanges(newLead: before == nil)
        let changed = before.map { InventoryFields.differ($0, state) } ?? true
        let had = changed ? before.map(InventoryFields.present) ?? [:] : [:], has = changed ? InventoryFields.present(in: state) : [:]
        for (name, value) in has where had[name] != value {
            if had[name] == nil { fields.gained.append(name) }
            fields.set.append((name, InventoryFields.type(of: value)))
        }
        for name in had.keys where has[name] == nil { fields.lost.append(name) }
        for gone in merged {
            fields.mergedLeads += 1
            fields.lost += InventoryFields.present(in: gone).keys
        }
        return MessageObservation(at: now, eventType: unmapped ? nil : decision.eventType ?? message.kind.rawValue,
                                  unmappedName: unmapped ? message.event ?? message.kind.rawValue : nil, captured: captured, fields: fields)
    }
}
