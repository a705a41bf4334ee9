/// How the body of a request is delimited (RFC 9112 §6.3).
enum BodyFraming: Sendable, Equatable {
    case none
    case length(Int)
    case chunked
}

/// What the parser has learned of a request head so far. The fields that decide framing,
/// persistence and routing are recorded as they arrive (from bytes, without building Strings
/// twice) and judged once the head is complete, so the verdict never depends on read splits.
struct PendingHead: Sendable {
    var method = HTTPMethod.GET
    var target = ""
    var path = ""
    var rawQuery: String?
    var version = HTTPVersion.http11
    var fields: [HTTPHeaders.Field] = []
    var headerBytes = 0

    var hostCount = 0
    var hostInvalid = false
    var contentLength: ContentLengthState = .absent
    var transferEncoding = TransferEncodingState()
    var connectionClose = false
    var connectionKeepAlive = false
    var expectsContinue = false
    var unsupportedExpectation = false
    var framing: BodyFraming = .none

    init() { fields.reserveCapacity(16) }
}

/// Content-Length as seen across every field and list element.
enum ContentLengthState: Sendable, Equatable {
    case absent
    case value(Int)
    case invalid(String)
}

/// Transfer-Encoding as seen across every field and list element, in order.
struct TransferEncodingState: Sendable {
    var present = false
    var chunkedCount = 0
    var lastIsChunked = false
    var elementCount = 0
    var malformed = false
    var unknownCoding = false
}

/// Splits `bytes[range]` at commas into OWS-trimmed elements (RFC 9110 §5.6.1 lists) and calls
/// `body` with each element's range, empty ones included (callers decide what they mean).
func forEachListElement(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ body: (Range<Int>) -> Void) {
    var start = range.lowerBound
    while start <= range.upperBound {
        var end = start
        while end < range.upperBound, bytes[end] != ByteClass.comma { end += 1 }
        var lo = start, hi = end
        while lo < hi, bytes[lo] == ByteClass.sp || bytes[lo] == ByteClass.ht { lo += 1 }
        while hi > lo, bytes[hi - 1] == ByteClass.sp || bytes[hi - 1] == ByteClass.ht { hi -= 1 }
        body(lo..<hi)
        start = end + 1
    }
}

extension PendingHead {
    /// Records the framing- and persistence-relevant meaning of one field. `name` and `value`
    /// are ranges into `bytes`; the value is already trimmed and validated.
    mutating func note(name: Range<Int>, value: Range<Int>, in bytes: UnsafeBufferPointer<UInt8>) {
        let nameBytes = UnsafeBufferPointer(rebasing: bytes[name])
        switch name.count {
        case 4 where ByteClass.equalsLowercase(nameBytes, "host"):
            hostCount += 1
            for i in value where !ByteClass.isHostByte(bytes[i]) { hostInvalid = true }
        case 6 where ByteClass.equalsLowercase(nameBytes, "expect"):
            forEachListElement(bytes, value) { element in
                guard !element.isEmpty else { return }
                if ByteClass.equalsLowercase(UnsafeBufferPointer(rebasing: bytes[element]), "100-continue") {
                    expectsContinue = true
                } else {
                    unsupportedExpectation = true
                }
            }
        case 10 where ByteClass.equalsLowercase(nameBytes, "connection"):
            forEachListElement(bytes, value) { element in
                let token = UnsafeBufferPointer(rebasing: bytes[element])
                if ByteClass.equalsLowercase(token, "close") { connectionClose = true }
                if ByteClass.equalsLowercase(token, "keep-alive") { connectionKeepAlive = true }
            }
        case 14 where ByteClass.equalsLowercase(nameBytes, "content-length"):
            noteContentLength(value, in: bytes)
        case 17 where ByteClass.equalsLowercase(nameBytes, "transfer-encoding"):
            noteTransferEncoding(value, in: bytes)
        default:
            break
        }
    }

    /// Content-Length is `1*DIGIT`; a list of identical values (`5, 5`, or repeated fields) is
    /// accepted as that value (RFC 9110 §8.6), anything else is fatal: a sign, inner spaces,
    /// non-digits, an empty element, overflow, or differing values.
    private mutating func noteContentLength(_ value: Range<Int>, in bytes: UnsafeBufferPointer<UInt8>) {
        if case .invalid = contentLength { return }
        forEachListElement(bytes, value) { element in
            if case .invalid = contentLength { return }
            guard !element.isEmpty else { contentLength = .invalid("empty Content-Length"); return }
            var n = 0
            for i in element {
                let b = bytes[i]
                guard ByteClass.isDigit(b) else { contentLength = .invalid("malformed Content-Length"); return }
                let (m, o1) = n.multipliedReportingOverflow(by: 10)
                let (s, o2) = m.addingReportingOverflow(Int(b - 48))
                guard !o1, !o2 else { contentLength = .invalid("Content-Length overflows"); return }
                n = s
            }
            switch contentLength {
            case .absent: contentLength = .value(n)
            case .value(let previous) where previous != n: contentLength = .invalid("differing Content-Length values")
            default: break
            }
        }
    }

    /// Transfer-Encoding is a list of codings; we implement exactly one `chunked`, last.
    private mutating func noteTransferEncoding(_ value: Range<Int>, in bytes: UnsafeBufferPointer<UInt8>) {
        transferEncoding.present = true
        forEachListElement(bytes, value) { element in
            guard !element.isEmpty else { return }  // empty list elements are ignored (RFC 9110 §5.6.1.2)
            transferEncoding.elementCount += 1
            let coding = UnsafeBufferPointer(rebasing: bytes[element])
            if ByteClass.equalsLowercase(coding, "chunked") {
                transferEncoding.chunkedCount += 1
                transferEncoding.lastIsChunked = true
                return
            }
            transferEncoding.lastIsChunked = false
            // A coding is a token, optionally with `;` parameters; anything else is malformed.
            var sawToken = false
            for b in coding {
                if b == ByteClass.semicolon { break }
                guard ByteClass.isToken(b) else { transferEncoding.malformed = true; return }
                sawToken = true
            }
            if sawToken { transferEncoding.unknownCoding = true } else { transferEncoding.malformed = true }
        }
    }
}
