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
        /// Messages dropped because they carried an identity suppressed by an erasure.
        public var suppressedMessages = 0
    }

    private let state = Locked(Snapshot())

    public init() {}

    public var snapshot: Snapshot { state.withLock { $0 } }

    func add(_ body: (inout Snapshot) -> Void) { state.withLock { body(&$0) } }
}
