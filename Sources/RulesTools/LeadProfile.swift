import Segmentation
/// Maps the profile fields a case file writes (`lead:`, `identify:`, `traits:`) onto `LeadState`,
/// with the names rules use (`lead.ship_to_region`, `lead.company.size`, …). Anything else becomes
/// a trait (`lead.traits.<key>`).
enum LeadProfile {
    static func state(from fields: [String: CaseValue], at: Timestamp) -> LeadState {
        var state = LeadState()
        apply(traits: fields, to: &state)
        if case let .string(status)? = fields["status"] { state.setStatus(status, at: at) }
        if case let .bool(customer)? = fields["customer"] { state.customer = customer }
        return state
    }

    static func apply(traits fields: [String: CaseValue], to state: inout LeadState) {
        for (key, value) in fields {
            switch key {
            case "email": state.email = value.text
            case "user_id": state.userId = value.text
            case "country": state.country = value.text
            case "region": state.region = value.text
            case "ship_to_region": state.shipToRegion = value.text
            case "company":
                guard case let .object(company) = value else { continue }
                if let domain = company["domain"] { state.company.domain = domain.text }
                if case let .number(size)? = company["size"] { state.company.size = size }
                if let industry = company["industry"] { state.company.industry = industry.text }
                if case let .list(items)? = company["tech_stack"] { state.company.techStack = items.compactMap(\.text) }
            case "status", "customer":
                continue  // set by `state(from:at:)`; an event's traits cannot move the status
            case "traits":
                if case let .object(traits) = value { state.traits.merge(traits.mapValues(\.engineValue)) { _, new in new } }
            default:
                state.traits[key] = value.engineValue
            }
        }
    }
}

extension CaseValue {
    /// The engine's value for this case-file value.
    var engineValue: Value {
        switch self {
        case .null: return .null
        case let .bool(value): return .bool(value)
        case let .number(value): return .number(value)
        case let .string(value): return .string(value)
        case let .list(items): return .array(items.map(\.engineValue))
        case let .object(fields): return .object(fields.mapValues(\.engineValue))
        }
    }

    /// The value as text for a text field; nil for null.
    var text: String? {
        if case .null = self { return nil }
        return description
    }
}
