import Essentials
import Foundation
import Segmentation

/// One message of the Segment HTTP Tracking API (track, identify, page, screen, group, alias),
/// validated: what ingest works with after decoding. Field names follow Segment's spec so
/// that existing Segment and RudderStack SDKs can point at leadrouter unchanged.
public struct SegmentMessage: Sendable, Equatable {
    /// The call: Segment's `type` field, or the endpoint it was posted to.
    public enum Kind: String, Sendable, CaseIterable {
        case track, identify, page, screen, group, alias
    }

    public var kind: Kind
    /// Segment's `messageId`: makes the message idempotent. Generated when absent (then the
    /// message cannot be deduplicated on re-send, which is what Segment does too).
    public var messageId: String
    /// Whether `messageId` came from the sender (only then is re-send deduplication possible).
    public var messageIdProvided: Bool
    public var userId: String?
    public var anonymousId: String?
    /// `track`: the event name; `page`/`screen`: the page name.
    public var event: String?
    public var properties: [String: Value]
    public var traits: [String: Value]
    public var context: [String: Value]
    /// `group`: the account id.
    public var groupId: String?
    /// `alias`: the id being merged into `userId`.
    public var previousId: String?
    /// `page`: its category.
    public var category: String?
    /// When it happened: the message's `timestamp` corrected for the sender's clock skew
    /// (`receivedAt - (sentAt - timestamp)` as Segment does), else the time received.
    public var occurredAt: Date
    /// `writeKey` in the body, for SDKs that send it there rather than in Basic auth.
    public var writeKey: String?
    /// Size of the message as received, in bytes of compact JSON (limits are per message).
    public var sizeBytes: Int
    /// Whether the sender's `integrations` let leadrouter act on it (`SegmentIntegrations`):
    /// a message that says no is accepted and answered like any other, but not applied.
    public var addressedToLeadrouter = true
}

/// A problem with one field of a message: RFC 9457 `errors[]` items.
public typealias MessageFieldError = FieldError
