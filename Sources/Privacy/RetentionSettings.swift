/// How long each kind of row is kept (`retention.*`, `ingest.idempotency_window`), in seconds.
/// The defaults and why: docs/privacy.md#retention.
public struct RetentionSettings: Sendable, Equatable {
    /// Run the retention job in `serve` (`retention.enabled`).
    public var enabled = true
    /// Seconds between runs (`retention.interval`).
    public var interval: Double = 3600
    /// Event history (`retention.events`): monthly partitions whose month ended before this are
    /// archived (when `archiveDirectory` is set) and dropped. Never shorter than the longest
    /// window of the active ruleset.
    public var events: Double = 400 * 86_400
    /// Where a partition is written as NDJSON before it is dropped (`retention.archive_dir`).
    public var archiveDirectory: String?
    /// Idempotency records (`ingest.idempotency_window`): a message id resent later than this
    /// is applied again.
    public var idempotencyWindow: Double = 7 * 86_400
    /// Delivered webhook deliveries and their outbox rows (`retention.deliveries`).
    public var deliveries: Double = 30 * 86_400
    /// The decision audit trail (`retention.decisions`).
    public var decisions: Double = 180 * 86_400
    /// Membership entries and exits (`retention.membership_history`).
    public var membershipHistory: Double = 400 * 86_400
    /// Stage changes (`retention.stage_history`); each lead's latest change stays whatever its
    /// age (its next stay is measured from it, `Store.pruneStageHistory`).
    public var stageHistory: Double = 400 * 86_400
    /// Hourly drift and inventory counts (`retention.insight_counts`): older hours are folded into
    /// one row per name (inventory totals and last-seen times stay exact) or, for the kinds only
    /// the drift window reads, deleted. Never shorter than `insightCountsMinimum`.
    public var insightCounts: Double = 120 * 86_400
    /// 13 weeks: the longest drift baseline (`drift.weeks` at most 12, plus the current day) stays whole.
    public static let insightCountsMinimum: Double = 91 * 86_400

    public init() {}
}
