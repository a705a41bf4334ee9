import Foundation
import HTTPServer
import Ingest
import LeadStore
import Postgres
import Segmentation

/// `/dashboard/leads?q=`: one lead found by lead id, email or user id, with its profile, current
/// memberships and a timeline of its events, entries and exits and decisions (each with its
/// explanation, `DashboardLeadTimeline`), through `LeadReads`.
struct DashboardLeadLookup: Sendable {
    let reads: LeadReads
    /// Newest decisions shown; the JSON API pages through the rest.
    static let decisionLimit = 20

    func page(_ request: HTTPRequest) throws -> HTTPResponse {
        let q = (request.queryValue("q") ?? "").trimmingCharacters(in: .whitespaces)
        var context: [String: Any] = ["title": "Lead lookup", "q": q]
        guard !q.isEmpty else { return DashboardPage.render("lead", context) }
        guard let found = try find(q) else {
            context["missing"] = true
            var response = DashboardPage.render("lead", context)
            response.status = .notFound
            return response
        }
        let id = found.lead.id
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        context["lead"] = [
            "id": id.uuidString.lowercased(),
            "profile": String(decoding: try encoder.encode(LeadView(found)), as: UTF8.self),
        ] as [String: Any]
        let segments = try reads.segments(of: id)
        context["current"] = segments?.current.map { ["segment": $0.segment, "since": Timestamp($0.enteredAt).description] } ?? []
        context["hasCurrent"] = !(segments?.current.isEmpty ?? true)
        let timeline = DashboardLeadTimeline.items(
            events: try reads.events(of: id, limit: DashboardLeadTimeline.eventLimit) ?? [], history: segments?.history ?? [],
            decisions: try reads.decisions(of: id, limit: Self.decisionLimit, cursor: nil)?.items ?? [])
        context["timeline"] = timeline
        context["hasTimeline"] = !timeline.isEmpty
        context["limits"] = "the newest \(DashboardLeadTimeline.eventLimit) events, \(DashboardLeadTimeline.historyLimit) entries and exits "
            + "and \(Self.decisionLimit) decisions"
        return DashboardPage.render("lead", context)
    }

    /// A UUID is a lead id; text with `@` an email; anything else a user id.
    func find(_ q: String) throws -> LeadWithIdentities? {
        if let id = UUID(uuidString: q) { return try reads.lead(id) }
        return try reads.lead(for: IdentityKey(q.contains("@") ? .email : .userId, q))
    }

    /// The one-line reading of a stored membership reason: its `enter`/`exit` rule with each
    /// clause's value and ✓/✗ (`SegmentExplanation`), after its `cause` (merge, ruleset change)
    /// when there is one; "erased" for an erased lead's redacted reason.
    static func summary(_ json: PostgresJSON?) -> String {
        guard let json, let object = try? JSONSerialization.jsonObject(with: Data(json.bytes)) as? [String: Any] else { return "–" }
        if object["erased"] as? Bool == true { return "erased" }
        let rule = (object["enter"] ?? object["exit"]) as? String
        let cause = object["cause"] as? String
        return [cause.map { "\($0):" }, rule].compactMap { $0 }.joined(separator: " ").nonEmpty ?? "–"
    }

    /// Stored JSON indented for reading (as stored when it does not parse).
    static func pretty(_ json: PostgresJSON) -> String {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.bytes)),
              let data = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        else { return String(decoding: json.bytes, as: UTF8.self) }
        return String(decoding: data, as: UTF8.self)
    }
}

private extension String {
    var nonEmpty: String? { isEmpty ? nil : self }
}
