/// An error that knows its answer: the server (`HandlerRunner`) turns anything a handler or a
/// middleware throws that conforms into the error's RFC 9457 problem document, and anything
/// else into a logged 500. `HTTPError` conforms; an application maps its own failures by
/// conforming an error type (or by a middleware that catches one error and throws another).
///
/// Only `status` is required: the document's title defaults to the status reason, the type to
/// `about:blank`, and there is no detail, no field errors and no extra header unless given.
public protocol HTTPResponseError: Error {
    /// The status to answer.
    var status: HTTPStatus { get }
    /// Extra response headers, e.g. `Retry-After`, `WWW-Authenticate`.
    var headers: HTTPHeaders { get }
    /// The problem's `title`; the status reason when nil.
    var problemTitle: String? { get }
    /// The problem's `detail`: this occurrence explained, safe to show the client.
    var problemDetail: String? { get }
    /// The problem's `type` URI.
    var problemType: String { get }
    /// Field-level problems, listed in `errors[]`.
    var problemErrors: [ProblemFieldError] { get }
    /// The whole answer; by default the problem document built from the members above.
    func response(requestID: String?) -> HTTPResponse
}

extension HTTPResponseError {
    public var headers: HTTPHeaders { HTTPHeaders() }
    public var problemTitle: String? { nil }
    public var problemDetail: String? { nil }
    public var problemType: String { "about:blank" }
    public var problemErrors: [ProblemFieldError] { [] }

    public func response(requestID: String? = nil) -> HTTPResponse {
        .problem(status, title: problemTitle, detail: problemDetail, type: problemType, errors: problemErrors,
                 requestID: requestID, headers: headers)
    }
}

extension HTTPError: HTTPResponseError {
    public var problemTitle: String? { title }
    public var problemDetail: String? { detail }
    public var problemType: String { type }
    public var problemErrors: [ProblemFieldError] { errors }
}
