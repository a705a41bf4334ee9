import Foundation

/// One tracking event as the engine sees it (a Segment `track`, or `page` mapped to `page_viewed`).
/// The engine resolves `name` to a canonical type through the ruleset's aliases.
public struct Event: Sendable, Hashable, Codable {
    /// The incoming event name, e.g. `Product Added` or `added_to_cart`.
    public var name: String
    /// Event properties (`event.properties.<key>` in rules).
    public var properties: [String: Value]
    /// Event context, e.g. `campaign.medium`, `page.referrer` (`event.context.<key>` in rules).
    public var context: [String: Value]
    /// When it happened (the message's `timestamp`); windows count by this time, so late events count where they belong.
    public var occurredAt: Timestamp
    /// The message id, kept for explanations and idempotency upstream.
    public var messageId: String?

    /// Creates an event.
    public init(name: String, properties: [String: Value] = [:], context: [String: Value] = [:],
                occurredAt: Date, messageId: String? = nil) {
        self.init(name: name, properties: properties, context: context, occurredAt: Timestamp(occurredAt), messageId: messageId)
    }

    /// Creates an event at a millisecond timestamp.
    public init(name: String, properties: [String: Value] = [:], context: [String: Value] = [:],
                occurredAt: Timestamp, messageId: String? = nil) {
        self.name = name; self.properties = properties; self.context = context
        self.occurredAt = occurredAt; self.messageId = messageId
    }

    enum CodingKeys: String, CodingKey {
        case name, properties, context
        case occurredAt = "occurred_at"
        case messageId = "message_id"
    }
}

/// An event after alias resolution, as rules see it. A class: every `event.*` read copies the
/// environment's event, which for a struct retained and released each of its seven fields.
final class ResolvedEvent: Sendable {
    let type: String
    let name: String
    let properties: [String: Value]
    let context: [String: Value]
    let at: Int64
    let known: Bool
    /// Signal slots of `type` (see `EvaluationPlan.EventInfo`).
    let slots: [Int]
    /// `statuses.on_event` entries of the type (the first whose `when` holds moves the status).
    let status: [StatusRule]
    /// Scoring rules that can hold for the type (`EvaluationPlan.EventInfo.scoreRules`).
    let scoreRules: [Int]

    init(type: String, name: String, properties: [String: Value], context: [String: Value], at: Int64, known: Bool,
         slots: [Int], status: [StatusRule], scoreRules: [Int]) {
        self.type = type; self.name = name; self.properties = properties; self.context = context; self.at = at
        self.known = known; self.slots = slots; self.status = status; self.scoreRules = scoreRules
    }
}
