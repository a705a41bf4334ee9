import Essentials
import Foundation
import LeadStore
import Logging
import Postgres

/// Group commit (DESIGN.md §4): requests hand their messages to writer lanes chosen by identity
/// (`LaneRouting`) — every message of one person lands on one lane in arrival order, so their
/// decisions keep that order and lanes do not fight over one lead's row. A lane takes everything waiting (up to `maxBatch`)
/// and applies it in ONE transaction, then completes each waiting request; while that commit is
/// in flight the next batch gathers, so the commit cost is shared by every message in it.
///
/// If a batch fails because PostgreSQL refused a value (SQLSTATE class 22, data exception, or 54,
/// program limit exceeded), the culprits are found by bisection in transactions that are rolled
/// back, they fail alone, and the rest of the batch commits in ONE retry. Any other failure but
/// the database being unreachable (a constraint) applies the messages again one transaction each.
public final class GroupCommitPipeline: Sendable {
    package let service: IngestService
    let lanes: [Lane]
    let logger: Logger
    /// Lane choice and the order of enqueueing: held while a request's messages are routed and
    /// queued, so requests reach their lanes in the order they were routed.
    private let routing: Locked<LaneRouting>
    /// Seconds a request waits for its messages' transaction; then each unfinished message
    /// fails with `commitOutcomeUnknown` (503, retry with the same messageId). A COMMIT waiting
    /// for a synchronous standby that is gone is not bounded by `statement_timeout`
    /// (docs/scale-out.md): without this the request would wait as long as the COMMIT.
    let answerTimeout: Double

    /// `lanes` writer threads (each holds at most one pooled connection at a time); `observer`
    /// hears of every committed lane transaction (`/metrics`: batch sizes, commit latency).
    public init(service: IngestService, lanes: Int = 4, maxBatch: Int = 256, answerTimeout: Double = 30,
                observer: LaneBatchObserver? = nil, logger: Logger) {
        self.service = service
        self.logger = logger
        self.answerTimeout = answerTimeout
        let count = max(1, lanes)
        routing = Locked(LaneRouting(lanes: count))
        let progress = ConditionLocked(Array(repeating: 0, count: count))
        self.lanes = (0..<count).map { Lane(index: $0, service: service, maxBatch: maxBatch, progress: progress,
                                               observer: observer, logger: logger) }
        for lane in self.lanes { lane.start() }
    }

    /// Applies one message; returns after its batch committed.
    public func ingest(_ message: SegmentMessage, writeKey: UUID) throws -> IngestResult {
        try ingest([message], writeKey: writeKey)[0]
    }

    /// Applies messages (a `/v1/batch`) through their lanes; returns after all committed, in order.
    /// Throws the first failure (the others may have committed: idempotent re-sends are safe).
    public func ingest(_ messages: [SegmentMessage], writeKey: UUID) throws -> [IngestResult] {
        guard !messages.isEmpty else { return [] }
        return try enqueue(messages, writeKey: writeKey).wait(timeout: answerTimeout)
    }

    /// Applies messages through their lanes; returns after all were committed or failed, with
    /// each message's own outcome, in order (a `/v1/batch`: one refused message fails alone).
    public func ingestEach(_ messages: [SegmentMessage], writeKey: UUID) -> [Result<IngestResult, any Error>] {
        guard !messages.isEmpty else { return [] }
        return enqueue(messages, writeKey: writeKey).waitEach(timeout: answerTimeout)
    }

    private func enqueue(_ messages: [SegmentMessage], writeKey: UUID) -> BatchCompletion {
        let completion = BatchCompletion(count: messages.count)
        let keys = messages.map { MessageIdentity($0).lookupKeys }
        routing.withLock { routing in
            var perLane: [Int: [PendingMessage]] = [:]
            for (index, message) in messages.enumerated() {
                let route = routing.route(keys[index])
                perLane[route.lane, default: []].append(PendingMessage(message: message, writeKey: writeKey, slot: index, completion: completion,
                                                                       number: route.number, after: route.after))
            }
            for (lane, items) in perLane { lanes[lane].enqueue(items) }
        }
        return completion
    }

    /// Stops the lanes after they drained what was queued.
    public func stop() { for lane in lanes { lane.stop() } }

    /// Messages routed to a lane so far (tests wait on it to know a request has arrived).
    var routedCount: Int { routing.withLock { $0.given.reduce(0, +) } }

    /// The lane `message` would take now.
    func laneIndex(for message: SegmentMessage) -> Int {
        routing.withLock { $0.lane(for: MessageIdentity(message).lookupKeys) }
    }
}

/// One message waiting in a lane.
struct PendingMessage: Sendable {
    let message: SegmentMessage
    let writeKey: UUID
    let slot: Int
    let completion: BatchCompletion
    /// Its number in its lane (1, 2, …).
    let number: Int
    /// Messages of other lanes that must be applied first (`LaneRouting`).
    let after: [LaneMark]
}

/// Collects the results of one request's messages; the request thread waits on it.
final class BatchCompletion: Sendable {
    private let state: ConditionLocked<(remaining: Int, outcomes: [Result<IngestResult, any Error>?])>

    init(count: Int) { state = ConditionLocked((count, Array(repeating: nil, count: count))) }

    func complete(slot: Int, _ outcome: Result<IngestResult, any Error>) {
        let finished = state.withLock { s -> Bool in
            s.outcomes[slot] = outcome
            s.remaining -= 1
            return s.remaining == 0
        }
        if finished { state.signal() }
    }

    /// The results in order, or the first failure (in slot order).
    func wait(timeout: Double) throws -> [IngestResult] {
        try waitEach(timeout: timeout).map { try $0.get() }
    }

    /// Each slot's outcome, in order; a slot not finished within `timeout` seconds is a
    /// `commitOutcomeUnknown` failure (its lane may still commit it later).
    func waitEach(timeout: Double) -> [Result<IngestResult, any Error>] {
        state.withLock(when: { $0.remaining == 0 }, timeout: timeout) { s, _ in
            s.outcomes.map { $0 ?? .failure(PostgresError(
                code: .commitOutcomeUnknown,
                message: "no answer from the database within \(timeout)s (a COMMIT waiting for a synchronous standby?)")) }
        }
    }
}

/// A writer thread with its queue.
final class Lane: @unchecked Sendable {
    let index: Int
    let service: IngestService
    let maxBatch: Int
    let observer: LaneBatchObserver?
    let logger: Logger
    /// How many messages each lane has finished (shared by the lanes of a pipeline).
    let progress: ConditionLocked<[Int]>
    private let state = ConditionLocked((queue: [PendingMessage](), stopping: false))
    private let thread = Locked<NativeThread?>(nil)

    init(index: Int, service: IngestService, maxBatch: Int, progress: ConditionLocked<[Int]>, observer: LaneBatchObserver?,
         logger: Logger) {
        self.index = index; self.service = service; self.maxBatch = maxBatch; self.progress = progress
        self.observer = observer; self.logger = logger
    }

    func start() {
        thread.withLock { $0 = NativeThread.start(name: "lr-lane-\(index)") { [self] in run() } }
    }

    func enqueue(_ items: [PendingMessage]) {
        state.withLock { $0.queue.append(contentsOf: items) }
        state.signal()
    }

    func stop() {
        let first = state.withLock { s -> Bool in
            defer { s.stopping = true }
            return !s.stopping
        }
        guard first else { return }
        state.signal()
        thread.withLock { $0 }?.join()
    }

    private func run() {
        while true {
            let batch = state.withLock(when: { !$0.queue.isEmpty || $0.stopping }) { s -> [PendingMessage]? in
                if s.queue.isEmpty { return nil }  // stopping, and drained
                var take = min(maxBatch, s.queue.count)
                // A message that waits for other lanes starts a batch: the ones before it go first.
                if let cut = s.queue.prefix(take).dropFirst().firstIndex(where: { !$0.after.isEmpty }) { take = cut }
                defer { s.queue.removeFirst(take) }
                return Array(s.queue.prefix(take))
            }
            guard let batch, let last = batch.last else { break }
            if let marks = batch.first?.after, !marks.isEmpty {
                // Marks name messages routed earlier, so lanes never wait on each other in a circle.
                progress.withLock(when: { done in marks.allSatisfy { done[$0.lane] >= $0.count } }) { _ in }
            }
            apply(batch)
            progress.withLock { $0[index] = last.number }
            progress.broadcast()
        }
    }

    /// One transaction for the batch. When PostgreSQL refuses a value, the refused messages fail
    /// alone and the others are applied again in one transaction (`isolateRefused`); on another
    /// failure that is not the database being unreachable, each message again in its own
    /// transaction so only the culprit fails.
    private func apply(_ batch: [PendingMessage], isolationRounds: Int = 2) {
        do {
            let started = ContinuousClock.now
            let results = try service.pool.withPipelinedTransaction { transaction in
                try service.applyBatchEach(batch.map { ($0.message, $0.writeKey) }, in: transaction)
            }
            observer?(batch.count, ContinuousClock.now - started)
            // Messages of quarantined (undecodable) leads failed alone; recorded after the commit
            // and before anyone is answered, so a 409 means the quarantine shows the attempt (an
            // answer first let the client's next request record before this batch did).
            service.quarantine.record(results.compactMap { result -> UndecodableLead? in
                if case .failure(let failure as UndecodableLead) = result { return failure } else { return nil }
            })
            for (item, result) in zip(batch, results) { item.completion.complete(slot: item.slot, result) }
        } catch let error as PostgresError where error.isUnavailable || batch.count == 1 && error.sqlState != .uniqueViolation {
            for item in batch { item.completion.complete(slot: item.slot, .failure(error)) }
        } catch let error as PostgresError where error.isRefusal && isolationRounds > 0 {
            let refused = refusedMessages(batch, known: error)
            if !refused.isEmpty {
                logger.notice("messages refused by PostgreSQL; applying the rest of the batch without them",
                              metadata: ["refused": "\(refused.count)", "batch": "\(batch.count)", "sqlstate": "\(error.sqlState?.rawValue ?? "")"])
                for (item, refusal) in refused { item.completion.complete(slot: item.slot, .failure(refusal)) }
                let slots = Set(refused.map { $0.item.slot })
                let rest = batch.filter { !slots.contains($0.slot) }
                if !rest.isEmpty { apply(rest, isolationRounds: isolationRounds - 1) }
                return
            }
            // Refused only together (no message alone is): one transaction each, as below.
            applyOneByOne(batch, after: error)
        } catch {
            applyOneByOne(batch, after: error)
        }
    }

    /// The messages of `batch` PostgreSQL refuses (class 22 or 54), with the refusal, found by
    /// bisection: each probe applies a part of the batch in a transaction that is always rolled
    /// back, so nothing is committed until the retry. `known` is the refusal of the whole batch.
    /// k culprits among n messages take about 2k·log2(n) probes; only a refused batch pays them.
    private func refusedMessages(_ batch: [PendingMessage], known: PostgresError) -> [(item: PendingMessage, error: PostgresError)] {
        func search(_ part: ArraySlice<PendingMessage>, refusal: PostgresError?) -> [(item: PendingMessage, error: PostgresError)] {
            guard let refusal = refusal ?? probe(part) else { return [] }
            if part.count == 1 { return [(part.first!, refusal)] }
            let middle = part.startIndex + part.count / 2
            return search(part[..<middle], refusal: nil) + search(part[middle...], refusal: nil)
        }
        return search(batch[...], refusal: known)
    }

    /// Applies `part` and rolls back: the refusal (class 22/54) it meets, or nil for anything else.
    private func probe(_ part: ArraySlice<PendingMessage>) -> PostgresError? {
        struct RollBack: Error {}
        do {
            try service.pool.withPipelinedTransaction { transaction in
                _ = try service.applyBatchEach(part.map { ($0.message, $0.writeKey) }, in: transaction)
                try transaction.send()  // the batch's writes wait for COMMIT's round trip: send them now
                throw RollBack()
            }
        } catch let error as PostgresError where error.isRefusal {
            return error
        } catch {}
        return nil
    }

    /// Each message in its own transaction, so only the culprit fails.
    private func applyOneByOne(_ batch: [PendingMessage], after error: any Error) {
        if batch.count > 1 { logger.debug("batch failed; applying one by one", metadata: ["error": "\(error)"]) }
        for item in batch {
            do {
                item.completion.complete(slot: item.slot, .success(try service.quarantine.recording {
                    try service.ingest(item.message, writeKey: item.writeKey)
                }))
            } catch {
                item.completion.complete(slot: item.slot, .failure(error))
            }
        }
    }
}

/// Told of each lane transaction that committed: how many messages it carried and how long it
/// took from BEGIN to COMMIT's answer. Called on the lane's thread after the commit: keep it cheap.
public typealias LaneBatchObserver = @Sendable (_ messages: Int, _ duration: Duration) -> Void
