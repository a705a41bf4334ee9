/// The channel of an event that no `sources:` rule matches, for a lead without a source yet:
/// `direct` when it carries no campaign and no referrer (a typed URL, a bookmark, an app), else
/// `unknown` (a campaign or referrer the ruleset does not name). Decided in the engine, before
/// the rules settle, so `lead.source` reads the same on a lead's first event as on later ones,
/// in production and in `rules test` alike.
public enum SourceFallback {
    public static let direct = "direct"
    public static let unknown = "unknown"

    /// The fallback channel of an event with these `context` and `properties` (Segment's
    /// `context.campaign`, `context.page.referrer`, `context.referrer`, a page call's
    /// `properties.referrer`).
    public static func channel(context: [String: Value], properties: [String: Value]) -> String {
        if case .object(let campaign)? = context["campaign"], campaign.values.contains(where: present) { return unknown }
        if case .object(let page)? = context["page"], present(page["referrer"]) { return unknown }
        if present(context["referrer"]) || present(properties["referrer"]) { return unknown }
        return direct
    }

    /// A value that says something: not null, not an empty string, list or object.
    static func present(_ value: Value?) -> Bool {
        switch value {
        case nil, .null?: return false
        case .string(let s)?: return !s.isEmpty
        case .array(let a)?: return !a.isEmpty
        case .object(let o)?: return !o.isEmpty
        default: return true
        }
    }
}
