import Essentials

/// Data-hygiene and pipeline counts since start (per process), for operators and tests: how
/// many invalid emails were kept as traits, events without a source, merges, duplicates.
public final class IngestCounters: Sendable {
    /// A snapshot of the counts.
    public struct Snapshot: Sendable, Equatable {
        public var applied = 0
        public var duplicates = 0
        public var invalidEmails = 0
        public var unknownSources = 0
        public var unknownEventTypes = 0
        public var merges = 0
        /// Queries that read a page of a lead's history for a signal rebuild (after a merge, or a
        /// ruleset that adds a signal), the events they read, and the most one of them read
        /// (never more than `Store.historyPageSize`).
        public var historyPages = 0
        public var historyEvents = 0
        public var largestHistoryPage = 0
        /// Decodes of a lead row that failed (sweeps, messages, reads), and the leads quarantined
        /// for the first time by this process (`LeadQuarantine`).
        public var undecodableLeadReads = 0
        public var quarantinedLeads = 0
        /// Messages that failed alone (409) because their lead is quarantined.
        public var quarantinedMessages = 0
        /// Valid messages whose `integrations` left leadrouter out: accepted, not applied.
        public var notAddressed = 0
        /// analytics.js metric series received on `/v1/m` (counted, nothing stored).
        public var browserMetricSeries = 0
        /// Messages dropped because they carried an identity suppressed by an erasure.
        public var suppressedMessages = 0
        /// Messages `/v1/batch` dropped as invalid (by reason, per day and key, in `rejected_messages`).
        public var rejectedMessages = 0
    }

    private let state = Locked(Snapshot())

    public init() {}

    public var snapshot: Snapshot { state.withLock { $0 } }

    func add(_ body: (inout Snapshot) -> Void) { state.withLock { body(&$0) } }

    /// Counts messages accepted but not applied (`SegmentMessage.addressedToLeadrouter`).
    package func countNotAddressed(_ count: Int) { if count > 0 { add { $0.notAddressed += count } } }

    /// Counts messages dropped as invalid (`RejectionCounter`).
    package func countRejected(_ count: Int) { if count > 0 { add { $0.rejectedMessages += count } } }

    /// Counts analytics.js metric series (`POST /v1/m`).
    package func countBrowserMetricSeries(_ count: Int) { add { $0.browserMetricSeries += count } }
}
