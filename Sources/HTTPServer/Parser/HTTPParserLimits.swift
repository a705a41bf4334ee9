/// Size limits the parser enforces while reading a request. They exist so that a client cannot
/// make the server buffer without bound; each maps to the status RFC 9110 assigns to it.
public struct HTTPParserLimits: Sendable {
    /// Longest request line (method, target, version; without CRLF) → 414.
    public var maxRequestLineBytes = 8 * 1024
    /// Largest header block (every field line with its CRLF, and the closing empty line) → 431.
    /// Trailers of a chunked body get their own budget of the same size.
    public var maxHeaderBytes = 32 * 1024
    /// Most header fields in one request (and most trailer fields) → 431.
    public var maxHeaderFields = 100
    /// Default body limit; a route overrides it per request with `setBodyLimit` → 413.
    public var maxBodyBytes = 1 << 20
    /// Longest chunk-size line of a chunked body, extensions included → 400. Extensions carry
    /// nothing we use, so a small bound keeps a client from streaming them forever.
    public var maxChunkLineBytes = 4 * 1024
    /// Most bytes of empty lines skipped before a request line (RFC 9112 §2.2) → 400.
    public var maxLeadingEmptyLineBytes = 1024

    /// The defaults above; set fields to change them (configuration maps onto these).
    public init() {}
}

/// Why a request could not be parsed, with the status to answer. After any parse error the
/// connection answers it and closes: the framing of what follows can no longer be trusted.
public struct HTTPParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// One of 400, 413, 414, 417, 431, 501, 505.
    public var status: HTTPStatus
    /// A short, client-safe explanation (goes into the problem document's `detail`).
    public var reason: String

    /// An error answered with `status`; `reason` must be safe to show the client.
    public init(_ status: HTTPStatus, _ reason: String) {
        self.status = status
        self.reason = reason
    }

    /// `413 Content Too Large: body of 5 bytes exceeds the limit of 4` — for logs.
    public var description: String { "\(status.code) \(status.reason): \(reason)" }

    static func bad(_ reason: String) -> HTTPParseError { HTTPParseError(.badRequest, reason) }
}

/// What the parser produced from the bytes so far. A request is always `.head`, zero or more
/// `.body` pieces (their split depends on how bytes arrived), then `.end`.
public enum HTTPParserEvent: Sendable, Equatable {
    case head(HTTPRequestHead)
    case body([UInt8])
    case end

    /// Structural equality (tests and the fuzzer compare event sequences).
    public static func == (lhs: HTTPParserEvent, rhs: HTTPParserEvent) -> Bool {
        switch (lhs, rhs) {
        case (.head(let a), .head(let b)): return a.sameHead(as: b)
        case (.body(let a), .body(let b)): return a == b
        case (.end, .end): return true
        default: return false
        }
    }
}

extension HTTPRequestHead {
    /// Field-by-field equality (HTTPHeaders holds tuples, so it cannot be Equatable for free).
    func sameHead(as other: HTTPRequestHead) -> Bool {
        method == other.method && target == other.target && path == other.path
            && rawQuery == other.rawQuery && version == other.version && keepAlive == other.keepAlive
            && expectsContinue == other.expectsContinue
            && headers.fields.elementsEqual(other.headers.fields) { $0.name == $1.name && $0.value == $1.value }
    }
}
