import Essentials
import Foundation
import LeadStore
import Logging
import Postgres
import Segmentation

/// The drift use case: flushes this node's counters, reads the stored counts and hands them to
/// `DriftAnalysis`. Also runs the flush job (every `drift.flush_interval`) and keeps the alert
/// counts of the latest report for `/metrics`.
public final class DriftMonitor: Sendable {
    public let counters: DriftCounters
    let pool: PostgresPool
    /// The active ruleset version: lineage follows an activation without a restart.
    let rules: ActiveEngine
    var ruleset: Ruleset { rules.engine.ruleset }
    public let settings: DriftSettings
    let clock: @Sendable () -> Date
    let logger: Logger
    private let flushJob: PeriodicJob
    private let checkJob: PeriodicJob
    /// Alerts per kind in the latest report, and when it was made (monotonic nanoseconds).
    private let latest = Locked<(at: UInt64?, alerts: [String: Int])>((nil, [:]))

    public init(pool: PostgresPool, rules: ActiveEngine, settings: DriftSettings, counters: DriftCounters = DriftCounters(),
                clock: @escaping @Sendable () -> Date, logger: Logger) {
        self.pool = pool; self.rules = rules; self.settings = settings; self.counters = counters; self.clock = clock
        self.logger = logger
        flushJob = PeriodicJob(name: "lr-drift-flush", interval: settings.flushInterval, jitter: 0.1)
        checkJob = PeriodicJob(name: "lr-drift-check", interval: settings.checkInterval, jitter: 0.1)
    }

    /// The report as of now, this node's latest counts included.
    public func report() throws -> DriftReport { try report(reader: pool) }

    /// The report from the counts `reader` picks (the dashboard passes its read routing: a fresh
    /// enough replica). This node's pending counts are written to the primary first, as always;
    /// read from a replica they show once it has applied them (at most `read_max_lag`), as any
    /// aggregate read there does.
    package func report(reader: any ReadPoolChoosing) throws -> DriftReport {
        try flush()
        let now = clock()
        let since = DriftAnalysis.since(now: now, settings: settings)
        let (counts, lastSeen, rejected) = try reader.pool(forLead: nil).withConnection { connection in
            let store = Store(connection)
            return (try store.insightCounts(since: since), try store.insightLastSeen(kind: "event_type"),
                    try store.rejectedMessageCounts(since: now.addingTimeInterval(-6 * 86_400)))
        }
        let ruleset = self.ruleset
        let report = DriftAnalysis.report(.init(counts: counts, lastSeen: lastSeen, rejected: rejected, ruleset: ruleset,
                                                lineage: Lineage(ruleset: ruleset), settings: settings, now: now))
        var byKind: [String: Int] = [:]
        for alert in report.alerts { byKind[alert.kind.rawValue, default: 0] += 1 }
        let at = MonotonicClock.nanoseconds()
        latest.withLock { $0 = (at, byKind) }
        return report
    }

    /// The data inventory as of now (this node's latest counts included).
    public func inventory() throws -> InventoryReport {
        try flush()
        let totals = try pool.withConnection {
            try Store($0).insightTotals(kinds: ["leads", "lead_field", "field_seen", "field_type"])
        }
        return InventoryAnalysis.report(totals: totals, lineage: Lineage(ruleset: ruleset), now: clock())
    }

    /// Alerts per kind of a report at most `maxAge` seconds old (made now if older).
    public func alertCounts(maxAge: Double) -> [String: Int] {
        let now = MonotonicClock.nanoseconds()
        let cached = latest.withLock { state -> [String: Int]? in
            guard let at = state.at, Double(now &- at) / 1e9 < maxAge else { return nil }
            return state.alerts
        }
        if let cached { return cached }
        do { _ = try report() } catch { logger.warning("drift: report failed", metadata: ["error": "\(error)"]) }
        return latest.withLock { $0.alerts }
    }

    /// One drift check: the report, then, under an advisory lock (one node at a time), a
    /// `drift.detected` outbox message for each alert that was not open at the previous check.
    /// Returns how many were announced; nil when another node was checking.
    @discardableResult
    public func check() throws -> Int? {
        let report = try report()
        let byId = Dictionary(report.alerts.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try pool.withTransaction { connection -> Int? in
            let store = Store(connection)
            guard try store.tryDriftCheckLock() else { return nil }
            let fresh = try store.recordDriftAlerts(byId.keys.sorted(), now: report.generatedAt)
            try store.appendOutbox(try fresh.compactMap { byId[$0] }.map { alert in
                OutboxMessage(topic: .driftDetected, leadId: Store.nilUUID,
                              payload: PostgresJSON(rawBytes: Array(try encoder.encode(AlertView(alert, detectedAt: report.generatedAt)))))
            })
            return fresh.count
        }
    }

    /// Writes this node's pending counts now.
    public func flush() throws { try counters.flush(pool: pool) }

    /// Starts flushing every `flushInterval` and, when `check` is true, checking every `checkInterval`.
    public func start(check: Bool) {
        let counters = self.counters, pool = self.pool, logger = self.logger
        flushJob.start(pauseFirst: true) {
            do { try counters.flush(pool: pool) } catch {
                logger.warning("drift: counts not written (kept for the next flush)", metadata: ["error": "\(error)"])
            }
            return .pause
        }
        guard check else { return }
        checkJob.start(pauseFirst: true) { [self] in
            do { try self.check() } catch { logger.warning("drift: check failed", metadata: ["error": "\(error)"]) }
            return .pause
        }
    }

    /// Stops the jobs and writes what is pending.
    public func stop() {
        checkJob.stop()
        flushJob.stop()
        do { try flush() } catch { logger.warning("drift: last counts not written", metadata: ["error": "\(error)"]) }
    }
}
