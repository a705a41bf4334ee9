import Foundation
import LeadStore
import Postgres

extension LeadReads {
    /// The newest `limit` entries and exits of a segment, each with the decision and event behind it.
    package func recentChanges(of segment: String, limit: Int) throws -> [SegmentChangeRow] {
        try routing.pool(forLead: nil).withConnection { try Store($0).recentChanges(of: segment, limit: limit) }
    }

    /// The newest `limit` raw events of a lead (nil when there is no such live lead; an erased one throws).
    package func events(of id: UUID, limit: Int) throws -> [LeadEventRow]? {
        try quarantine.recording { try routing.pool(forLead: id).withConnection { conn in
            let store = Store(conn)
            try Self.refuseErased(id, store)
            guard let lead = try store.liveLead(id) else { return nil }
            return try store.recentEvents(of: lead.id, limit: limit)
        } }
    }
}
