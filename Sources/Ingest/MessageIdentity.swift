import Foundation
import LeadStore
import Profiles
import Segmentation

/// The identity keys a message carries, in resolution order (userId, then email, then
/// anonymousId), plus an email that was sent but is not a valid address (kept as a trait only).
public struct MessageIdentity: Sendable, Equatable {
    /// Keys to look up and attach, in priority order.
    public var keys: [IdentityKey]
    /// `alias`: the previous id, looked up as a user id and as an anonymous id.
    public var previousKeys: [IdentityKey]
    /// The normalised email, when one was sent and is valid.
    public var email: EmailAddress?
    /// An email value that failed the syntax check (counted, kept as `traits.email`).
    public var invalidEmail: String?

    /// Every key that can tie this message to an existing lead.
    public var lookupKeys: [IdentityKey] { keys + previousKeys }

    public init(_ message: SegmentMessage) {
        var keys: [IdentityKey] = []
        if let user = message.userId { keys.append(IdentityKey(.userId, user)) }
        let raw = Self.rawEmail(message)
        email = raw.flatMap(EmailAddress.init)
        invalidEmail = (raw != nil && email == nil) ? raw : nil
        if let email { keys.append(IdentityKey(.email, email.value)) }
        if let anonymous = message.anonymousId { keys.append(IdentityKey(.anonymousId, anonymous)) }
        self.keys = keys
        if message.kind == .alias, let previous = message.previousId {
            previousKeys = [IdentityKey(.userId, previous), IdentityKey(.anonymousId, previous)]
        } else {
            previousKeys = []
        }
    }

    /// Where Segment clients put a person's email: identify traits, else `context.traits`
    /// (track/page calls of an identified user). Group traits describe the company, not the person.
    static func rawEmail(_ message: SegmentMessage) -> String? {
        var candidates: [Value?] = []
        if message.kind != .group { candidates.append(message.traits["email"]) }
        if case .object(let traits)? = message.context["traits"] { candidates.append(traits["email"]) }
        for case .string(let text)? in candidates where !text.isEmpty { return text }
        return nil
    }
}
