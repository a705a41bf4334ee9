import Foundation
import HTTPServer
import Ingest
import Postgres

/// Helpers handlers answer with. Database failures are mapped once for every route by the
/// `MapDatabaseErrors` middleware (`APIMiddleware.swift`), not here.
package enum APIErrors {
    /// The 400 for a value PostgreSQL refused (`PostgresError.isRefusal`); the database's message
    /// is not shown (it names schema objects).
    static func refused(_ error: PostgresError, pointer: String = "") -> HTTPError {
        let code = error.sqlState?.rawValue ?? "?"
        let detail = "the database refused a value of this message (SQLSTATE \(code)); nothing of it was stored"
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
