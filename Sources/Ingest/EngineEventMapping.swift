import Foundation
import JSONCoding
import Postgres
import Segmentation

/// How a Segment message becomes an engine `Event` and an `events` row: track → its event name,
/// page → `page_viewed` with path, url and category, screen → `screen_viewed`; identify, group and
/// alias change the profile and are re-evaluated without an event.
enum EngineEventMapping {
    static func event(for message: SegmentMessage) -> Event? {
        switch message.kind {
        case .track:
            return Event(name: message.event ?? "", properties: message.properties, context: message.context,
                         occurredAt: message.occurredAt, messageId: message.messageId)
        case .page, .screen:
            var properties = message.properties
            let page = message.context["page"]
            for field in ["path", "url", "referrer", "title"] where properties[field] == nil {
                if let value = page?[field] { properties[field] = value }
            }
            if properties["path"] == nil, case .string(let url)? = properties["url"], let path = URLComponents(string: url)?.path {
                properties["path"] = .string(path.isEmpty ? "/" : path)
            }
            if let category = message.category { properties["category"] = .string(category) }
            if let name = message.event { properties["name"] = .string(name) }
            return Event(name: message.kind == .page ? "page_viewed" : "screen_viewed", properties: properties,
                         context: message.context, occurredAt: message.occurredAt, messageId: message.messageId)
        case .identify, .group, .alias:
            return nil
        }
    }

    /// The `events.message` document: the message's fields, normalised; for engine events also
    /// `name`/`properties`/`context` as the engine saw them, so backfill replays them (but for
    /// `context.ip`, stored as the policy allows; a rule on `event.context.ip` sees the full
    /// address only while the message is evaluated).
    /// `context.ip` as `ip` allows (`ContextIPPolicy`).
    static func storedMessage(_ message: SegmentMessage, event: Event?, ip: ContextIPPolicy = .truncate) -> PostgresJSON {
        var doc: [String: Value] = ["type": .string(message.kind.rawValue), "messageId": .string(message.messageId)]
        if let v = message.userId { doc["userId"] = .string(v) }
        if let v = message.anonymousId { doc["anonymousId"] = .string(v) }
        if let v = message.event { doc["event"] = .string(v) }
        if let v = message.groupId { doc["groupId"] = .string(v) }
        if let v = message.previousId { doc["previousId"] = .string(v) }
        if let v = message.category { doc["category"] = .string(v) }
        if !message.traits.isEmpty { doc["traits"] = .object(message.traits) }
        doc["properties"] = .object(event?.properties ?? message.properties)
        doc["context"] = .object(ip.apply(to: message.context))
        doc["name"] = .string(event?.name ?? message.kind.rawValue)
        var writer = JSONWriter(capacity: 256)
        writer.value(.object(doc))
        return writer.json
    }
}
