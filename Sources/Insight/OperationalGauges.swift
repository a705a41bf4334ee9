import Essentials
import Foundation
import LeadStore
import Logging
import Postgres
import Prometheus

/// The gauges `/metrics` reads from PostgreSQL: sweeper lag, sales queues (depth, age, SLA
/// breaches), webhook backlog and dead letters, segment sizes, today's rejected messages, the
/// rollup fold's backlog. Read at scrape time, at most once per `cacheSeconds` per node (a
/// scraper every few seconds, or several, cost one set of queries), through `Store.operationalReadings`. A failed read keeps
/// the last values and counts `leadrouter_metrics_read_errors_total`.
public final class OperationalGauges: Sendable {
    let pool: PostgresPool
    let registry: PrometheusCollectorRegistry
    let clock: @Sendable () -> Date
    let cacheSeconds: Double
    let logger: Logger
    private let errors: Prometheus.Counter
    /// When the readings were last taken (monotonic nanoseconds), and the labels last set per
    /// gauge name, so a queue, segment or reason that disappears is reported as 0, not frozen.
    private let state = Locked<(readAt: UInt64?, labels: [String: Set<String>])>((nil, [:]))

    public init(pool: PostgresPool, registry: PrometheusCollectorRegistry, cacheSeconds: Double = 5,
                clock: @escaping @Sendable () -> Date, logger: Logger) {
        self.pool = pool; self.registry = registry; self.cacheSeconds = cacheSeconds; self.clock = clock; self.logger = logger
        errors = registry.makeCounter(name: "leadrouter_metrics_read_errors_total",
                                      help: "Scrapes whose PostgreSQL readings failed (the gauges kept their last values)")
    }

    /// Reads and sets the gauges unless they were read less than `cacheSeconds` ago.
    public func refresh() {
        let now = MonotonicClock.nanoseconds()
        let due = state.withLock { state -> Bool in
            if let at = state.readAt, Double(now &- at) / 1e9 < cacheSeconds { return false }
            state.readAt = now
            return true
        }
        guard due else { return }
        let at = clock()
        do {
            let readings = try pool.withConnection { try Store($0).operationalReadings(now: at) }
            set(readings, at: at)
        } catch {
            errors.increment()
            logger.warning("metrics: operational readings failed", metadata: ["error": "\(error)"])
        }
    }

    func set(_ r: OperationalReadings, at now: Date) {
        func age(_ since: Date?) -> Double { since.map { max(0, now.timeIntervalSince($0)) } ?? 0 }
        gauge("leadrouter_sweeper_due_leads", "Leads whose next_evaluation_at has come", Double(r.dueEvaluations))
        gauge("leadrouter_sweeper_lag_seconds", "Age of the oldest due next_evaluation_at (0 when none is due)",
              age(r.oldestDueEvaluation))
        labelled("leadrouter_queue_open_items", "Open (unclaimed) items per sales queue", "queue",
                 r.queues.map { ($0.name, Double($0.open)) })
        labelled("leadrouter_queue_claimed_items", "Claimed items per sales queue", "queue", r.queues.map { ($0.name, Double($0.claimed)) })
        labelled("leadrouter_queue_oldest_open_age_seconds", "Age of the oldest open item per sales queue", "queue",
                 r.queues.map { ($0.name, age($0.oldestOpen)) })
        labelled("leadrouter_queue_sla_breached_items", "Items not closed whose SLA ran out before their first touch", "queue",
                 r.queues.map { ($0.name, Double($0.breached)) })
        labelled("leadrouter_webhook_deliveries", "Webhook deliveries not delivered, by status (dead: dead letters)", "status",
                 ["pending", "in_flight", "dead"].map { ($0, Double(r.deliveries[$0] ?? 0)) })
        gauge("leadrouter_webhook_retrying_deliveries", "Pending deliveries that failed at least once", Double(r.retryingDeliveries))
        gauge("leadrouter_webhook_lag_seconds", "Age of the oldest delivery pending or in flight", age(r.oldestUndelivered))
        gauge("leadrouter_webhook_outbox_pending", "Outbox messages not yet turned into deliveries", Double(r.outboxPending))
        labelled("leadrouter_segment_members", "Leads in each segment", "segment", r.segmentSizes.map { ($0.key, Double($0.value)) })
        labelled("leadrouter_ingest_rejected_messages_today", "Messages /v1/batch dropped as invalid since 00:00 UTC, all nodes, by reason",
                 "reason", r.rejectedToday.map { ($0.key, Double($0.value)) })
        labelled("leadrouter_rollup_deltas_unfolded", "Rollup delta rows waiting for the fold, per delta table", "table",
                 r.unfoldedRollupDeltas.map { ($0.key, Double($0.value)) })
        gauge("leadrouter_rollup_deltas_oldest_age_seconds", "How long the oldest unfolded rollup delta has waited (0 when none waits)",
              r.oldestUnfoldedRollupDeltaAge ?? 0)
    }

    private func gauge(_ name: String, _ help: String, _ value: Double) {
        registry.makeGauge(name: name, labels: [], help: help).set(to: value)
    }

    /// Sets one gauge per label value, and 0 for the label values set last time but absent now.
    private func labelled(_ name: String, _ help: String, _ label: String, _ values: [(String, Double)]) {
        let current = Set(values.map(\.0))
        let gone = state.withLock { state -> Set<String> in
            defer { state.labels[name, default: []].formUnion(current) }
            return state.labels[name, default: []].subtracting(current)
        }
        for (value, number) in values { registry.makeGauge(name: name, labels: [(label, value)], help: help).set(to: number) }
        for value in gone { registry.makeGauge(name: name, labels: [(label, value)], help: help).set(to: 0) }
    }
}
