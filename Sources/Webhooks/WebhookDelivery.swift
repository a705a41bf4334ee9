import Essentials
import Foundation
import LeadStore
import Logging
import OutboundHTTP
import Postgres

/// The push side of the outbox: one dispatcher thread turns outbox rows into deliveries, one
/// leasing thread leases due deliveries in batches for the workers (`FOR UPDATE SKIP LOCKED`, so
/// several nodes share the work without sending one twice), and `settings.workers` threads POST
/// them signed and record the outcome. All of it
/// runs on its own threads with its own small connection pool: a slow or dead receiver holds a
/// delivery worker, never an ingest lane, a server thread or an ingest connection.
public final class WebhookDelivery: @unchecked Sendable {
    let settings: WebhookSettings
    let pool: PostgresPool
    let client: WebhookHTTPClient
    let policy: RetryPolicy
    let logger: Logger
    private let state = Locked(State())
    /// Outbox → deliveries, then expired leases back, every `pollInterval`.
    private let dispatcher: PeriodicJob
    /// Leases due deliveries for the workers in batches (`LeaseHandoff` says when).
    private let leaser: PeriodicJob
    private let workers = Locked<[NativeThread]>([])
    private let handoff: LeaseHandoff
    /// 2xx outcomes, recorded in batches by the workers themselves.
    private let delivered = DeliveredOutcomes()
    /// Dispatch and lease retry every `poll_interval` (200 ms): while the database is away they
    /// log once per window and a count.
    private let logThrottle = LogThrottle()

    private struct State { var stopping = false; var started = false }

    /// Sets up the pool and HTTPS trust (fails when the CA file is unusable); nothing runs yet.
    public init(databaseURL: String, settings: WebhookSettings, logger: Logger) throws {
        self.settings = settings
        self.logger = logger
        client = try WebhookHTTPClient(timeouts: settings.timeouts, extraCAFile: settings.caFile.isEmpty ? nil : settings.caFile,
                                       destinations: settings.destinationPolicy)
        handoff = LeaseHandoff(workers: max(1, settings.workers), batch: settings.leaseBatch, holdOff: settings.pollInterval)
        dispatcher = PeriodicJob(name: "lr-wh-dispatch", interval: settings.pollInterval)
        leaser = PeriodicJob(name: "lr-wh-lease", interval: settings.pollInterval)
        policy = RetryPolicy(base: settings.backoffBase, cap: settings.backoffCap, maxAge: settings.maxAge)
        pool = PostgresPool(configuration: PostgresConfiguration(url: databaseURL, sessionSettings: [("synchronous_commit", "off")]),
                            settings: .init(minConnections: 0, maxConnections: max(1, settings.databaseConnections),
                                            acquireTimeout: 30, idleTimeout: 300),
                            logger: logger)
    }

    /// Starts the dispatcher and the workers.
    public func start() {
        let first = state.withLock { s -> Bool in defer { s.started = true }; return !s.started }
        guard first else { return }
        dispatcher.start { [self] in dispatchTick() }
        leaser.start { [self] in leaseTick() }
        let threads = (0..<max(1, settings.workers)).map { i in
            NativeThread.start(name: "lr-wh-\(i)") { [self] in workerLoop() }
        }
        workers.withLock { $0 = threads }
        logger.info("webhook delivery started", metadata: ["workers": "\(settings.workers)"])
    }

    /// Stops taking work and waits for attempts in progress (at most the HTTP timeouts), gives
    /// back leases not yet attempted, then closes the pool. (After a crash, leases run out instead.)
    public func stop() {
        let running = state.withLock { s -> Bool in
            defer { s.stopping = true }
            return s.started && !s.stopping
        }
        dispatcher.requestStop()
        leaser.requestStop()
        let unsent = handoff.stop()
        if running {
            dispatcher.join()
            leaser.join()
            for thread in workers.withLock({ $0 }) { thread.join() }
        }
        let leftover = unsent + handoff.stop()
        if !leftover.isEmpty { _ = try? withStore { try $0.releaseLeases(leftover.map { ($0.id, $0.attempt) }) } }
        pool.close()
    }

    var stopping: Bool { state.withLock { $0.stopping } }

    /// A store on one of delivery's own connections, whose sessions start with
    /// `synchronous_commit = off` (the pool's configuration): a commit
    /// lost in a database crash only means a lease, an outcome or a whole dispatch (atomically)
    /// is done again — a delivery may be sent twice, which at-least-once allows — and delivery
    /// then never waits on the WAL flush that ingest's commits wait on.
    func withStore<T>(transaction: Bool = false, _ body: (Store) throws -> T) throws -> T {
        try pool.withConnection { conn in
            return transaction ? try conn.withTransaction { try body(Store($0)) } : try body(Store(conn))
        }
    }

    private func dispatchTick() -> PeriodicJob.Next {
        guard !stopping else { return .finish }
        do {
            var created = 0
            while !stopping {
                let n = try withStore(transaction: true) { try $0.dispatchOutbox(limit: settings.dispatchBatch) }
                created += n
                if n < settings.dispatchBatch { break }
            }
            let reclaimed = try withStore { try $0.reclaimExpiredLeases() }
            if reclaimed > 0 { logger.warning("webhook leases expired and retaken", metadata: ["count": "\(reclaimed)"]) }
            if created > 0 || reclaimed > 0 { handoff.newWork() }  // new deliveries: lease them now
            logger.settle(logThrottle, level: .error)
        } catch {
            logger.throttled(.error, "webhook dispatch failed", error: error, by: logThrottle)
        }
        return .pause
    }

    /// Gives back deliveries that waited too long to be sent, then leases a batch of due
    /// deliveries once the workers' queue runs low, and hands them over.
    private func leaseTick() -> PeriodicJob.Next {
        guard !stopping else { return .finish }
        let wanted = handoff.capacity(waitingUpTo: settings.pollInterval)
        do {
            let stale = handoff.takeStale()
            if !stale.isEmpty {
                try withStore { try $0.releaseLeases(stale.map { ($0.id, $0.attempt) }) }
                logger.notice("webhook leases given back unsent (workers busy)", metadata: ["count": "\(stale.count)"])
            }
            if wanted == 0 { return .runAgain }
            // Measured before the lease is taken, so the deadline is never later than the lease allows.
            let sendBy = MonotonicClock.deadline(after: settings.sendWindow)
            let leased = try withStore { try $0.leaseDeliveries(limit: wanted, leaseSeconds: settings.leaseSeconds) }
            handoff.hand(leased, asked: wanted, sendBy: sendBy)  // none due: the next lease waits for new work or holdOff
            return .runAgain
        } catch {
            logger.throttled(.error, "webhook lease failed", error: error, by: logThrottle)
            return .pause
        }
    }

    private func workerLoop() {
        while let delivery = handoff.take() {
            handoff.done(failed: !attempt(delivery))
        }
    }

    /// Sends one delivery and records the outcome (fenced by the attempt number); a 2xx joins
    /// the batch `delivered` writes, a failure is written at once with its retry time. True
    /// when the receiver answered 2xx.
    @discardableResult
    func attempt(_ delivery: LeasedDelivery) -> Bool {
        let event = WebhookEvent(outboxId: delivery.outboxId, topic: delivery.topic, createdAt: delivery.createdAt,
                                 payload: delivery.payload)
        let headers = event.headers(secret: delivery.secret, timestamp: Int(Date().timeIntervalSince1970), attempt: delivery.attempt)
        var status: Int?
        var failure: String?
        do {
            let response = try client.post(delivery.url, headers: headers, body: event.body)
            status = response.status
            if !(200...299).contains(response.status) {
                // The receiver's text is stored and logged: no control characters, bounded length.
                failure = response.headers["location"].map {
                    "HTTP \(response.status) (redirect to \(ReceiverText.sanitized($0, maxLength: 200)) not followed)"
                } ?? "HTTP \(response.status)"
            }
        } catch {
            failure = ReceiverText.sanitized("\(error)", maxLength: 500)
        }
        guard let failure else {
            delivered.record(DeliveredOutcome(id: delivery.id, attempt: delivery.attempt, httpStatus: status ?? 200)) { batch in
                do {
                    _ = try withStore { try $0.markDelivered(batch) }
                } catch {
                    // The leases run out and the deliveries are retaken: at-least-once.
                    logger.error("webhook outcomes not recorded", metadata: ["count": "\(batch.count)", "error": "\(error)"])
                }
            }
            return true
        }
        do {
            try withStore { store in
                let delay = policy.delay(afterAttempt: delivery.attempt, maxAttempts: delivery.maxAttempts,
                                         windowAge: Date().timeIntervalSince(delivery.windowStartedAt),
                                         unit: Double.random(in: 0..<1))
                try store.markFailed(delivery.id, attempt: delivery.attempt, httpStatus: status, error: failure, retryInSeconds: delay)
                logger.notice("webhook attempt failed", metadata: [
                    "delivery": "\(delivery.id)", "attempt": "\(delivery.attempt)", "error": "\(failure)",
                    "next": "\(delay.map { "in \(Int($0))s" } ?? "dead-letter")"])
            }
        } catch {
            // The lease runs out and the delivery is retaken: at-least-once.
            logger.error("webhook outcome not recorded", metadata: ["delivery": "\(delivery.id)", "error": "\(error)"])
        }
        return false
    }
}
