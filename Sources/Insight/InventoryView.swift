import Foundation
import Segmentation

/// `InventoryReport` as `GET /v1/inventory` shows it: snake_case, RFC 3339 times, `null` for
/// absent values.
package struct InventoryView: Encodable {
    let report: InventoryReport
    package init(_ report: InventoryReport) { self.report = report }

    enum Keys: String, CodingKey { case generatedAt = "generated_at", leads, dimensions, fields, rulesAtRisk = "rules_at_risk" }

    package func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(Timestamp(report.generatedAt), forKey: .generatedAt); try c.encode(report.leads, forKey: .leads)
        try c.encode(report.dimensions.map(DimensionView.init), forKey: .dimensions)
        try c.encode(report.fields.map(FieldView.init), forKey: .fields)
        try c.encode(report.atRisk.map(AtRiskView.init), forKey: .rulesAtRisk)
    }
}

/// The readers of a field, flattened into the object that names it.
enum ReaderKeys: String, CodingKey { case segments, scoringRules = "scoring_rules", stages, routes, owners }

extension Lineage.Readers {
    func encode(into encoder: Encoder) throws {
        var c = encoder.container(keyedBy: ReaderKeys.self)
        try c.encode(segments, forKey: .segments); try c.encode(scoringRules, forKey: .scoringRules); try c.encode(stages, forKey: .stages)
        try c.encode(routes, forKey: .routes); try c.encode(owners, forKey: .owners)
    }
}

struct DimensionView: Encodable {
    let d: InventoryReport.Dimension
    init(_ d: InventoryReport.Dimension) { self.d = d }
    enum Keys: String, CodingKey { case name, fields, primary, leadsWithData = "leads_with_data", share, note }
    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(d.name, forKey: .name); try c.encode(d.fields, forKey: .fields); try c.encode(d.primary, forKey: .primary)
        try c.encode(d.leadsWithData, forKey: .leadsWithData); try c.encode(d.share, forKey: .share); try c.encode(d.note, forKey: .note)
    }
}

struct FieldView: Encodable {
    let f: InventoryReport.Field
    init(_ f: InventoryReport.Field) { self.f = f }
    enum Keys: String, CodingKey { case name, leads, fillRate = "fill_rate", firstSeen = "first_seen", lastSeen = "last_seen", types }
    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(f.name, forKey: .name); try c.encode(f.leads, forKey: .leads); try c.encode(f.fillRate, forKey: .fillRate)
        try c.encode(f.firstSeen.map(Timestamp.init), forKey: .firstSeen); try c.encode(f.lastSeen.map(Timestamp.init), forKey: .lastSeen)
        try c.encode(f.types, forKey: .types)
        try f.readers.encode(into: encoder)
    }
}

struct AtRiskView: Encodable {
    let r: InventoryReport.AtRisk
    init(_ r: InventoryReport.AtRisk) { self.r = r }
    enum Keys: String, CodingKey { case field, reasons, fillRate = "fill_rate", lastSeen = "last_seen" }
    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(r.field, forKey: .field); try c.encode(r.reasons.map(\.rawValue), forKey: .reasons)
        try c.encode(r.fillRate, forKey: .fillRate); try c.encode(r.lastSeen.map(Timestamp.init), forKey: .lastSeen)
        try r.readers.encode(into: encoder)
    }
}
