import Foundation
import HTTPServer
import Ingest
import Insight
import Logging
import Postgres

/// Connects `ServiceMetrics` to the totals other parts already keep: ingest's counters and the
/// pool's waits are sampled at scrape time (nothing added to the write path), the PostgreSQL
/// gauges read through `OperationalGauges`. Here, because only the service sees every part.
enum MetricsWiring {
    static func register(_ metrics: ServiceMetrics, counters: IngestCounters, pool: PostgresPool, drift: DriftMonitor,
                         readRouting: ReadRouting, cacheSeconds: Double, clock: @escaping @Sendable () -> Date, logger: Logger) {
        let ingest: [(String, String, @Sendable (IngestCounters.Snapshot) -> Int)] = [
            ("leadrouter_ingest_events_total", "Messages applied (committed) by this node", { $0.applied }),
            ("leadrouter_ingest_duplicates_total", "Messages already seen (same messageId), answered without applying", { $0.duplicates }),
            ("leadrouter_ingest_rejected_messages_total", "Messages /v1/batch dropped as invalid on this node", { $0.rejectedMessages }),
            ("leadrouter_ingest_unknown_event_types_total", "Events whose name maps to no event type of the ruleset", { $0.unknownEventTypes }),
            ("leadrouter_ingest_invalid_emails_total", "Email traits that failed validation (kept as traits, not as the lead's email)",
             { $0.invalidEmails }),
            ("leadrouter_ingest_unknown_sources_total", "Events without a recognisable source", { $0.unknownSources }),
            ("leadrouter_ingest_merges_total", "Lead merges", { $0.merges }),
            ("leadrouter_ingest_quarantined_messages_total", "Messages refused because their lead is quarantined", { $0.quarantinedMessages }),
            ("leadrouter_ingest_suppressed_messages_total", "Messages dropped for an identity suppressed by an erasure", { $0.suppressedMessages }),
        ]
        for (name, help, value) in ingest {
            metrics.sampleCounter(name, help: help) { Double(value(counters.snapshot)) }
        }
        metrics.sampleCounter("leadrouter_db_pool_waits_total", help: "Connection acquires that found the pool exhausted and waited") {
            Double(pool.waits.waits)
        }
        metrics.sampleCounter("leadrouter_db_pool_wait_timeouts_total", help: "Connection acquires that gave up waiting") {
            Double(pool.waits.timeouts)
        }
        metrics.sampleCounter("leadrouter_db_pool_wait_seconds_total", help: "Time spent waiting for a pooled connection") {
            let (seconds, attoseconds) = pool.waits.waited.components
            return Double(seconds) + Double(attoseconds) / 1e18
        }
        registerReadRouting(metrics, readRouting)
        let gauges = OperationalGauges(pool: pool, registry: metrics.registry, cacheSeconds: cacheSeconds, clock: clock, logger: logger)
        metrics.beforeScrape { gauges.refresh() }
        let registry = metrics.registry
        metrics.beforeScrape {
            let counts = drift.alertCounts(maxAge: 60)
            for kind in DriftReport.Alert.Kind.allCases {
                registry.makeGauge(name: "leadrouter_drift_alerts", labels: [("kind", kind.rawValue)],
                                   help: "Drift alerts in the latest report (made at most a minute before the scrape)")
                    .set(to: Double(counts[kind.rawValue] ?? 0))
            }
        }
    }

    /// Where CRM reads went and, with `DATABASE_READ_URL`, the replica's lag as last measured
    /// (docs/scale-out.md#read-replicas): the lag is what decides whether reads use the replica,
    /// so an operator alerting on it sees the same number the node acts on.
    private static func registerReadRouting(_ metrics: ServiceMetrics, _ routing: ReadRouting) {
        let help = "CRM reads by the server they went to (read routing)"
        metrics.sampleCounter("leadrouter_db_reads_total", help: help, labels: [("target", "replica")]) { Double(routing.readCounts.replica) }
        metrics.sampleCounter("leadrouter_db_reads_total", help: help, labels: [("target", "primary")]) { Double(routing.readCounts.primary) }
        guard routing.replica != nil else { return }
        let registry = metrics.registry
        metrics.beforeScrape {
            let lag = routing.replicaLag
            registry.makeGauge(name: "leadrouter_db_replica_up", help: "1 when the last lag measurement of the read replica succeeded")
                .set(to: lag == nil ? 0 : 1)
            registry.makeGauge(name: "leadrouter_db_replica_lag_seconds",
                               help: "The read replica's replay lag as last measured (NaN when it could not be measured)")
                .set(to: lag ?? .nan)
            registry.makeGauge(name: "leadrouter_db_replica_max_lag_seconds", help: "database.read_max_lag: beyond it reads go to the primary")
                .set(to: routing.maxLag)
        }
    }

    /// The router's recorder: the Prometheus one, and `also` beside it when given.
    static func requestRecorder(_ metrics: ServiceMetrics, also: (any RequestMetricsRecorder)?) -> any RequestMetricsRecorder {
        guard let also else { return metrics.requests }
        return FanOutRequestMetrics(first: metrics.requests, second: also)
    }
}
