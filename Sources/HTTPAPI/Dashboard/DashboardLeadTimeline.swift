import Foundation
import Ingest
import LeadStore
import Postgres
import Segmentation

/// The lead page's timeline: the lead's raw events interleaved with its entries and exits and its
/// decisions, newest first, so "why is this lead in that segment" reads top-down: the decision,
/// the membership changes it made, the event it was made for. An event sorts with its decision
/// (found by the decision's `event_id`), changes with theirs (same event, or same time for the
/// sweeper's), so messages of one instant (a batch) stay grouped; the time shown is the
/// decision's (an event's own `timestamp` is in its message).
enum DashboardLeadTimeline {
    /// Newest events shown (the export, `GET /v1/leads/{id}/export`, has them all).
    static let eventLimit = 50
    /// Newest entries and exits shown (`GET /v1/leads/{id}/segments` has them all).
    static let historyLimit = 50

    /// One item and where it sorts: its decision's time and number (an event and the changes it
    /// caused sort with the decision made for it), then decision, changes, event.
    struct Item {
        var at: Date
        var seq: Int
        var rank: Int
        var context: [String: Any]
    }

    /// One line of a decision document: segments entered and exited, the primary segment, score and band.
    static func summary(ofDecision json: PostgresJSON) -> String {
        guard let d = try? JSONSerialization.jsonObject(with: Data(json.bytes)) as? [String: Any] else { return "" }
        let segments = d["segments"] as? [String: Any] ?? [:]
        var parts: [String] = []
        for change in ["entered", "exited"] {
            if let names = segments[change] as? [String], !names.isEmpty { parts.append("\(change) " + names.joined(separator: ", ")) }
        }
        if let primary = d["primary_segment"] as? String { parts.append("primary \(primary)") }
        if let score = d["score"] as? Double { parts.append("score \(Int(score.rounded()))" + ((d["band"] as? String).map { " (\($0))" } ?? "")) }
        return parts.joined(separator: "; ")
    }

    static func items(events: [LeadEventRow], history: [MembershipHistoryRow], decisions: [DecisionRow]) -> [[String: Any]] {
        var items: [Item] = []
        // Each decision by the event it was made for (`event_id` in its document), and the
        // sweeper's (no event) by their time.
        var byEvent: [UUID: DecisionRow] = [:], byTime: [Date: DecisionRow] = [:]
        for d in decisions {
            let object = try? JSONSerialization.jsonObject(with: Data(d.document.bytes)) as? [String: Any]
            if let text = object?["event_id"] as? String, let id = UUID(uuidString: text) { byEvent[id] = d } else { byTime[d.evaluatedAt] = d }
        }
        func decision(event: UUID?, at: Date) -> DecisionRow? { event.flatMap { byEvent[$0] } ?? byTime[at] }
        for e in events {
            let title = e.name.map { "\(e.kind) “\($0)” → \(e.type)" } ?? "\(e.kind) → \(e.type)"
            let d = byEvent[e.id]
            items.append(Item(at: d?.evaluatedAt ?? e.occurredAt, seq: d?.sequence ?? -1, rank: 2, context: [
                "kind": "event", "title": title, "details": "message as received", "document": DashboardLeadLookup.pretty(e.message)]))
        }
        for h in history.suffix(historyLimit).reversed() {
            items.append(Item(at: h.occurredAt, seq: decision(event: h.eventId, at: h.occurredAt)?.sequence ?? -1, rank: 1, context: [
                "kind": h.change, "title": "\(h.change) \(h.segment)", "summary": DashboardLeadLookup.summary(h.reason),
                "details": "explanation (ruleset v\(h.rulesetVersion))",
                "document": h.reason.map(DashboardLeadLookup.pretty) ?? "–"]))
        }
        for d in decisions {
            items.append(Item(at: d.evaluatedAt, seq: d.sequence, rank: 0, context: [
                "kind": "decision", "title": "decision #\(d.sequence)", "summary": Self.summary(ofDecision: d.document),
                "details": "decision with its explanation", "document": DashboardLeadLookup.pretty(d.document)]))
        }
        // Stable: items of one instant and kind keep their order (each list comes newest first).
        let ordered = items.enumerated().sorted { a, b in
            let x = a.element, y = b.element
            if x.at != y.at { return x.at > y.at }
            if x.seq != y.seq { return x.seq > y.seq }
            return x.rank != y.rank ? x.rank < y.rank : a.offset < b.offset
        }.map(\.element)
        return ordered.map { item in
            var c = item.context
            c["at"] = Timestamp(item.at).description
            return c
        }
    }
}
