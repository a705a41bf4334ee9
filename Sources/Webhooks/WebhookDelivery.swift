import Essentials
import Foundation
import LeadStore
import Logging
import OutboundHTTP
import Postgres

/// The push side of the outbox: one dispatcher thread turns outbox rows into deliveries, one
/// leasing thread leases due deliveries for the idle workers (`FOR UPDATE SKIP LOCKED`, so several
/// nodes share the work without sending one twice), and `settings.workers` threads POST them
/// signed and record the outcome. All of it
/// runs on its own threads with its own small connection pool: a slow or dead receiver holds a
/// delivery worker, never an ingest lane, a server thread or an ingest connection.
public final class WebhookDelivery: @unchecked Sendable {
    let settings: WebhookSettings
    let pool: PostgresPool
    let client: WebhookHTTPClient
    let policy: RetryPolicy
    let logger: Logger
    private let state = Locked(State())
    private let wake = NSCondition()
    private let finished = DispatchGroup()
    private let handoff: LeaseHandoff
    /// Dispatch and lease retry every `poll_interval` (200 ms): while the database is away they
    /// log once per window and a count.
    private let logThrottle = LogThrottle()

    private struct State { var stopping = false; var started = false }

    /// Sets up the pool and HTTPS trust (fails when the CA file is unusable); nothing runs yet.
    public init(databaseURL: String, settings: WebhookSettings, logger: Logger) throws {
        self.settings = settings
        self.logger = logger
        client = try WebhookHTTPClient(timeouts: settings.timeouts, extraCAFile: settings.caFile.isEmpty ? nil : settings.caFile)
        handoff = LeaseHandoff(workers: max(1, settings.workers))
        policy = RetryPolicy(base: settings.backoffBase, cap: settings.backoffCap, maxAge: settings.maxAge)
        pool = PostgresPool(configuration: PostgresConfiguration(url: databaseURL),
                            settings: .init(minConnections: 0, maxConnections: max(1, settings.databaseConnections),
                                            acquireTimeout: 30, idleTimeout: 300),
                            logger: logger)
    }

    /// Starts the dispatcher and the workers.
    public func start() {
        let first = state.withLock { s -> Bool in defer { s.started = true }; return !s.started }
        guard first else { return }
        spawn("lr-webhook-dispatch") { [self] in dispatchLoop() }
        spawn("lr-webhook-lease") { [self] in leaseLoop() }
        for i in 0..<max(1, settings.workers) { spawn("lr-webhook-\(i)") { [self] in workerLoop() } }
        logger.info("webhook delivery started", metadata: ["workers": "\(settings.workers)"])
    }

    /// Stops taking work and waits for attempts in progress (at most the HTTP timeouts), gives
    /// back leases not yet attempted, then closes the pool. (After a crash, leases run out instead.)
    public func stop() {
        let running = state.withLock { s -> Bool in
            defer { s.stopping = true }
            return s.started && !s.stopping
        }
        wakeAll()
        let unsent = handoff.stop()
        if running { finished.wait() }
        let leftover = unsent + handoff.stop()
        if !leftover.isEmpty { _ = try? withStore { try $0.releaseLeases(leftover.map { ($0.id, $0.attempt) }) } }
        pool.close()
    }

    var stopping: Bool { state.withLock { $0.stopping } }

    private func spawn(_ name: String, _ body: @escaping @Sendable () -> Void) {
        finished.enter()
        let thread = Thread { [finished] in body(); finished.leave() }
        thread.name = name
        thread.start()
    }

    /// Wakes idle workers (new deliveries, or stop).
    func wakeAll() {
        wake.lock()
        wake.broadcast()
        wake.unlock()
    }

    /// Sleeps up to `seconds` unless woken.
    func idle(_ seconds: Double) {
        wake.lock()
        if !stopping { _ = wake.wait(until: Date().addingTimeInterval(seconds)) }
        wake.unlock()
    }

    /// A store on one of delivery's own connections, with `synchronous_commit = off`: a commit
    /// lost in a database crash only means a lease, an outcome or a whole dispatch (atomically)
    /// is done again — a delivery may be sent twice, which at-least-once allows — and delivery
    /// then never waits on the WAL flush that ingest's commits wait on.
    func withStore<T>(transaction: Bool = false, _ body: (Store) throws -> T) throws -> T {
        try pool.withConnection { conn in
            try conn.executeScript(unsafeSQL: "SET synchronous_commit = off")
            return transaction ? try conn.withTransaction { try body(Store($0)) } : try body(Store(conn))
        }
    }

    private func dispatchLoop() {
        while !stopping {
            do {
                var created = 0
                while !stopping {
                    let n = try withStore(transaction: true) { try $0.dispatchOutbox(limit: settings.dispatchBatch) }
                    created += n
                    if n < settings.dispatchBatch { break }
                }
                let reclaimed = try withStore { try $0.reclaimExpiredLeases() }
                if reclaimed > 0 { logger.warning("webhook leases expired and retaken", metadata: ["count": "\(reclaimed)"]) }
                if created > 0 || reclaimed > 0 { wakeAll() }
                logger.settle(logThrottle, level: .error)
            } catch {
                logger.throttled(.error, "webhook dispatch failed", error: error, by: logThrottle)
            }
            idle(settings.pollInterval)
        }
    }

    /// Leases as many due deliveries as there are idle workers, and hands them over.
    private func leaseLoop() {
        while !stopping {
            let wanted = handoff.capacity(waitingUpTo: settings.pollInterval)
            if wanted == 0 { continue }
            do {
                let leased = try withStore { try $0.leaseDeliveries(limit: wanted, leaseSeconds: settings.leaseSeconds) }
                if leased.isEmpty { idle(settings.pollInterval) } else { handoff.hand(leased) }
            } catch {
                logger.throttled(.error, "webhook lease failed", error: error, by: logThrottle)
                idle(settings.pollInterval)
            }
        }
    }

    private func workerLoop() {
        while let delivery = handoff.take() {
            attempt(delivery)
            handoff.done()
        }
    }

    /// Sends one delivery and records the outcome (fenced by the attempt number).
    func attempt(_ delivery: LeasedDelivery) {
        let event = WebhookEvent(outboxId: delivery.outboxId, topic: delivery.topic, createdAt: delivery.createdAt,
                                 payload: delivery.payload)
        let headers = event.headers(secret: delivery.secret, timestamp: Int(Date().timeIntervalSince1970), attempt: delivery.attempt)
        var status: Int?
        var failure: String?
        do {
            let response = try client.post(delivery.url, headers: headers, body: event.body)
            status = response.status
            if !(200...299).contains(response.status) {
                failure = response.headers["location"].map { "HTTP \(response.status) (redirect to \($0) not followed)" }
                    ?? "HTTP \(response.status)"
            }
        } catch {
            failure = "\(error)"
        }
        do {
            try withStore { store in
                if let failure {
                    let delay = policy.delay(afterAttempt: delivery.attempt, maxAttempts: delivery.maxAttempts,
                                             windowAge: Date().timeIntervalSince(delivery.windowStartedAt),
                                             unit: Double.random(in: 0..<1))
                    try store.markFailed(delivery.id, attempt: delivery.attempt, httpStatus: status, error: failure, retryInSeconds: delay)
                    logger.notice("webhook attempt failed", metadata: [
                        "delivery": "\(delivery.id)", "attempt": "\(delivery.attempt)", "error": "\(failure)",
                        "next": "\(delay.map { "in \(Int($0))s" } ?? "dead-letter")"])
                } else {
                    try store.markDelivered(delivery.id, attempt: delivery.attempt, httpStatus: status ?? 200)
                }
            }
        } catch {
            // The lease runs out and the delivery is retaken: at-least-once.
            logger.error("webhook outcome not recorded", metadata: ["delivery": "\(delivery.id)", "error": "\(error)"])
        }
    }
}
