import Foundation
import LeadStore
import Segmentation

extension Engine {
    /// `state` with the signals this ruleset is missing rebuilt from the stored history of `lead`,
    /// read page by page (`Store.engineEventPages`, at most `Store.historyPageSize` events per
    /// query) and folded into an `Engine.Backfill` as it comes: memory stays bounded by one page
    /// plus the signals' kept occurrences, however long the history (a merge of a lead with tens
    /// of thousands of events). Nothing is read when no signal is missing.
    func backfill(state: LeadState, historyOf lead: UUID, store: Store, now: Date, counters: IngestCounters? = nil) throws -> LeadState {
        var backfill = Backfill(engine: self, state: state, now: Timestamp(now))
        guard backfill.isNeeded else { return state }
        try store.engineEventPages(of: lead) { page in
            counters?.add {
                $0.historyPages += 1
                $0.historyEvents += page.count
                $0.largestHistoryPage = Swift.max($0.largestHistoryPage, page.count)
            }
            backfill.add(page)
        }
        return backfill.finish()
    }
}
