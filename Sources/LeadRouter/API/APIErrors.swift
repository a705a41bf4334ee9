import Foundation
import HTTPServer
import Postgres

/// Maps failures below the handlers onto answers: the database being unreachable (or the pool
/// exhausted) is a 503 with `Retry-After` — the transaction was rolled back, nothing half-written
/// — and anything else propagates (the server turns it into a 500).
enum APIErrors {
    static func guarded(_ body: () throws -> HTTPResponse) throws -> HTTPResponse {
        do {
            return try body()
        } catch let error as PostgresError where error.isUnavailable {
            throw HTTPError(.serviceUnavailable, detail: "the database is unavailable; retry later",
                            headers: ["Retry-After": "1"])
        }
    }

    /// 400 with every field error under its JSON pointer.
    static func badRequest(_ rejection: SegmentMessageDecoder.Rejection) -> HTTPError {
        HTTPError(.badRequest, title: rejection.title, detail: rejection.errors.first?.description,
                  errors: rejection.errors.map { ProblemFieldError(pointer: $0.pointer, detail: $0.detail) })
    }

    /// A raw JSON body (already encoded, e.g. a stored decision).
    static func rawJSON(_ bytes: [UInt8], status: HTTPStatus = .ok) -> HTTPResponse {
        HTTPResponse(status: status, headers: ["Content-Type": "application/json"], body: bytes)
    }
}
