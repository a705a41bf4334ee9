// libFuzzer target for ingest decoding: request body bytes → `JSONReader` → `SegmentMessageDecoder`
// (the single-message endpoints, /v1/events, and /v1/batch). Compiled by scripts/fuzz-ingest.sh
// with the decoder's own source files (one module per SwiftPM target) so `swift build` never
// sees fuzzer flags.
//
// Input layout: byte 0 picks the endpoint (bits 0-2: track, identify, page, screen, group, alias,
// batch, batch) and the limits (bit 3: tiny limits, so every size path is reachable by short
// inputs); the rest is the request body. Invariants checked (a violation traps):
//   • no crash or memory error (ASan, Swift bounds/overflow checks);
//   • JSONReader: `parse` and `parseReportingContent` agree (same value and no problems when
//     `parse` accepts; problems reported when `parse` refused for content; a syntax error for
//     both otherwise), and a parsed value written by JSONWriter parses back to the same value;
//   • an accepted message holds only what PostgreSQL stores: no NUL anywhere (keys included),
//     finite numbers, identifiers within the byte limit, the required ids of its kind, an event
//     time inside the window, its size within the limit; decoding is deterministic;
//   • a refusal always carries at least one error with a JSON pointer;
//   • /v1/batch: every message is either accepted or rejected, once, in order; rejections point
//     inside their own message; the strict `decodeBatch` accepts exactly when nothing was rejected;
//   • a single message and the same object as a one-message batch get the same verdict and the
//     same message.
import Foundation
import Ingest
import JSONCoding
import Segmentation

let receivedAt = Date(timeIntervalSince1970: 1_795_000_000)  // 2026-11-19

/// A JSON pointer: empty or starting with `/` (by byte: `"/\u{20E9}"` is one Character).
func isPointer(_ text: String) -> Bool { text.isEmpty || text.utf8.first == UInt8(ascii: "/") }

/// `text` starts with `prefix`, byte for byte (String.hasPrefix compares Characters).
func startsWith(_ text: String, _ prefix: String) -> Bool { text.utf8.starts(with: prefix.utf8) }

func check(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError("invariant violated: \(message())") }
}

/// No NUL in a string or key, no non-finite number, at any depth.
func checkStorable(_ value: Value, _ where_: String) {
    switch value {
    case .null, .bool: break
    case .number(let n): check(n.isFinite, "non-finite number at \(where_)")
    case .string(let s): check(!s.utf8.contains(0), "NUL in a string at \(where_)")
    case .array(let items): for item in items { checkStorable(item, where_) }
    case .object(let fields):
        for (key, item) in fields {
            check(!key.utf8.contains(0), "NUL in a key at \(where_)")
            checkStorable(item, where_)
        }
    }
}

func checkMessage(_ m: SegmentMessage, limits: IngestLimits, _ where_: String) {
    for (name, id) in [("userId", m.userId), ("anonymousId", m.anonymousId), ("previousId", m.previousId),
                       ("groupId", m.groupId), ("event", m.event)] {
        guard let id else { continue }
        check(!id.isEmpty && id.utf8.count <= limits.maxIdentifierBytes, "\(where_) \(name) has \(id.utf8.count) bytes")
        check(!id.utf8.contains(0), "\(where_) NUL in \(name)")
    }
    if m.messageIdProvided {
        check(!m.messageId.isEmpty && m.messageId.utf8.count <= limits.maxIdentifierBytes, "\(where_) messageId length")
    }
    check(!m.messageId.utf8.contains(0), "\(where_) NUL in messageId")
    for text in [m.category, m.writeKey].compactMap({ $0 }) { check(!text.utf8.contains(0), "\(where_) NUL in category/writeKey") }
    switch m.kind {
    case .alias: check(m.userId != nil && m.previousId != nil, "\(where_) alias without userId/previousId")
    case .track: check(m.event != nil, "\(where_) track without event")
    case .group: check(m.groupId != nil, "\(where_) group without groupId")
    default: break
    }
    if m.kind != .alias { check(m.userId != nil || m.anonymousId != nil, "\(where_) no userId nor anonymousId") }
    check(m.occurredAt >= limits.earliestEventTime
          && m.occurredAt <= receivedAt.addingTimeInterval(limits.maxEventTimeAheadSeconds),
          "\(where_) event time \(m.occurredAt.timeIntervalSince1970) outside the window")
    check(m.sizeBytes <= limits.maxMessageBytes, "\(where_) size \(m.sizeBytes) over the limit")
    checkStorable(.object(m.properties), "\(where_)/properties")
    checkStorable(.object(m.traits), "\(where_)/traits")
    checkStorable(.object(m.context), "\(where_)/context")
}

/// Equal up to what is generated (a missing messageId) or measured differently (size).
func sameMessage(_ a: SegmentMessage, _ b: SegmentMessage) -> Bool {
    var a = a, b = b
    if !a.messageIdProvided { a.messageId = "" }
    if !b.messageIdProvided { b.messageId = "" }
    a.sizeBytes = 0; b.sizeBytes = 0
    return a == b
}

func checkErrors(_ rejection: SegmentMessageDecoder.Rejection, _ where_: String) {
    check(!rejection.errors.isEmpty, "\(where_) refused without an error")
    for error in rejection.errors { check(isPointer(error.pointer), "\(where_) pointer \(error.pointer)") }
}

func compact(_ value: Value) -> [UInt8] {
    var writer = JSONWriter(capacity: 256)
    writer.value(value)
    return writer.bytes
}

/// JSONReader's two parses agree; writing a parsed value and reading it back is the identity.
/// Returns the value `parse` accepted, if any.
func checkReader(_ body: [UInt8]) -> Value? {
    let strict: Result<Value, JSONReader.Failure> = Result(catching: { () throws(JSONReader.Failure) in try JSONReader.parse(body) })
    let reporting = Result(catching: { () throws(JSONReader.Failure) in try JSONReader.parseReportingContent(body) })
    switch (strict, reporting) {
    case (.success(let value), .success(let reported)):
        check(reported.problems.isEmpty && reported.value == value, "parseReportingContent differs from parse")
        let written = compact(value)
        guard let again = try? JSONReader.parse(written) else { fatalError("JSONWriter output does not parse: \(written)") }
        check(again == value, "write/read round trip changed the value")
        check(compact(again) == written, "JSONWriter is not stable")
        return value
    case (.success, .failure(let failure)):
        fatalError("parse accepted what parseReportingContent refused: \(failure)")
    case (.failure(let failure), .success(let reported)):
        check(failure.isContentProblem, "parse refused for syntax (\(failure)) what parseReportingContent accepted")
        check(!reported.problems.isEmpty, "a content problem (\(failure)) was not reported")
        for problem in reported.problems { check(isPointer(problem.pointer), "problem pointer \(problem.pointer.debugDescription)") }
        return nil
    case (.failure(let failure), .failure(let again)):
        check(!again.isContentProblem, "parseReportingContent threw a content problem")
        check(failure.isContentProblem || failure.offset == again.offset, "the two parses stop at different syntax errors")
        return nil
    }
}

func fuzzSingle(_ body: [UInt8], kind: SegmentMessage.Kind, limits: IngestLimits, parsed: Value?) {
    let decoder = SegmentMessageDecoder(limits: limits)
    let single: SegmentMessage?
    do {
        let m = try decoder.decodeSingle(body, kind: kind, receivedAt: receivedAt)
        check(m.kind == kind, "single: kind \(m.kind) posted to \(kind)")
        checkMessage(m, limits: limits, "single")
        let again = try? decoder.decodeSingle(body, kind: kind, receivedAt: receivedAt)
        check(again.map { sameMessage($0, m) } == true, "single: decoding is not deterministic")
        single = m
    } catch {
        checkErrors(error, "single")
        check((try? decoder.decodeSingle(body, kind: kind, receivedAt: receivedAt)) == nil, "single: not deterministic")
        single = nil
    }

    // The same object as a one-message batch: the same verdict and message.
    guard case .object(var fields)? = parsed, body.count <= limits.maxMessageBytes else { return }
    switch fields["type"] {
    case nil: fields["type"] = .string(kind.rawValue)
    case .string(let t)? where t.lowercased() == kind.rawValue: break
    default: return
    }
    guard compact(.object(fields)).count <= limits.maxMessageBytes else { return }
    let batchBody = compact(.object(["batch": .array([.object(fields)])]))
    guard batchBody.count <= limits.maxBatchBytes else { return }
    guard let decoded = try? decoder.decodeBatchEach(batchBody, receivedAt: receivedAt) else {
        fatalError("a one-message batch was refused as a whole")
    }
    check(decoded.accepted.count + decoded.rejected.count == 1, "one-message batch count")
    if let single {
        guard let (_, message) = decoded.accepted.first else {
            fatalError("single accepted, batch rejected: \(decoded.rejected)")
        }
        check(sameMessage(single, message), "single and batch decode different messages")
    } else {
        check(decoded.accepted.isEmpty, "single rejected, batch accepted")
    }
}

func fuzzBatch(_ body: [UInt8], limits: IngestLimits) {
    let decoder = SegmentMessageDecoder(limits: limits)
    do {
        let decoded = try decoder.decodeBatchEach(body, receivedAt: receivedAt)
        // How many messages the body holds (content problems allowed inside messages).
        guard let (value, _) = try? JSONReader.parseReportingContent(body), case .array(let items)? = value["batch"] else {
            fatalError("batch accepted without a batch array")
        }
        check(!items.isEmpty && items.count <= limits.maxBatchMessages, "batch size \(items.count)")
        let indices = (decoded.accepted.map(\.index) + decoded.rejected.map(\.index)).sorted()
        check(indices == Array(items.indices), "batch: messages not each accepted or rejected once")
        check(decoded.accepted.map(\.index) == decoded.accepted.map(\.index).sorted(), "batch: accepted out of order")
        check(decoded.rejected.map(\.index) == decoded.rejected.map(\.index).sorted(), "batch: rejected out of order")
        for (index, message) in decoded.accepted { checkMessage(message, limits: limits, "batch/\(index)") }
        for rejected in decoded.rejected {
            check(!rejected.errors.isEmpty, "batch/\(rejected.index) rejected without an error")
            for error in rejected.errors {
                let prefix = "/batch/\(rejected.index)"
                check(error.pointer == prefix || startsWith(error.pointer, prefix + "/"),
                      "batch/\(rejected.index) error points elsewhere: \(error.pointer)")
            }
            check(isPointer(rejected.reason) && !rejected.reason.isEmpty && rejected.reason.utf8.count <= 200, "reason \(rejected.reason)")
        }
        let strict = try? decoder.decodeBatch(body, receivedAt: receivedAt)
        check((strict != nil) == decoded.rejected.isEmpty, "decodeBatch disagrees with decodeBatchEach")
        if let strict {
            check(strict.messages.count == decoded.accepted.count
                  && zip(strict.messages, decoded.accepted).allSatisfy { sameMessage($0, $1.message) }, "decodeBatch messages differ")
        }
    } catch {
        checkErrors(error, "batch")
        check((try? decoder.decodeBatch(body, receivedAt: receivedAt)) == nil, "strict batch accepted what decodeBatchEach refused")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 1 else { return 0 }
    let control = data[0]
    let body = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    var limits = IngestLimits()
    if control & 8 != 0 {
        limits.maxMessageBytes = 256
        limits.maxBatchBytes = 1024
        limits.maxBatchMessages = 3
        limits.maxIdentifierBytes = 8
    }
    let parsed = checkReader(body)
    let endpoint = Int(control & 7)
    if endpoint < 6 {
        fuzzSingle(body, kind: SegmentMessage.Kind.allCases[endpoint], limits: limits, parsed: parsed)
    } else {
        fuzzBatch(body, limits: limits)
    }
    return 0
}
