import Foundation
import Segmentation

/// A `/v1/batch` body split as Segment does it: the valid messages, and the invalid ones with
/// every error (SDKs never retry a 4xx, so one bad message must not drop its neighbours).
public struct BatchDecoding: Sendable {
    /// The valid messages with their index in `batch`, in order.
    public var accepted: [(index: Int, message: SegmentMessage)]
    /// The invalid ones, in order.
    public var rejected: [RejectedMessage]
    /// Top-level `writeKey`, if any.
    public var writeKey: String?
}

/// A batch message dropped: its index, its `messageId` when it had a string one, and every error
/// (pointers from the body's root, e.g. `/batch/2/userId`).
public struct RejectedMessage: Sendable, Equatable {
    public var index: Int
    public var messageId: String?
    public var errors: [MessageFieldError]

    package init(index: Int, messageId: String? = nil, errors: [MessageFieldError]) {
        self.index = index; self.messageId = messageId; self.errors = errors
    }

    /// What the rejection counter groups by: the first error's pointer inside the message
    /// (`/userId`, `/properties/x`; `/` for the message as a whole), at most 200 bytes.
    public var reason: String {
        let pointer = errors.first?.pointer ?? ""
        let prefix = "/batch/\(index)"
        var inside = pointer.hasPrefix(prefix) ? String(pointer.dropFirst(prefix.count)) : pointer
        if inside.isEmpty { inside = "/" }
        guard inside.utf8.count > 200 else { return inside }
        var cut = inside.utf8.prefix(200)
        while String(cut) == nil { cut = cut.dropLast() }  // not in the middle of a character
        return String(cut)!
    }
}

extension SegmentMessageDecoder {
    /// Decodes a `/v1/batch` body: `{batch: [...], context?, writeKey?, sentAt?}`. Top-level
    /// `context` is merged under each message's own; top-level `sentAt` applies when a message
    /// has none. Throws (nothing applies) only for the body as a whole: too large, not JSON, no
    /// `batch` array, an empty one or too many messages, or a problem outside the messages (in the
    /// shared `context` or `sentAt`); an invalid message is returned in `rejected`.
    public func decodeBatchEach(_ body: [UInt8], receivedAt: Date) throws(Rejection) -> BatchDecoding {
        guard body.count <= limits.maxBatchBytes else {
            throw Rejection(title: "Batch too large", errors: [
                MessageFieldError(pointer: "", detail: "the batch is \(body.count) bytes; the limit is \(limits.maxBatchBytes)")])
        }
        let (object, problems) = try parseObjectReportingContent(body)
        guard case .array(let items)? = object["batch"] else {
            throw Rejection(title: "Invalid batch", errors: [MessageFieldError(pointer: "/batch", detail: "must be an array of messages")])
        }
        guard items.count <= limits.maxBatchMessages else {
            throw Rejection(title: "Batch too large", errors: [MessageFieldError(
                pointer: "/batch", detail: "\(items.count) messages; the limit is \(limits.maxBatchMessages)")])
        }
        guard !items.isEmpty else {
            throw Rejection(title: "Invalid batch", errors: [MessageFieldError(pointer: "/batch", detail: "is empty")])
        }
        // Content problems inside a message reject that message; elsewhere (shared context,
        // sentAt, writeKey) they would reach every message: the body is refused.
        var contentErrors: [Int: [MessageFieldError]] = [:]
        var shared: [MessageFieldError] = []
        for problem in problems {
            let error = MessageFieldError(pointer: problem.pointer, detail: problem.detail)
            if let index = Self.batchIndex(of: problem.pointer), items.indices.contains(index) {
                contentErrors[index, default: []].append(error)
            } else {
                shared.append(error)
            }
        }
        if case let sentAt? = object["sentAt"], sentAt != .null {
            var errors: [MessageFieldError] = []
            _ = checkedTime(sentAt, pointer: "/sentAt", errors: &errors)
            shared += errors
        }
        // A shared context that is not an object would be dropped silently from every message
        // (schemathesis found it): refuse it as a wrong `sentAt` is refused.
        if let context = object["context"], context != .null, context.objectValue == nil {
            shared.append(MessageFieldError(pointer: "/context", detail: "must be an object (merged into every message's context)"))
        }
        guard shared.isEmpty else { throw Rejection(title: "Invalid batch", errors: shared) }

        var inherited: [String: Value] = [:]
        if case .object(let context)? = object["context"] { inherited["context"] = .object(context) }
        if let sentAt = object["sentAt"] { inherited["sentAt"] = sentAt }
        var decoded = BatchDecoding(accepted: [], rejected: [], writeKey: object["writeKey"]?.stringValue)
        decoded.accepted.reserveCapacity(items.count)
        for (index, item) in items.enumerated() {
            let pointer = "/batch/\(index)"
            var errors = contentErrors[index] ?? []
            var message: SegmentMessage?
            if case .object(let fields) = item {
                let size = Self.compactSize(item)
                if size > limits.maxMessageBytes {
                    errors.append(MessageFieldError(pointer: pointer, detail: "the message is \(size) bytes; the limit is \(limits.maxMessageBytes)"))
                } else {
                    message = decodeMessage(fields, pointer: pointer, defaultKind: nil, inherited: inherited, size: size,
                                            receivedAt: receivedAt, errors: &errors)
                }
            } else {
                errors.append(MessageFieldError(pointer: pointer, detail: "must be an object"))
            }
            if let message, errors.isEmpty {
                decoded.accepted.append((index, message))
            } else {
                decoded.rejected.append(RejectedMessage(index: index, messageId: item["messageId"]?.stringValue, errors: errors))
            }
        }
        return decoded
    }

    /// `3` for `/batch/3` and `/batch/3/…`. By UTF-8 byte, not by Character: in `/batch/3/\u{20E9}`
    /// (a member name starting with a combining mark) the second `/` is part of the Character
    /// `"/\u{20E9}"`, and the index read as `3/⃩` (no number: the body was refused as a whole).
    static func batchIndex(of pointer: String) -> Int? {
        let prefix = "/batch/".utf8
        guard pointer.utf8.starts(with: prefix) else { return nil }
        return Int(String(decoding: pointer.utf8.dropFirst(prefix.count).prefix { $0 != UInt8(ascii: "/") }, as: UTF8.self))
    }
}
