import Foundation
import HTTPServer
import Ingest
import LeadStore
import Segmentation

/// Quarantined leads (rows the service cannot decode), scope `admin`: `GET /v1/quarantine`
/// (paged by lead id like the other lists) and `DELETE /v1/quarantine/{lead_id}` (release a
/// repaired lead: the entry goes, the lead is evaluated again). Thin: decode, call
/// `LeadQuarantine`, encode.
public struct QuarantineRoutes: Sendable {
    let quarantine: LeadQuarantine

    package init(quarantine: LeadQuarantine) { self.quarantine = quarantine }

    struct Entry: Encodable {
        var leadId: String; var reason: String; var firstSeen: Timestamp; var lastSeen: Timestamp; var attempts: Int
        enum CodingKeys: String, CodingKey {
            case leadId = "lead_id", reason, firstSeen = "first_seen", lastSeen = "last_seen", attempts
        }
        init(_ q: QuarantinedLead) {
            leadId = q.leadId.uuidString.lowercased(); reason = q.reason
            firstSeen = Timestamp(q.firstSeen); lastSeen = Timestamp(q.lastSeen); attempts = q.attempts
        }
    }
    struct List: Encodable {
        var data: [Entry]; var nextCursor: String?
        enum CodingKeys: String, CodingKey { case data, nextCursor = "next_cursor" }
        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(data, forKey: .data); try c.encode(nextCursor, forKey: .nextCursor)
        }
    }

    struct Released: Encodable {
        var leadId: String; var released = true
        enum CodingKeys: String, CodingKey { case leadId = "lead_id", released }
    }

    static let notQuarantined = HTTPError(.notFound, detail: "no such quarantined lead")

    package func install(into v1: inout RouterGroup<APIContext>, _ api: APIMiddleware) {
        v1.group("/quarantine", middleware: api.authenticated(.admin)) { group in
            group.get { request, _ in
                let page = try quarantine.list(limit: try LeadRoutes.limit(request), cursor: request.queryValue("cursor"))
                return .json(List(data: page.items.map(Entry.init), nextCursor: page.nextCursor))
            }
            group.delete("/{lead_id}") { request, _ in
                guard let id = request.pathParameters["lead_id"].flatMap(UUID.init(uuidString:)),
                      try quarantine.release(id) else { throw Self.notQuarantined }
                return .json(Released(leadId: id.uuidString.lowercased()))
            }
        }
    }
}
