import Essentials
import LeadStore

/// 2xx outcomes waiting to be recorded, written in batches by whichever worker comes first (flat
/// combining): a worker adds its outcome and, if no other worker is writing, writes everything
/// waiting — and again, until nothing is left — one `UPDATE` per round. Under load one statement
/// records many deliveries instead of one statement and commit each; with one delivery at a time
/// it is written at once, as before. A round that fails is logged and its leases run out, so
/// those deliveries are sent again (at-least-once).
final class DeliveredOutcomes: @unchecked Sendable {
    private struct State {
        var waiting: [DeliveredOutcome] = []
        var writing = false
    }

    private let state = Locked(State())

    /// Adds `outcome`; when this caller becomes the writer, calls `write` with each batch until
    /// none is waiting (other workers' outcomes included), then returns.
    func record(_ outcome: DeliveredOutcome, write: ([DeliveredOutcome]) -> Void) {
        var batch = state.withLock { s -> [DeliveredOutcome] in
            s.waiting.append(outcome)
            guard !s.writing else { return [] }
            s.writing = true
            defer { s.waiting = [] }
            return s.waiting
        }
        while !batch.isEmpty {
            write(batch)
            batch = state.withLock { s -> [DeliveredOutcome] in
                defer { s.waiting = [] }
                if s.waiting.isEmpty { s.writing = false }
                return s.waiting
            }
        }
    }
}
