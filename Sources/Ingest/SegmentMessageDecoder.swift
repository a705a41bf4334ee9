import Foundation
import JSONCoding
import Segmentation

/// Limits on ingest bodies; Segment's own by default so SDK batching fits unchanged.
public struct IngestLimits: Sendable {
    /// Largest single message (Segment: 32 KB).
    public var maxMessageBytes = 32 * 1024
    /// Largest batch body after inflation (Segment: 500 KB).
    public var maxBatchBytes = 500 * 1024
    /// Most messages in one batch (Segment: 2 500).
    public var maxBatchMessages = 2500
    public init() {}
}

/// Turns request bodies into validated `SegmentMessage`s, collecting every field error with its
/// JSON pointer so the sender sees all problems at once; one bad message refuses the whole
/// body (a 4xx changes nothing).
public struct SegmentMessageDecoder: Sendable {
    public var limits: IngestLimits

    public init(limits: IngestLimits = IngestLimits()) { self.limits = limits }

    /// A body that could not be accepted: all the field errors found.
    public struct Rejection: Error, Equatable, Sendable {
        public var title: String
        public var errors: [MessageFieldError]
    }

    /// Decodes the body of `/v1/track`, `/v1/identify`, … (`kind` from the path; a `type`
    /// field, if present, must agree) or of `/v1/events` (kind `track`).
    public func decodeSingle(_ body: [UInt8], kind: SegmentMessage.Kind, receivedAt: Date) throws(Rejection) -> SegmentMessage {
        guard body.count <= limits.maxMessageBytes else {
            throw Rejection(title: "Message too large", errors: [
                MessageFieldError(pointer: "", detail: "the message is \(body.count) bytes; the limit is \(limits.maxMessageBytes)")])
        }
        let object = try parseObject(body)
        var errors: [MessageFieldError] = []
        let message = decodeMessage(object, pointer: "", defaultKind: kind, inherited: [:], size: body.count,
                                    receivedAt: receivedAt, errors: &errors)
        if let message, errors.isEmpty { return message }
        throw Rejection(title: "Invalid message", errors: errors)
    }

    /// Decodes a `/v1/batch` body: `{batch: [...], context?, writeKey?, sentAt?}`. Top-level
    /// `context` is merged under each message's own; top-level `sentAt` applies when a message
    /// has none.
    public func decodeBatch(_ body: [UInt8], receivedAt: Date) throws(Rejection) -> (messages: [SegmentMessage], writeKey: String?) {
        guard body.count <= limits.maxBatchBytes else {
            throw Rejection(title: "Batch too large", errors: [
                MessageFieldError(pointer: "", detail: "the batch is \(body.count) bytes; the limit is \(limits.maxBatchBytes)")])
        }
        let object = try parseObject(body)
        guard case .array(let items)? = object["batch"] else {
            throw Rejection(title: "Invalid batch", errors: [MessageFieldError(pointer: "/batch", detail: "must be an array of messages")])
        }
        guard items.count <= limits.maxBatchMessages else {
            throw Rejection(title: "Batch too large", errors: [MessageFieldError(
                pointer: "/batch", detail: "\(items.count) messages; the limit is \(limits.maxBatchMessages)")])
        }
        var inherited: [String: Value] = [:]
        if case .object(let context)? = object["context"] { inherited["context"] = .object(context) }
        if let sentAt = object["sentAt"] { inherited["sentAt"] = sentAt }
        var errors: [MessageFieldError] = []
        var messages: [SegmentMessage] = []
        messages.reserveCapacity(items.count)
        for (index, item) in items.enumerated() {
            let pointer = "/batch/\(index)"
            guard case .object(let fields) = item else {
                errors.append(MessageFieldError(pointer: pointer, detail: "must be an object")); continue
            }
            let size = Self.compactSize(item)
            if size > limits.maxMessageBytes {
                errors.append(MessageFieldError(pointer: pointer, detail: "the message is \(size) bytes; the limit is \(limits.maxMessageBytes)"))
                continue
            }
            if let message = decodeMessage(fields, pointer: pointer, defaultKind: nil, inherited: inherited, size: size,
                                           receivedAt: receivedAt, errors: &errors) {
                messages.append(message)
            }
        }
        guard errors.isEmpty else { throw Rejection(title: "Invalid batch", errors: errors) }
        guard !messages.isEmpty else {
            throw Rejection(title: "Invalid batch", errors: [MessageFieldError(pointer: "/batch", detail: "is empty")])
        }
        return (messages, object["writeKey"]?.stringValue)
    }

    private func parseObject(_ body: [UInt8]) throws(Rejection) -> [String: Value] {
        let value: Value
        do { value = try JSONReader.parse(body) } catch {
            throw Rejection(title: "Malformed JSON", errors: [MessageFieldError(pointer: "", detail: "the body is not valid JSON: \(error)")])
        }
        guard case .object(let object) = value else {
            throw Rejection(title: "Malformed message", errors: [MessageFieldError(pointer: "", detail: "the body must be a JSON object")])
        }
        return object
    }

    static func compactSize(_ value: Value) -> Int {
        var writer = JSONWriter(capacity: 256)
        writer.value(value)
        return writer.bytes.count
    }
}
