import Foundation
import LeadStore
import Segmentation

/// `GET /v1/inventory`: which data leadrouter holds about its leads, how complete it is, who
/// reads it, and which rules depend on data that is mostly missing or no longer arriving.
public struct InventoryReport: Sendable, Equatable {
    /// A dimension of the seed's segmentation and the lead fields that carry it.
    public struct Dimension: Sendable, Equatable {
        public var name: String
        public var fields: [String]
        /// The field whose fill rate stands for the dimension (nil: no lead field carries it).
        public var primary: String?
        public var leadsWithData: Int?
        public var share: Double?
        public var note: String?
    }

    /// One lead field.
    public struct Field: Sendable, Equatable {
        public var name: String
        /// Leads holding it now.
        public var leads: Int
        public var fillRate: Double?
        /// First and last message that set or changed it.
        public var firstSeen: Date?
        public var lastSeen: Date?
        /// Messages that set it, per JSON type of the value they set.
        public var types: [String: Int]
        public var readers: Lineage.Readers
    }

    /// A field rules read that is mostly missing, has not arrived for `unseenDays`, or never did.
    public struct AtRisk: Sendable, Equatable {
        public enum Reason: String, Sendable { case neverSeen = "never_seen", unseen = "unseen_7d", mostlyMissing = "mostly_missing" }
        public var field: String
        public var reasons: [Reason]
        public var fillRate: Double?
        public var lastSeen: Date?
        public var readers: Lineage.Readers
    }

    public var generatedAt: Date
    public var leads: Int
    public var dimensions: [Dimension] = []
    public var fields: [Field] = []
    public var atRisk: [AtRisk] = []
}

/// Builds the `InventoryReport` from the totals of `insight_counts` (kinds `leads`,
/// `lead_field`, `field_seen`, `field_type`), kept incrementally by ingest: no lead is read.
/// Pure, `now` an argument.
public enum InventoryAnalysis {
    /// Below this fill rate a field is "mostly missing".
    public static let mostlyMissing = 0.5
    /// A field not set or changed by any message for this long is "unseen".
    public static let unseenSeconds = 7 * 86_400.0

    /// The seed's dimensions: the fields carrying each, the first standing for it.
    static let dimensions: [(name: String, fields: [String], note: String?)] = [
        ("intent_stage", ["stage", "status"], nil),
        ("product_interest", ["interest.top_category", "interest.top_product"],
         "leads with a product view counted in lead.interest (the ruleset's interest event, product_viewed by default)"),
        ("engagement", ["engaged"], "leads with a positive score: some scored event (open, click, visit…) counted"),
        ("source", ["source", "source.last"], nil),
        ("geography", ["country", "region", "ship_to_region"], nil),
        ("firmographics", ["company.domain", "company.size", "company.industry", "company.tech_stack"], nil),
    ]

    public static func report(totals: [InsightTotal], lineage: Lineage, now: Date) -> InventoryReport {
        var leads = 0
        var holding: [String: Int] = [:], seen: [String: InsightTotal] = [:], types: [String: [String: Int]] = [:]
        for row in totals {
            switch row.kind {
            case "leads": leads += row.total
            case "lead_field": holding[row.name, default: 0] += row.total
            case "field_seen": seen[row.name] = row
            case "field_type":
                guard let colon = row.name.lastIndex(of: ":") else { continue }
                types[String(row.name[..<colon]), default: [:]][String(row.name[row.name.index(after: colon)...]), default: 0] += row.total
            default: continue
            }
        }
        leads = max(0, leads)
        func rate(_ field: String) -> Double? {
            leads == 0 ? nil : DriftAnalysis.rounded(Double(max(0, holding[field] ?? 0)) / Double(leads))
        }
        var report = InventoryReport(generatedAt: now, leads: leads)
        for d in dimensions {
            let primary = d.fields.first
            report.dimensions.append(.init(name: d.name, fields: d.fields, primary: primary,
                                           leadsWithData: primary.map { max(0, holding[$0] ?? 0) }, share: primary.flatMap(rate), note: d.note))
        }
        let followed = Set(InventoryFields.names).union(holding.keys).union(seen.keys)
            .union(lineage.fieldsRead.filter { $0.hasPrefix("traits.") })
        for name in followed.sorted() {
            report.fields.append(.init(name: name, leads: max(0, holding[name] ?? 0), fillRate: rate(name), firstSeen: seen[name]?.firstSeen,
                                       lastSeen: seen[name]?.lastSeen, types: types[name] ?? [:], readers: lineage.readers(ofField: name)))
        }
        for name in lineage.fieldsRead where followed.contains(name) {
            var reasons: [InventoryReport.AtRisk.Reason] = []
            let last = seen[name]?.lastSeen
            if let last { if now.timeIntervalSince(last) > unseenSeconds { reasons.append(.unseen) } } else { reasons.append(.neverSeen) }
            if let fill = rate(name), fill < mostlyMissing { reasons.append(.mostlyMissing) }
            guard !reasons.isEmpty else { continue }
            report.atRisk.append(.init(field: name, reasons: reasons, fillRate: rate(name), lastSeen: last, readers: lineage.readers(ofField: name)))
        }
        return report
    }
}
