import Foundation
import Segmentation

/// `context.campaign` from the page's `utm_*` parameters when the sender did not fill it.
/// analytics.js fills `context.campaign` itself; lr.js, RudderStack JS (which sends `{}` when it
/// found none at load) and server-side SDKs relaying a page view often do not, and then the
/// ruleset's `sources` rules (`event.context.campaign.medium`) would see no campaign although
/// the landing URL carries one. The parameters are read from `context.page.search`, else from
/// the query of `context.page.url`, with Segment's names: `utm_campaign` → `name`, the other
/// `utm_x` → `x`.
enum CampaignFromPage {
    static let names: [(parameter: String, field: String)] = [
        ("utm_source", "source"), ("utm_medium", "medium"), ("utm_campaign", "name"), ("utm_term", "term"), ("utm_content", "content"),
    ]

    /// The campaign to add to `context`, or nil when it has one already or the page has none.
    static func campaign(in context: [String: Value]) -> [String: Value]? {
        if case .object(let existing)? = context["campaign"], !existing.isEmpty { return nil }
        guard case .object(let page)? = context["page"] else { return nil }
        let query: String
        if case .string(let search)? = page["search"], search.contains("utm_") {
            query = search.hasPrefix("?") ? String(search.dropFirst()) : search
        } else if case .string(let url)? = page["url"], url.contains("utm_"), let q = URLComponents(string: url)?.percentEncodedQuery {
            query = q
        } else {
            return nil
        }
        guard query.utf8.count <= 8192, let items = URLComponents(string: "?" + query)?.queryItems else { return nil }
        var campaign: [String: Value] = [:]
        for (parameter, field) in names {
            if let value = items.first(where: { $0.name.lowercased() == parameter })?.value, !value.isEmpty {
                campaign[field] = .string(String(value.prefix(256)))
            }
        }
        return campaign.isEmpty ? nil : campaign
    }
}
