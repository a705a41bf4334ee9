import Essentials
import Foundation
import LeadStore
import Logging
import Postgres
import Segmentation

/// What a backtest job was asked (`jobs.params`).
public struct BacktestParams: Codable, Sendable {
    public var version: Int
    /// The period, epoch milliseconds, `to` exclusive.
    public var fromMs: Int64
    public var toMs: Int64
    public var sample: Double

    enum CodingKeys: String, CodingKey { case version, fromMs = "from_ms", toMs = "to_ms", sample }

    public init(version: Int, from: Date, to: Date, sample: Double) {
        self.version = version; fromMs = Timestamp(from).milliseconds; toMs = Timestamp(to).milliseconds; self.sample = sample
    }
    var from: Date { Date(timeIntervalSince1970: Double(fromMs) / 1000) }
    var to: Date { Date(timeIntervalSince1970: Double(toMs) / 1000) }
}

/// Runs queued jobs on this node, one at a time (thread `lr-jobs`): each job is taken by one node
/// (`SKIP LOCKED`); progress and a heartbeat are written after every page; a cancel is seen
/// there; a job whose node stopped beating for a minute is marked failed by any node.
public final class JobRunner: Sendable {
    let pool: PostgresPool
    /// Replay threads per backtest (`rulesets.backtest_workers`; 0 in the setting = one per core).
    let workers: Int
    let job: PeriodicJob
    let logger: Logger
    private let logThrottle = LogThrottle()
    /// A running job with no heartbeat for this long lost its node.
    static let abandonedAfter = 60.0

    public init(pool: PostgresPool, interval: Double = 1, workers: Int = ProcessInfo.processInfo.activeProcessorCount, logger: Logger) {
        self.pool = pool; self.logger = logger; self.workers = max(1, workers)
        job = PeriodicJob(name: "lr-jobs", interval: interval, jitter: 0.2)
    }

    public func start() {
        job.start(pauseFirst: true) { [self] in
            do {
                let ran = try runNext()
                logger.settle(logThrottle, level: .warning)
                return ran ? .runAgain : .pause
            } catch {
                logger.throttled(.warning, "job runner failed", error: error, by: logThrottle)
                return .pause
            }
        }
    }

    public func stop() { job.stop() }

    /// Takes and runs the oldest queued job; false when there was none.
    @discardableResult
    public func runNext() throws -> Bool {
        let claimed: JobRecord? = try pool.withTransaction { conn in
            let store = Store(conn)
            try store.failAbandonedJobs(olderThan: Self.abandonedAfter)
            return try store.claimJob()
        }
        guard let record = claimed else { return false }
        do {
            let params = try record.params.decode(BacktestParams.self)
            let outcome = try Self.backtest(params, pool: pool, workers: workers) { share in
                try pool.withConnection { !(try Store($0).jobProgress(record.id, share)) }
            }
            try pool.withConnection { conn in
                if let report = outcome {
                    try Store(conn).finishJob(record.id, status: "done", result: try PostgresJSON(encoding: report))
                } else {
                    try Store(conn).finishJob(record.id, status: "cancelled")
                }
            }
            logger.info("job finished", metadata: ["job.id": "\(record.id)", "job.status": "\(outcome == nil ? "cancelled" : "done")"])
        } catch {
            logger.warning("job failed", metadata: ["job.id": "\(record.id)", "error": "\(error)"])
            try? pool.withConnection { try Store($0).finishJob(record.id, status: "failed", error: "\(error)") }
        }
        return true
    }

    /// Runs a backtest of stored version `params.version` against the active version; nil when
    /// `progress` answered false (cancelled).
    public static func backtest(_ params: BacktestParams, pool: PostgresPool, workers: Int = ProcessInfo.processInfo.activeProcessorCount,
                                progress: (Double) throws -> Bool) throws -> BacktestReport? {
        let (candidate, active): (RulesetVersion?, RulesetVersion?) = try pool.withConnection { conn in
            let store = Store(conn)
            return (try store.rulesetVersion(params.version), try store.activeRuleset())
        }
        guard let candidate, let active else { throw BacktestError(message: "version \(params.version) or the active version is not stored") }
        var backtest = Backtest(candidate: try RulesetAdmin.engine(for: candidate), active: try RulesetAdmin.engine(for: active),
                                from: params.from, to: params.to, sample: params.sample)
        backtest.compileEngines = { (try RulesetAdmin.engine(for: candidate), try RulesetAdmin.engine(for: active)) }
        return try run(backtest, pool: pool, workers: workers, progress: progress)
    }

    /// Runs `backtest` on `workers` replay threads into a report (also `rules backtest FILE`,
    /// with a candidate not stored); the report is the same for any number of workers.
    public static func run(_ backtest: Backtest, pool: PostgresPool, workers: Int = ProcessInfo.processInfo.activeProcessorCount,
                           progress: (Double) throws -> Bool) throws -> BacktestReport? {
        let parts = (0..<max(1, workers)).map { _ in Locked(BacktestReport(backtest: backtest)) }
        let started = MonotonicClock.nanoseconds()
        // Each worker adds to its own part (its lock is never contended).
        let finished = try backtest.run(pool: pool, workers: parts.count, progress: progress) { worker, outcome in
            parts[worker].withLock { $0.add(outcome) }
        }
        guard finished else { return nil }
        var report = BacktestReport.merged(parts.map { $0.withLock { $0 } })
        report.seconds = Double(MonotonicClock.nanoseconds() - started) / 1e9
        report.eventsPerSecond = report.seconds > 0 ? (Double(report.events) / report.seconds).rounded() : 0
        return report
    }
}

public struct BacktestError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
