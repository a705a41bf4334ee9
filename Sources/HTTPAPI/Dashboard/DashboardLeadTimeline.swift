import Foundation
import Ingest
import LeadStore
import Segmentation

/// The lead page's timeline: the lead's raw events interleaved with its entries and exits and its
/// decisions, newest first, so "why is this lead in that segment" reads top-down: the decision,
/// the membership change it made, the event that caused it. Events sit at their own time (the
/// message's `timestamp`), changes and decisions at the evaluation's, so a late event shows below
/// the decision it caused; several messages of one instant (a batch) keep newest-first order per kind.
enum DashboardLeadTimeline {
    /// Newest events shown (the export, `GET /v1/leads/{id}/export`, has them all).
    static let eventLimit = 50
    /// Newest entries and exits shown (`GET /v1/leads/{id}/segments` has them all).
    static let historyLimit = 50

    /// One item: when, what kind (`event`, `entered`, `exited`, `decision`), and the order among
    /// items of the same instant (decision, then its membership changes, then the event).
    struct Item {
        var at: Date
        var rank: Int
        var context: [String: Any]
    }

    static func items(events: [LeadEventRow], history: [MembershipHistoryRow], decisions: [DecisionRow]) -> [[String: Any]] {
        var items: [Item] = []
        for e in events {
            let title = e.name.map { "\(e.kind) “\($0)” → \(e.type)" } ?? "\(e.kind) → \(e.type)"
            items.append(Item(at: e.occurredAt, rank: 2, context: [
                "kind": "event", "title": title, "details": "message as received", "document": DashboardLeadLookup.pretty(e.message)]))
        }
        for h in history.suffix(historyLimit).reversed() {
            items.append(Item(at: h.occurredAt, rank: 1, context: [
                "kind": h.change, "title": "\(h.change) \(h.segment)", "segment": h.segment, "details": "why (ruleset v\(h.rulesetVersion))",
                "document": h.reason.map(DashboardLeadLookup.pretty) ?? "–"]))
        }
        for d in decisions {
            items.append(Item(at: d.evaluatedAt, rank: 0, context: [
                "kind": "decision", "title": "decision #\(d.sequence)", "decision": true, "document": DashboardLeadLookup.pretty(d.document)]))
        }
        // Stable: items of one instant and kind keep their order (each list comes newest first).
        let ordered = items.enumerated().sorted { a, b in
            a.element.at != b.element.at ? a.element.at > b.element.at
                : a.element.rank != b.element.rank ? a.element.rank < b.element.rank : a.offset < b.offset
        }.map(\.element)
        return ordered.map { item in
            var c = item.context
            c["at"] = Timestamp(item.at).description
            return c
        }
    }
}
