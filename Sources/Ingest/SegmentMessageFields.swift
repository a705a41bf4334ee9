import Essentials
import Foundation
import Segmentation

extension SegmentMessageDecoder {
    /// Validates one message object; appends every problem to `errors` (pointer-prefixed)
    /// and returns the message only when it has none.
    func decodeMessage(_ fields: [String: Value], pointer: String, defaultKind: SegmentMessage.Kind?,
                       inherited: [String: Value], size: Int, receivedAt: Date,
                       errors: inout [MessageFieldError]) -> SegmentMessage? {
        let before = errors.count
        func fail(_ field: String, _ detail: String) { errors.append(MessageFieldError(pointer: pointer + "/" + field, detail: detail)) }

        // Kind: from `type`, else from the endpoint.
        var kind = defaultKind
        if let type = fields["type"] {
            if let name = type.stringValue, let parsed = SegmentMessage.Kind(rawValue: name.lowercased()) {
                if let defaultKind, defaultKind != parsed {
                    fail("type", "is '\(name)' but the message was posted to /v1/\(defaultKind.rawValue)")
                }
                kind = parsed
            } else {
                fail("type", "must be one of \(SegmentMessage.Kind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
        } else if defaultKind == nil {
            fail("type", "is required in a batch")
        }

        func string(_ key: String) -> String? {
            guard let value = fields[key], value != .null else { return nil }
            switch value {
            case .string(let s): return s.isEmpty ? nil : s
            // SDKs sometimes send numeric ids; Segment stringifies them.
            case .number(let n) where n == n.rounded() && abs(n) < 1e15: return String(Int64(n))
            default: fail(key, "must be a string"); return nil
            }
        }
        func object(_ key: String) -> [String: Value] {
            guard let value = fields[key], value != .null else { return [:] }
            guard case .object(let o) = value else { fail(key, "must be an object"); return [:] }
            return o
        }

        // Identifiers are index keys (and the event name becomes one): bounded in bytes.
        var tooLong = Set<String>()
        func identifier(_ key: String) -> String? {
            guard let text = string(key) else { return nil }
            guard text.utf8.count <= limits.maxIdentifierBytes else {
                fail(key, "is \(text.utf8.count) bytes; the limit is \(limits.maxIdentifierBytes)")
                tooLong.insert(key)
                return nil
            }
            return text
        }
        let userId = identifier("userId")
        let anonymousId = identifier("anonymousId")
        let messageId = identifier("messageId")
        // Both are checked (not `??`): a bad `name` next to a good `event` must not pass unseen.
        let eventField = identifier("event"), nameField = identifier("name")
        let event = eventField ?? nameField
        let groupId = identifier("groupId")
        let previousId = identifier("previousId")
        let properties = object("properties")
        let ownTraits = object("traits")
        var context = object("context")
        if case .object(let shared)? = inherited["context"] {
            for (k, v) in shared where context[k] == nil { context[k] = v }
        }
        if let campaign = CampaignFromPage.campaign(in: context) { context["campaign"] = .object(campaign) }

        switch kind {
        case .track?:
            if event == nil && tooLong.isDisjoint(with: ["event", "name"]) { fail("event", "is required for track") }
        case .group?:
            if groupId == nil && !tooLong.contains("groupId") { fail("groupId", "is required for group") }
        case .alias?:
            if previousId == nil && !tooLong.contains("previousId") { fail("previousId", "is required for alias") }
            if userId == nil && !tooLong.contains("userId") { fail("userId", "is required for alias") }
        default: break
        }
        if kind != .alias && userId == nil && anonymousId == nil && tooLong.isDisjoint(with: ["userId", "anonymousId"]) {
            errors.append(MessageFieldError(pointer: pointer + "/userId", detail: "userId or anonymousId is required"))
        }

        // The device's time of the call: `timestamp`, else Segment's `originalTimestamp`.
        let timestamp = checkedTime(fields["timestamp"], pointer: pointer + "/timestamp", errors: &errors)
        let original = checkedTime(fields["originalTimestamp"], pointer: pointer + "/originalTimestamp", errors: &errors)
        let sentAt = checkedTime(fields["sentAt"] ?? inherited["sentAt"], pointer: pointer + "/sentAt", errors: &errors)
        guard errors.count == before, let kind else { return nil }

        // Clock-skew correction as Segment does: the device clock may be off, but the gap
        // between `timestamp` and `sentAt` was measured on the same clock. Every input is within
        // years 0000–9999 (`checkedTime`), so this Double arithmetic stays far from any limit.
        var occurredAt = receivedAt
        if let device = timestamp ?? original {
            occurredAt = sentAt.map { receivedAt.addingTimeInterval(-($0.timeIntervalSince(device))) } ?? device
            let latest = receivedAt.addingTimeInterval(limits.maxEventTimeAheadSeconds)
            guard occurredAt >= limits.earliestEventTime, occurredAt <= latest else {
                let field = timestamp != nil ? "timestamp" : "originalTimestamp"
                let corrected = sentAt != nil ? " after the clock-skew correction (received − (sentAt − \(field)))" : ""
                fail(field, "the event time\(corrected) is \(Self.format(occurredAt)); it must be from "
                     + "\(Self.format(limits.earliestEventTime)) to \(Self.format(latest)) (\(Int(limits.maxEventTimeAheadSeconds))s after receipt)")
                return nil
            }
        }
        return SegmentMessage(
            kind: kind, messageId: messageId ?? UUID.random().uuidString.lowercased(), messageIdProvided: messageId != nil,
            userId: userId, anonymousId: anonymousId, event: event, properties: properties,
            traits: ownTraits.merging(context["traits"]?.objectValue ?? [:]) { own, _ in own },
            context: context, groupId: groupId, previousId: previousId,
            category: string("category"), occurredAt: occurredAt, writeKey: string("writeKey"), sizeBytes: size,
            addressedToLeadrouter: SegmentIntegrations.addressLeadrouter(fields["integrations"]))
    }

    /// A date-time field, or nil (absent, or an error appended under `pointer`): ISO 8601, and
    /// within years 0000–9999 so that every computation with it stays in range.
    func checkedTime(_ value: Value?, pointer: String, errors: inout [MessageFieldError]) -> Date? {
        guard let value, value != .null else { return nil }
        guard let text = value.stringValue, let date = ISO8601.parse(text) else {
            errors.append(MessageFieldError(pointer: pointer, detail: "must be an ISO 8601 date-time, e.g. 2026-11-24T10:00:00.000Z"))
            return nil
        }
        guard date >= ISO8601.earliest, date <= ISO8601.latest else {
            errors.append(MessageFieldError(pointer: pointer, detail: "is out of range: years 0000 to 9999 only"))
            return nil
        }
        return date
    }

    /// A date as the errors show it (milliseconds, UTC).
    static func format(_ date: Date) -> String {
        let seconds = date.timeIntervalSince1970
        guard seconds.isFinite, abs(seconds) < 1e13 else { return "\(seconds) s since 1970" }
        return Timestamp(date).description
    }
}

extension Value {
    /// The members, when this is an object.
    var objectValue: [String: Value]? { if case .object(let o) = self { return o } else { return nil } }
}

/// ISO 8601 date-times as SDKs send them (`InternetDateTime` in Essentials: `Z` or an offset,
/// 0–9 fraction digits and more ignored, `t`/`z`, one-digit month and day), to the millisecond.
/// Only texts that begin with a four-digit year and `-` are parsed, and at most 64 bytes.
package enum ISO8601 {
    package static func parse(_ text: String) -> Date? {
        let bytes = text.utf8
        guard bytes.count >= 10, bytes.count <= 64,
              bytes.prefix(4).allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), bytes.dropFirst(4).first == UInt8(ascii: "-")
        else { return nil }
        return Timestamp.parse(text)?.date
    }

    /// 0000-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z.
    package static let earliest = Date(timeIntervalSince1970: -62_167_219_200)
    package static let latest = Date(timeIntervalSince1970: 253_402_300_799.999)
}
