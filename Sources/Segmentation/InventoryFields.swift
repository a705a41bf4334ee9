/// The lead fields the data inventory follows (`GET /v1/inventory`), named as rules name them
/// (`lead.<name>`), and their values in one lead state. `score`, `customer` and `first_seen`
/// are left out: every lead has them. Traits appear as `traits.<key>` (top-level keys).
/// Two carry the event-made dimensions: `interest.top_category`/`interest.top_product` (product
/// interest: the lead viewed a product, `lead.interest`) and `engaged` (engagement: a positive
/// score, i.e. some scored event counted; `true` while it lasts, so score changes alone, which
/// most events make, do not count as the field being set).
public enum InventoryFields {
    public static let names = ["email", "email_domain", "user_id", "country", "region", "ship_to_region", "company.domain",
                               "company.size", "company.industry", "company.tech_stack", "source", "source.last", "stage", "status",
                               "interest.top_category", "interest.top_product", "engaged"]

    /// Whether any followed field differs between two states, without building `present(in:)`'s
    /// dictionaries: most events change none, and this runs for every ingested message.
    public static func differ(_ a: LeadState, _ b: LeadState) -> Bool {
        a.email != b.email || a.userId != b.userId || a.country != b.country || a.region != b.region
            || a.shipToRegion != b.shipToRegion || a.company.domain != b.company.domain || a.company.size != b.company.size
            || a.company.industry != b.company.industry || a.company.techStack != b.company.techStack
            || a.firstSource?.channel != b.firstSource?.channel || a.lastSource?.channel != b.lastSource?.channel
            || a.stage != b.stage || a.status != b.status || (a.score > 0) != (b.score > 0) || a.traits != b.traits
            || (a.interest != b.interest && (InterestState.top(a.interest.categories) != InterestState.top(b.interest.categories)
                                              || InterestState.top(a.interest.products) != InterestState.top(b.interest.products)))
    }

    /// Every followed field that `state` holds, with its value.
    public static func present(in state: LeadState) -> [String: Value] {
        var out: [String: Value] = [:]
        func put(_ name: String, _ text: String?) { if let text { out[name] = .string(text) } }
        put("email", state.email); put("email_domain", state.emailDomain); put("user_id", state.userId)
        put("country", state.country); put("region", state.region); put("ship_to_region", state.shipToRegion)
        put("company.domain", state.company.domain); put("company.industry", state.company.industry)
        if let size = state.company.size { out["company.size"] = .number(size) }
        if !state.company.techStack.isEmpty { out["company.tech_stack"] = .array(state.company.techStack.map(Value.string)) }
        put("source", state.firstSource?.channel); put("source.last", state.lastSource?.channel)
        put("stage", state.stage); put("status", state.status)
        put("interest.top_category", InterestState.top(state.interest.categories))
        put("interest.top_product", InterestState.top(state.interest.products))
        if state.score > 0 { out["engaged"] = .bool(true) }
        for (key, value) in state.traits where value != .null { out["traits." + key] = value }
        return out
    }

    /// The JSON type of a value as the inventory reports it.
    public static func type(of value: Value) -> String {
        switch value {
        case .null: "null"
        case .bool: "boolean"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }
}
