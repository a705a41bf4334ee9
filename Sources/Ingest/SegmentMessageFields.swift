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

        let userId = string("userId")
        let anonymousId = string("anonymousId")
        let messageId = string("messageId")
        let event = string("event") ?? string("name")
        let groupId = string("groupId")
        let previousId = string("previousId")
        let properties = object("properties")
        let ownTraits = object("traits")
        var context = object("context")
        if case .object(let shared)? = inherited["context"] {
            for (k, v) in shared where context[k] == nil { context[k] = v }
        }

        switch kind {
        case .track?:
            if event == nil { fail("event", "is required for track") }
        case .group?:
            if groupId == nil { fail("groupId", "is required for group") }
        case .alias?:
            if previousId == nil { fail("previousId", "is required for alias") }
            if userId == nil { fail("userId", "is required for alias") }
        default: break
        }
        if kind != .alias && userId == nil && anonymousId == nil {
            errors.append(MessageFieldError(pointer: pointer + "/userId", detail: "userId or anonymousId is required"))
        }

        let timestamp = time(fields["timestamp"], field: "timestamp", fail: fail)
        let sentAt = time(fields["sentAt"] ?? inherited["sentAt"], field: "sentAt", fail: fail)
        guard errors.count == before, let kind else { return nil }

        // Clock-skew correction as Segment does: the device clock may be off, but the gap
        // between `timestamp` and `sentAt` was measured on the same clock.
        var occurredAt = receivedAt
        if let timestamp {
            occurredAt = sentAt.map { receivedAt.addingTimeInterval(-($0.timeIntervalSince(timestamp))) } ?? timestamp
        }
        return SegmentMessage(
            kind: kind, messageId: messageId ?? UUID().uuidString.lowercased(), messageIdProvided: messageId != nil,
            userId: userId, anonymousId: anonymousId, event: event, properties: properties,
            traits: ownTraits.merging(context["traits"]?.objectValue ?? [:]) { own, _ in own },
            context: context, groupId: groupId, previousId: previousId,
            category: string("category"), occurredAt: occurredAt, writeKey: string("writeKey"), sizeBytes: size)
    }

    private func time(_ value: Value?, field: String, fail: (String, String) -> Void) -> Date? {
        guard let value, value != .null else { return nil }
        guard let text = value.stringValue, let date = ISO8601.parse(text) else {
            fail(field, "must be an ISO 8601 date-time, e.g. 2026-11-24T10:00:00.000Z")
            return nil
        }
        return date
    }
}

extension Value {
    /// The members, when this is an object.
    var objectValue: [String: Value]? { if case .object(let o) = self { return o } else { return nil } }
}

/// ISO 8601 date-times as SDKs send them: with or without fractional seconds, `Z` or an offset
/// (`Timestamp.parse`: formatter-free for the common `…T…:….mmmZ` shape), to the millisecond.
enum ISO8601 {
    static func parse(_ text: String) -> Date? { Timestamp.parse(text)?.date }
}
