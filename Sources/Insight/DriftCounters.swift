import Essentials
import Foundation
import LeadStore
import Postgres

/// The drift counters of this node: what ingest saw (`MessageObservation`), tallied in memory
/// per UTC hour and added to `insight_counts` by `flush` (every `drift.flush_interval`, and
/// before a drift report is read). The upsert adds, so nodes and restarts sum up; a flush that
/// fails puts its tallies back for the next one.
public final class DriftCounters: IngestObserving {
    struct Key: Hashable {
        var kind: Kind
        var name: String
        var hour: Int64
    }
    enum Kind: String {
        case eventType = "event_type", unmappedEvent = "unmapped_event", messages, capture
        /// The data inventory's: leads created, leads gaining (+1) or losing (−1) a field, fields
        /// set or changed (seen), and the type each was seen with (`name:type`).
        case leads, leadField = "lead_field", fieldSeen = "field_seen", fieldType = "field_type"
    }
    struct Tally {
        var count: Int
        var first: Date
        var last: Date
        mutating func add(_ other: Tally) { count += other.count; first = min(first, other.first); last = max(last, other.last) }
    }

    private let pending = Locked<[Key: Tally]>([:])

    public init() {}

    /// Runs for every ingested message, on every lane, under the one lock: a new lead bumps
    /// twenty-odd tallies, so each bump finds its key once (`index(forKey:)`, then the value is
    /// changed in place) instead of the four lookups of `p[key]!` — the drift counters were
    /// 3 % of the server's CPU per event at 64 connections (docs/benchmarks/ingest.md).
    package func observed(_ o: MessageObservation) {
        let hour = Int64((o.at.timeIntervalSince1970 / 3600).rounded(.down))
        pending.withLock { p in
            func bump(_ kind: Kind, _ name: String, by step: Int = 1) {
                let key = Key(kind: kind, name: name, hour: hour)
                guard let i = p.index(forKey: key) else {
                    p[key] = Tally(count: step, first: o.at, last: o.at)
                    return
                }
                p.values[i].add(Tally(count: step, first: o.at, last: o.at))
            }
            bump(.messages, "all")
            if let type = o.eventType { bump(.eventType, type) }
            if let name = o.unmappedName { bump(.unmappedEvent, name.utf8.count <= 512 ? name : String(decoding: name.utf8.prefix(509), as: UTF8.self)) }
            for watched in FieldCaptures.watched where o.captured.contains(watched.field) { bump(.capture, watched.name) }
            if o.fields.newLead { bump(.leads, "all") }
            if o.fields.mergedLeads > 0 { bump(.leads, "all", by: -o.fields.mergedLeads) }
            for name in o.fields.gained { bump(.leadField, name) }
            for name in o.fields.lost { bump(.leadField, name, by: -1) }
            for (name, type) in o.fields.set {
                bump(.fieldSeen, name)
                bump(.fieldType, name + ":" + type)
            }
        }
    }

    /// Adds the pending tallies to `insight_counts`; returns how many rows it wrote.
    @discardableResult
    public func flush(pool: PostgresPool) throws -> Int {
        let taken = pending.withLock { p -> [Key: Tally] in defer { p = [:] }; return p }
        guard !taken.isEmpty else { return 0 }
        let rows = taken.map { key, tally in
            InsightCount(kind: key.kind.rawValue, name: key.name, hour: Date(timeIntervalSince1970: Double(key.hour) * 3600),
                         count: tally.count, firstSeen: tally.first, lastSeen: tally.last)
        }
        do {
            try pool.withConnection { try Store($0).addInsightCounts(rows) }
        } catch {
            pending.withLock { p in for (key, tally) in taken { if p[key] == nil { p[key] = tally } else { p[key]!.add(tally) } } }
            throw error
        }
        return rows.count
    }
}
