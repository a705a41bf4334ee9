/// An HTTP request method. A struct rather than an enum so that extension methods
/// (e.g. `PURGE`) survive parsing and can be answered with 405/501 rather than a parse error.
public struct HTTPMethod: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }

    public static let GET = HTTPMethod(rawValue: "GET")
    public static let HEAD = HTTPMethod(rawValue: "HEAD")
    public static let POST = HTTPMethod(rawValue: "POST")
    public static let PUT = HTTPMethod(rawValue: "PUT")
    public static let PATCH = HTTPMethod(rawValue: "PATCH")
    public static let DELETE = HTTPMethod(rawValue: "DELETE")
    public static let OPTIONS = HTTPMethod(rawValue: "OPTIONS")
}

/// The protocol version of a request line. Only 1.0 and 1.1 are served; anything else is a 505.
public struct HTTPVersion: Hashable, Sendable, CustomStringConvertible {
    public var major: Int
    public var minor: Int
    public init(major: Int, minor: Int) { self.major = major; self.minor = minor }
    public static let http10 = HTTPVersion(major: 1, minor: 0)
    public static let http11 = HTTPVersion(major: 1, minor: 1)
    public var description: String { "HTTP/\(major).\(minor)" }
}

/// Header fields in the order they arrived, duplicates kept (RFC 9110 §5.3), with
/// case-insensitive lookup. Kept as a list, not a dictionary, because order and repetition
/// matter for `Set-Cookie`-like fields and for detecting smuggling (duplicate Content-Length).
public struct HTTPHeaders: Sendable, Sequence, ExpressibleByDictionaryLiteral {
    public typealias Field = (name: String, value: String)
    public private(set) var fields: [Field] = []

    public init() {}
    public init(_ fields: [Field]) { self.fields = fields }
    public init(dictionaryLiteral elements: (String, String)...) {
        self.fields = elements.map { (name: $0.0, value: $0.1) }
    }

    public var count: Int { fields.count }
    public func makeIterator() -> IndexingIterator<[Field]> { fields.makeIterator() }

    /// The first value of `name`, compared case-insensitively.
    public subscript(name: String) -> String? {
        fields.first { Self.same($0.name, name) }?.value
    }
    /// Every value of `name`, in arrival order.
    public func values(_ name: String) -> [String] {
        fields.filter { Self.same($0.name, name) }.map(\.value)
    }
    public func contains(_ name: String) -> Bool { fields.contains { Self.same($0.name, name) } }

    /// Appends a field, keeping any earlier one with the same name.
    public mutating func add(_ name: String, _ value: String) { fields.append((name, value)) }
    /// Replaces every field named `name` with one field.
    public mutating func set(_ name: String, _ value: String) {
        remove(name)
        fields.append((name, value))
    }
    public mutating func remove(_ name: String) { fields.removeAll { Self.same($0.name, name) } }

    /// ASCII case-insensitive comparison: field names are tokens, never non-ASCII.
    @inlinable
    static func same(_ a: String, _ b: String) -> Bool {
        if a.utf8.count != b.utf8.count { return false }
        for (x, y) in zip(a.utf8, b.utf8) where x != y {
            let lx = (x >= 65 && x <= 90) ? x | 0x20 : x
            let ly = (y >= 65 && y <= 90) ? y | 0x20 : y
            if lx != ly { return false }
        }
        return true
    }
}

/// A status code with its reason phrase.
public struct HTTPStatus: Hashable, Sendable, CustomStringConvertible {
    public var code: Int
    public var reason: String
    public init(_ code: Int, _ reason: String) { self.code = code; self.reason = reason }
    public var description: String { "\(code) \(reason)" }

    public static let ok = HTTPStatus(200, "OK")
    public static let created = HTTPStatus(201, "Created")
    public static let accepted = HTTPStatus(202, "Accepted")
    public static let noContent = HTTPStatus(204, "No Content")
    public static let badRequest = HTTPStatus(400, "Bad Request")
    public static let unauthorized = HTTPStatus(401, "Unauthorized")
    public static let forbidden = HTTPStatus(403, "Forbidden")
    public static let notFound = HTTPStatus(404, "Not Found")
    public static let methodNotAllowed = HTTPStatus(405, "Method Not Allowed")
    public static let requestTimeout = HTTPStatus(408, "Request Timeout")
    public static let conflict = HTTPStatus(409, "Conflict")
    public static let contentTooLarge = HTTPStatus(413, "Content Too Large")
    public static let uriTooLong = HTTPStatus(414, "URI Too Long")
    public static let unsupportedMediaType = HTTPStatus(415, "Unsupported Media Type")
    public static let expectationFailed = HTTPStatus(417, "Expectation Failed")
    public static let unprocessableContent = HTTPStatus(422, "Unprocessable Content")
    public static let tooManyRequests = HTTPStatus(429, "Too Many Requests")
    public static let headerFieldsTooLarge = HTTPStatus(431, "Request Header Fields Too Large")
    public static let internalServerError = HTTPStatus(500, "Internal Server Error")
    public static let notImplemented = HTTPStatus(501, "Not Implemented")
    public static let serviceUnavailable = HTTPStatus(503, "Service Unavailable")
    public static let versionNotSupported = HTTPStatus(505, "HTTP Version Not Supported")
}

/// Everything before the body: what a router needs to pick a handler and a body limit
/// before a single body byte is read.
public struct HTTPRequestHead: Sendable {
    public var method: HTTPMethod
    /// The request-target exactly as sent (origin-form `/a?b`, or absolute-form `http://h/a?b`).
    public var target: String
    /// The path of the target, not percent-decoded (routing splits on `/` first, then decodes
    /// each segment, so an encoded `%2F` never creates a segment).
    public var path: String
    /// The query string after `?`, raw; `nil` when absent.
    public var rawQuery: String?
    public var version: HTTPVersion
    public var headers: HTTPHeaders
    /// Whether the connection stays open after this exchange (1.1 default, 1.0 with keep-alive,
    /// `Connection: close` either way).
    public var keepAlive: Bool
    /// `Expect: 100-continue` was sent: the server answers `100 Continue` before reading a body.
    public var expectsContinue: Bool

    public init(method: HTTPMethod, target: String, path: String, rawQuery: String?,
                version: HTTPVersion, headers: HTTPHeaders, keepAlive: Bool, expectsContinue: Bool) {
        self.method = method; self.target = target; self.path = path; self.rawQuery = rawQuery
        self.version = version; self.headers = headers; self.keepAlive = keepAlive
        self.expectsContinue = expectsContinue
    }
}

/// A complete request as a handler sees it.
public struct HTTPRequest: Sendable {
    public var head: HTTPRequestHead
    public var body: [UInt8]
    /// Values of `{param}` segments of the matched route, percent-decoded.
    public var pathParameters: [String: String]
    /// Query parameters in order, percent-decoded (`+` as space).
    public var query: [(name: String, value: String)]
    /// A per-request id for logs and problem documents (`X-Request-Id` when the client sent one).
    public var requestID: String
    /// The peer address as text, for logs.
    public var remoteAddress: String

    public init(head: HTTPRequestHead, body: [UInt8] = [], pathParameters: [String: String] = [:],
                query: [(name: String, value: String)] = [], requestID: String = "", remoteAddress: String = "") {
        self.head = head; self.body = body; self.pathParameters = pathParameters
        self.query = query; self.requestID = requestID; self.remoteAddress = remoteAddress
    }

    public var method: HTTPMethod { head.method }
    public var headers: HTTPHeaders { head.headers }
    /// The first value of query parameter `name`.
    public func queryValue(_ name: String) -> String? { query.first { $0.name == name }?.value }
}

/// A response a handler returns. The server adds `Date`, framing (`Content-Length`) and
/// `Connection` itself; a handler never sets them.
public struct HTTPResponse: Sendable {
    public var status: HTTPStatus
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// A body spooled to a file (sent in chunks, bounded memory); when set, `body` is ignored.
    public var bodyFile: HTTPBodyFile?

    public init(status: HTTPStatus, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) {
        self.status = status; self.headers = headers; self.body = body
    }

    public init(status: HTTPStatus, headers: HTTPHeaders = HTTPHeaders(), bodyFile: HTTPBodyFile) {
        self.status = status; self.headers = headers; self.body = []; self.bodyFile = bodyFile
    }
}
