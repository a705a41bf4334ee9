import Foundation
import LeadStore
import Logging
import Postgres

/// Lead rows the service cannot decode, set aside (`quarantined_leads`): recorded when a decode
/// fails (the sweeper in its own transaction, ingest and reads in a short statement of their
/// own after the fact, so recording never fails anything else), logged once per lead — one line
/// when it is first quarantined, not per attempt — counted, listed for operators and released
/// by them once the row is repaired.
package struct LeadQuarantine: Sendable {
    let pool: PostgresPool
    let counters: IngestCounters
    let logger: Logger

    package init(pool: PostgresPool, counters: IngestCounters = IngestCounters(),
                 logger: Logger = Logger(label: "leadrouter.quarantine")) {
        self.pool = pool; self.counters = counters; self.logger = logger
    }

    /// Records `leads` in their own statement. A failure to record is logged, never thrown: the
    /// caller's answer for the lead (409) stands either way.
    package func record(_ leads: [UndecodableLead]) {
        guard !leads.isEmpty else { return }
        do {
            let new = try pool.withConnection { try Store($0).quarantine(leads) }
            noted(leads, new: new)
        } catch {
            logger.warning("could not record quarantined leads", metadata: ["leads": "\(leads.count)", "error": "\(error)"])
        }
    }

    /// Runs `body`; an `UndecodableLead` it throws is recorded, then thrown on (answered 409).
    package func recording<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let failure as UndecodableLead {
            record([failure])
            throw failure
        }
    }

    /// Counts `leads` and logs the ones quarantined for the first time (`new`), one line each.
    func noted(_ leads: [UndecodableLead], new: Set<UUID>) {
        counters.add { $0.undecodableLeadReads += leads.count; $0.quarantinedLeads += new.count }
        var logged = Set<UUID>()
        for lead in leads where new.contains(lead.id) && logged.insert(lead.id).inserted {
            logger.error("lead quarantined: its row cannot be decoded; see GET /v1/quarantine",
                         metadata: ["lead.id": "\(lead.id.uuidString.lowercased())", "reason": "\(lead.reason)"])
        }
    }

    /// A page of quarantined leads, by lead id.
    package func list(limit: Int, cursor: String?) throws -> Page<QuarantinedLead> {
        try pool.withConnection { try Store($0).quarantinedLeads(limit: limit, cursor: cursor) }
    }

    /// Releases a repaired lead: the entry goes and the lead is due for evaluation at once. False
    /// when it was not quarantined.
    package func release(_ id: UUID) throws -> Bool {
        let released = try pool.withTransaction { try Store($0).releaseQuarantined(id) }
        if released { logger.notice("lead released from quarantine", metadata: ["lead.id": "\(id.uuidString.lowercased())"]) }
        return released
    }
}
