import Foundation
import JSONCoding
import Segmentation

/// Limits on ingest bodies; Segment's own by default so SDK batching fits unchanged.
public struct IngestLimits: Sendable, Equatable {
    /// Largest single message (Segment: 32 KB).
    public var maxMessageBytes = 32 * 1024
    /// Largest batch body after inflation (Segment: 500 KB).
    public var maxBatchBytes = 500 * 1024
    /// Most messages in one batch (Segment: 2 500).
    public var maxBatchMessages = 2500
    /// Longest `userId`, `anonymousId`, `previousId`, `groupId`, `messageId` and event/page name,
    /// in UTF-8 bytes (they are index keys: PostgreSQL refuses index entries over ~2.7 KB).
    public var maxIdentifierBytes = 256
    /// Earliest event time accepted (after the clock-skew correction): 2000-01-01T00:00:00Z.
    public var earliestEventTime = Date(timeIntervalSince1970: 946_684_800)
    /// How far an event time (after the clock-skew correction) may be ahead of the time received, in seconds.
    public var maxEventTimeAheadSeconds: Double = 24 * 3600
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
        let (object, problems) = try parseObjectReportingContent(body)
        var errors = problems.map { MessageFieldError(pointer: $0.pointer, detail: $0.detail) }
        let message = decodeMessage(object, pointer: "", defaultKind: kind, inherited: [:], size: body.count,
                                    receivedAt: receivedAt, errors: &errors)
        if let message, errors.isEmpty { return message }
        throw Rejection(title: "Invalid message", errors: errors)
    }

    /// Decodes a `/v1/batch` body strictly: any invalid message refuses the whole body
    /// (`decodeBatchEach` is what `/v1/batch` uses: it keeps the valid messages).
    public func decodeBatch(_ body: [UInt8], receivedAt: Date) throws(Rejection) -> (messages: [SegmentMessage], writeKey: String?) {
        let decoded = try decodeBatchEach(body, receivedAt: receivedAt)
        guard decoded.rejected.isEmpty else { throw Rejection(title: "Invalid batch", errors: decoded.rejected.flatMap(\.errors)) }
        guard !decoded.accepted.isEmpty else {
            throw Rejection(title: "Invalid batch", errors: [MessageFieldError(pointer: "/batch", detail: "is empty")])
        }
        return (decoded.accepted.map(\.message), decoded.writeKey)
    }

    /// The body's object and the content problems in it (NUL, lone surrogates, numbers out of
    /// range: valid JSON syntax, refused values) by JSON pointer. The fast strict parse first; only
    /// a body it refuses for its content is parsed again, tracking paths, to say where.
    func parseObjectReportingContent(_ body: [UInt8]) throws(Rejection) -> (object: [String: Value], problems: [JSONReader.ContentProblem]) {
        let value: Value
        var problems: [JSONReader.ContentProblem] = []
        func malformed(_ failure: JSONReader.Failure) -> Rejection {
            Rejection(title: "Malformed JSON", errors: [MessageFieldError(pointer: "", detail: "the body is not valid JSON: \(failure)")])
        }
        do { value = try JSONReader.parse(body) } catch {
            guard error.isContentProblem else { throw malformed(error) }
            // A content problem came first; the body may still be no JSON further on (raw invalid
            // UTF-8, a syntax error): then say that, not the content problem before it.
            do { (value, problems) = try JSONReader.parseReportingContent(body) } catch { throw malformed(error) }
        }
        guard case .object(let object) = value else {
            throw Rejection(title: "Malformed message", errors: [MessageFieldError(pointer: "", detail: "the body must be a JSON object")])
        }
        return (object, problems)
    }

    static func compactSize(_ value: Value) -> Int {
        var writer = JSONWriter(capacity: 256)
        writer.value(value)
        return writer.bytes.count
    }
}
