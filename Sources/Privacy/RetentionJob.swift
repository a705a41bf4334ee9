#if canImport(Glibc)
import Glibc
#endif
import Essentials
import Foundation
import LeadStore
import Logging
import Postgres

/// What one retention run removed.
public struct RetentionReport: Sendable, Equatable {
    public var processedMessages = 0
    public var deliveriesAndOutbox = 0
    public var decisions = 0
    public var membershipHistory = 0
    public var stageHistory = 0
    /// Hourly `insight_counts` rows folded or deleted.
    public var insightCounts = 0
    public var defaultPartitionEvents = 0
    /// Partitions dropped (and archived first, when an archive directory is set).
    public var droppedPartitions: [String] = []
    /// Another node held the retention lock: this run did nothing.
    public var skipped = false
}

/// Deletes what is older than its retention window, on one node at a time: every step is a
/// short transaction that first takes the retention advisory lock (`pg_try_advisory_xact_lock`;
/// a node that does not get it skips the run). Windows are measured from `clock()`, so tests
/// move time by hand. Events go a month at a time (a partition), never younger than the longest
/// window of the active ruleset (`longestWindow`): a lead's signal state already holds what its
/// rules count, and a backfill of the same rules can still read what they need.
public final class RetentionJob: Sendable {
    let pool: PostgresPool
    let settings: RetentionSettings
    let longestWindow: Double
    let clock: @Sendable () -> Date
    let logger: Logger
    let job: PeriodicJob

    public init(pool: PostgresPool, settings: RetentionSettings, longestWindow: Double,
                clock: @escaping @Sendable () -> Date = Date.init, logger: Logger) {
        self.pool = pool; self.settings = settings; self.longestWindow = longestWindow; self.clock = clock; self.logger = logger
        job = PeriodicJob(name: "lr-retention", interval: settings.interval, jitter: 0.1)
    }

    public func start() {
        job.start(pauseFirst: true) { [self] in
            do {
                let report = try runOnce()
                if !report.skipped { logger.info("retention run", metadata: report.metadata) }
            } catch {
                logger.warning("retention run failed", metadata: ["error": "\(error)"])
            }
            return .pause
        }
    }

    public func stop() { job.stop() }

    /// One run of every step; what it removed.
    public func runOnce() throws -> RetentionReport {
        let now = clock()
        var report = RetentionReport()
        func prune(_ step: (Store) throws -> Int) throws -> Int? {
            var total = 0
            while true {
                let n: Int? = try pool.withTransaction { conn in
                    let store = Store(conn)
                    guard try store.tryRetentionLock() else { return nil }
                    return try step(store)
                }
                guard let n else { return total == 0 ? nil : total }
                total += n
                if n < Store.retentionBatch { return total }
            }
        }
        guard let processed = try prune({ try $0.pruneProcessedMessages(before: now - settings.idempotencyWindow) }) else {
            report.skipped = true
            return report
        }
        report.processedMessages = processed
        report.deliveriesAndOutbox = try prune { try $0.pruneDelivered(before: now - settings.deliveries) } ?? 0
        report.decisions = try prune { try $0.pruneDecisions(before: now - settings.decisions) } ?? 0
        report.membershipHistory = try prune { try $0.pruneMembershipHistory(before: now - settings.membershipHistory) } ?? 0
        report.stageHistory = try prune { try $0.pruneStageHistory(before: now - settings.stageHistory) } ?? 0
        report.insightCounts = try prune {
            try $0.foldInsightCounts(before: now - max(settings.insightCounts, RetentionSettings.insightCountsMinimum))
        } ?? 0
        let eventsCutoff = now - max(settings.events, longestWindow)
        let partitions = try pool.withConnection { try Store($0).eventPartitions(endingBy: eventsCutoff) }
        for partition in partitions {
            if let directory = settings.archiveDirectory { try archive(partition, into: directory) }
            let dropped: Bool? = try pool.withTransaction { conn in
                let store = Store(conn)
                guard try store.tryRetentionLock() else { return nil }
                return try store.dropEventPartition(partition)
            }
            if dropped == true { report.droppedPartitions.append(partition.name) }
        }
        report.defaultPartitionEvents = try prune { try $0.pruneDefaultPartitionEvents(before: eventsCutoff) } ?? 0
        return report
    }

    /// Writes a partition's events as NDJSON to `<directory>/<partition>.ndjson` (through a
    /// temporary name, fsynced, then renamed), read from one snapshot in pages.
    func archive(_ partition: EventPartition, into directory: String) throws {
        let path = "\(directory)/\(partition.name).ndjson"
        let temporary = path + ".partial"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ArchiveError(path: temporary, errno: errno) }
        defer { close(fd) }
        func write(_ bytes: [UInt8]) throws {
            var offset = 0
            while offset < bytes.count {
                let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
                if n < 0 { if errno == EINTR { continue }; throw ArchiveError(path: temporary, errno: errno) }
                offset += n
            }
        }
        try pool.withTransaction { conn in
            let store = Store(conn)
            try store.readOneSnapshot()
            var cursor: (lead: UUID, at: Date, id: UUID)?
            repeat {
                let page = try store.archivePage(partition, after: cursor)
                var buffer: [UInt8] = []
                for line in page.lines { buffer.append(contentsOf: line); buffer.append(UInt8(ascii: "\n")) }
                try write(buffer)
                cursor = page.next
            } while cursor != nil
        }
        guard fsync(fd) == 0, rename(temporary, path) == 0 else { throw ArchiveError(path: path, errno: errno) }
    }
}

/// An archive file could not be written: the partition is kept.
public struct ArchiveError: Error, CustomStringConvertible {
    public var path: String
    public var errno: Int32
    public var description: String { "cannot write the event archive \(path): \(String(cString: strerror(errno)))" }
}

extension RetentionReport {
    var metadata: Logger.Metadata {
        ["processed_messages": "\(processedMessages)", "deliveries_and_outbox": "\(deliveriesAndOutbox)",
         "decisions": "\(decisions)", "membership_history": "\(membershipHistory)",
         "stage_history": "\(stageHistory)", "insight_counts": "\(insightCounts)",
         "partitions_dropped": "\(droppedPartitions.joined(separator: ","))", "default_partition_events": "\(defaultPartitionEvents)"]
    }
}
