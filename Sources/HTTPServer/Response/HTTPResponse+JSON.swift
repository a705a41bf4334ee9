import Essentials
import Foundation

/// One field-level problem inside a problem document's `errors` array, e.g.
/// `{"pointer": "/batch/3/userId", "detail": "is required"}` (`Essentials.FieldError`).
public typealias ProblemFieldError = FieldError

/// An error a handler throws to answer with a specific problem document; the server turns it
/// into `HTTPResponse.problem` (it is an `HTTPResponseError`). Anything else a handler throws
/// that is not an `HTTPResponseError` becomes a 500.
public struct HTTPError: Error, Sendable, CustomStringConvertible {
    /// The status to answer.
    public var status: HTTPStatus
    /// Problem title; the status reason when nil.
    public var title: String?
    /// This occurrence explained, safe to show the client.
    public var detail: String?
    /// Problem type URI (`about:blank` unless the API documents one).
    public var type: String
    /// Field-level problems, listed in `errors[]`.
    public var errors: [ProblemFieldError]
    /// Extra response headers (e.g. `Retry-After`, `WWW-Authenticate`).
    public var headers: HTTPHeaders

    /// An error answered with `status` and an RFC 9457 document built from the other fields.
    public init(_ status: HTTPStatus, title: String? = nil, detail: String? = nil, type: String = "about:blank",
                errors: [ProblemFieldError] = [], headers: HTTPHeaders = .init()) {
        self.status = status; self.title = title; self.detail = detail; self.type = type
        self.errors = errors; self.headers = headers
    }

    /// `409 Conflict: already claimed` — for logs.
    public var description: String { "\(status)\(detail.map { ": \($0)" } ?? "")" }
}

/// The RFC 9457 document; `request_id` is our extension member (snake_case like our resources).
struct ProblemDocument: Encodable {
    var type: String
    var title: String
    var status: Int
    var detail: String?
    var errors: [ProblemFieldError]
    var requestID: String?

    enum CodingKeys: String, CodingKey {
        case type, title, status, detail, errors
        case requestID = "request_id"
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(type, forKey: .type)
        try c.encode(title, forKey: .title)
        try c.encode(status, forKey: .status)
        try c.encodeIfPresent(detail, forKey: .detail)
        if !errors.isEmpty { try c.encode(errors, forKey: .errors) }
        try c.encodeIfPresent(requestID, forKey: .requestID)
    }
}

extension HTTPResponse {
    /// A JSON response. Keys are written as the value's `CodingKeys` say (use them for
    /// snake_case); output is sorted by key so bodies are stable. If encoding fails the answer
    /// is a 500 problem document rather than a half-written body.
    public static func json<T: Encodable>(_ value: T, status: HTTPStatus = .ok) -> HTTPResponse {
        do {
            let body = try jsonEncoder().encode(value)
            return HTTPResponse(status: status, headers: ["Content-Type": "application/json"], body: Array(body))
        } catch {
            return .problem(.internalServerError, detail: "the response could not be encoded")
        }
    }

    /// An RFC 9457 problem document (`application/problem+json`): `type`, `title` (the status
    /// reason unless given), `status`, optional `detail`, `errors[]` with JSON-pointer field
    /// paths when there are any, and `request_id` when given.
    public static func problem(_ status: HTTPStatus, title: String? = nil, detail: String? = nil,
                               type: String = "about:blank", errors: [ProblemFieldError] = [],
                               requestID: String? = nil, headers: HTTPHeaders = .init()) -> HTTPResponse {
        let document = ProblemDocument(type: type, title: title ?? status.reason, status: status.code,
                                       detail: detail, errors: errors, requestID: requestID)
        let body = (try? jsonEncoder().encode(document)).map(Array.init)
            ?? Array(#"{"status":\#(status.code),"title":"error","type":"about:blank"}"#.utf8)
        var allHeaders = headers
        allHeaders.set("Content-Type", "application/problem+json")
        return HTTPResponse(status: status, headers: allHeaders, body: body)
    }

    private static func jsonEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}
