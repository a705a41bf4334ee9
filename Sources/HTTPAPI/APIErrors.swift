import Foundation
import HTTPServer
import Ingest
import Postgres

/// Maps failures below the handlers onto answers: the database being unreachable (or the pool
/// exhausted) is a 503 with `Retry-After` — the transaction was rolled back, nothing half-written
/// —, a value PostgreSQL refuses (`PostgresError.isRefusal`) is a 400, and anything else propagates (the
/// server turns it into a 500).
package enum APIErrors {
    static func guarded(_ body: () throws -> HTTPResponse) throws -> HTTPResponse {
        do {
            return try body()
        } catch let error as PostgresError where error.isUnavailable {
            throw HTTPError(.serviceUnavailable, detail: "the database is unavailable; retry later",
                            headers: ["Retry-After": "1"])
        } catch let error as PostgresError where error.isRefusal {
            throw refused(error)
        }
    }

    /// The 400 for a refusal; the database's message is not shown (it names schema objects).
    static func refused(_ error: PostgresError, pointer: String = "") -> HTTPError {
        let detail = "the database refused a value of this message (SQLSTATE \(error.sqlState ?? "?")); nothing of it was stored"
        return HTTPError(.badRequest, title: "Refused by the database", detail: detail,
                         errors: [ProblemFieldError(pointer: pointer, detail: detail)])
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
