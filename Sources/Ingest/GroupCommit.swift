import Essentials
import Foundation
import LeadStore
import Logging
import Postgres

/// Group commit (DESIGN.md §4): requests hand their messages to writer lanes sharded by identity
/// key hash — the same person always lands on the same lane, so their messages keep their order
/// and lanes do not fight over one lead's row. A lane takes everything waiting (up to `maxBatch`)
/// and applies it in ONE transaction, then completes each waiting request; while that commit is
/// in flight the next batch gathers, so the commit cost is shared by every message in it.
///
/// If a batch fails for a reason other than the database being unreachable (one bad message, a
/// constraint), its messages are applied again one transaction each, so only the culprit fails.
public final class GroupCommitPipeline: Sendable {
    package let service: IngestService
    let lanes: [Lane]
    let logger: Logger

    /// `lanes` writer threads (each holds at most one pooled connection at a time).
    public init(service: IngestService, lanes: Int = 8, maxBatch: Int = 256, logger: Logger) {
        self.service = service
        self.logger = logger
        self.lanes = (0..<max(1, lanes)).map { Lane(index: $0, service: service, maxBatch: maxBatch, logger: logger) }
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
        let completion = BatchCompletion(count: messages.count)
        var perLane: [Int: [PendingMessage]] = [:]
        for (index, message) in messages.enumerated() {
            let lane = laneIndex(for: message)
            perLane[lane, default: []].append(PendingMessage(message: message, writeKey: writeKey, slot: index, completion: completion))
        }
        for (lane, items) in perLane { lanes[lane].enqueue(items) }
        return try completion.wait()
    }

    /// Stops the lanes after they drained what was queued.
    public func stop() { for lane in lanes { lane.stop() } }

    func laneIndex(for message: SegmentMessage) -> Int {
        guard let key = MessageIdentity(message).keys.first else { return 0 }
        return Int(UInt64(bitPattern: key.hash) % UInt64(lanes.count))
    }
}

/// One message waiting in a lane.
struct PendingMessage: Sendable {
    let message: SegmentMessage
    let writeKey: UUID
    let slot: Int
    let completion: BatchCompletion
}

/// Collects the results of one request's messages; the request thread waits on it.
final class BatchCompletion: Sendable {
    private let state: ConditionLocked<(remaining: Int, results: [IngestResult?], error: (any Error)?)>

    init(count: Int) { state = ConditionLocked((count, Array(repeating: nil, count: count), nil)) }

    func complete(slot: Int, _ outcome: Result<IngestResult, any Error>) {
        let finished = state.withLock { s -> Bool in
            switch outcome {
            case .success(let r): s.results[slot] = r
            case .failure(let e): if s.error == nil { s.error = e }
            }
            s.remaining -= 1
            return s.remaining == 0
        }
        if finished { state.signal() }
    }

    func wait() throws -> [IngestResult] {
        try state.withLock(when: { $0.remaining == 0 }) { s in
            if let error = s.error { throw error }
            return s.results.map { $0! }
        }
    }
}

/// A writer thread with its queue.
final class Lane: @unchecked Sendable {
    let index: Int
    let service: IngestService
    let maxBatch: Int
    let logger: Logger
    private let state = ConditionLocked((queue: [PendingMessage](), stopping: false))
    private let thread = Locked<NativeThread?>(nil)

    init(index: Int, service: IngestService, maxBatch: Int, logger: Logger) {
        self.index = index; self.service = service; self.maxBatch = maxBatch; self.logger = logger
    }

    func start() {
        thread.withLock { $0 = NativeThread.start(name: "leadrouter-lane-\(index)") { [self] in run() } }
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
                let take = min(maxBatch, s.queue.count)
                defer { s.queue.removeFirst(take) }
                return Array(s.queue.prefix(take))
            }
            guard let batch else { break }
            apply(batch)
        }
    }

    /// One transaction for the batch; on a failure that is not the database being unreachable,
    /// each message again in its own transaction so only the culprit fails.
    private func apply(_ batch: [PendingMessage]) {
        do {
            let results = try service.pool.withTransaction(bodyBegins: true) { conn in
                let store = Store(conn)
                return try service.applyBatch(batch.map { ($0.message, $0.writeKey) }, store: store, ownTransaction: true)
            }
            for (item, result) in zip(batch, results) { item.completion.complete(slot: item.slot, .success(result)) }
        } catch let error as PostgresError where error.isUnavailable || batch.count == 1 && error.sqlState != "23505" {
            for item in batch { item.completion.complete(slot: item.slot, .failure(error)) }
        } catch {
            if batch.count > 1 { logger.debug("batch failed; applying one by one", metadata: ["error": "\(error)"]) }
            for item in batch {
                do {
                    item.completion.complete(slot: item.slot, .success(try service.ingest(item.message, writeKey: item.writeKey)))
                } catch {
                    item.completion.complete(slot: item.slot, .failure(error))
                }
            }
        }
    }
}
