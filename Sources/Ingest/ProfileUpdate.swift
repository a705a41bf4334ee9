import Foundation
import Profiles
import Segmentation

/// Applies what one message says about a person or their company to the lead's profile through
/// the shared `ProfileMapper`: identify → person traits, group → company, any other message →
/// its `context.traits`; the email comes from the message's resolved identity.
public struct ProfileUpdate: Sendable {
    public var mapper: ProfileMapper

    public init(freeMail: FreeMailDomains = .default) { mapper = ProfileMapper(freeMail: freeMail) }

    /// Updates `state` from `message`; `identity` is the message's resolved identity.
    public func apply(_ message: SegmentMessage, identity: MessageIdentity, to state: inout LeadState) {
        if let user = message.userId, message.kind != .alias || state.userId == nil { state.userId = user }
        switch message.kind {
        case .identify:
            mapper.applyPersonTraits(message.traits, to: &state)
        case .group:
            mapper.applyCompany(message.traits, to: &state)
            if let groupId = message.groupId { state.traits["group_id"] = .string(groupId) }
        default:
            if case .object(let traits)? = message.context["traits"] { mapper.applyPersonTraits(traits, to: &state) }
        }
        // Segment's context.location.country and context.timezone, when the lead has no country.
        mapper.applyContextGeography(message.context, to: &state)
        // Segment's context.consent.categoryPreferences, on any kind of message.
        mapper.applyContextConsent(message.context, to: &state)
        if let email = identity.email {
            mapper.applyEmail(email, to: &state)
        } else if let invalid = identity.invalidEmail {
            state.traits["email"] = .string(invalid)
        }
    }
}
