import Profiles
import Segmentation

/// Maps the profile fields a case file writes (`lead:`, `identify:`, `traits:`) onto `LeadState`
/// through the same `ProfileMapper` ingest uses — emails normalised (with the company domain they
/// imply), countries as ISO 3166 alpha-2, company fields cleaned — so a case decides as production
/// would. Only what a case file may say and a sender may not is handled here: `user_id`, `status`,
/// `customer`, and a nested `traits:` object merged as is.
enum LeadProfile {
    static let mapper = ProfileMapper()

    static func state(from fields: [String: CaseValue], at: Timestamp) -> LeadState {
        var state = LeadState()
        apply(traits: fields, to: &state)
        if case let .string(status)? = fields["status"] { state.setStatus(status, at: at) }
        if case let .bool(customer)? = fields["customer"] { state.customer = customer }
        // `id`: the lead id experiments assign by (without one, every case lead is the same id, "").
        if let id = fields["id"]?.text { state.id = LeadKey(id) }
        return state
    }

    static func apply(traits fields: [String: CaseValue], to state: inout LeadState) {
        var person: [String: Value] = [:]
        for (key, value) in fields {
            switch key {
            case "user_id": state.userId = value.text
            case "status", "customer", "id":
                continue  // set by `state(from:at:)`; an event's traits cannot move the status
            case "traits":
                if case .object(let traits) = value { state.traits.merge(traits.mapValues(\.engineValue)) { _, new in new } }
            default:
                person[key] = value.engineValue
            }
        }
        mapper.applyPersonTraits(person, to: &state)
        if let email = fields["email"]?.text { mapper.applyEmail(text: email, to: &state) }
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
