import Foundation
import HTTPServer
import Ingest
import LeadStore
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

    /// The problem type of a lead whose stored row cannot be decoded (quarantined).
    package static let leadQuarantinedType = "https://leadrouter.dev/problems/lead-quarantined"

    /// What an operator reads for a quarantined lead (the row's fault, not the request's).
    static func quarantinedDetail(_ lead: UndecodableLead) -> String {
        "lead \(lead.id.uuidString.lowercased()) is quarantined: its stored row cannot be decoded (\(lead.reason)); "
            + "nothing was stored. An operator lists it at GET /v1/quarantine and releases it with "
            + "DELETE /v1/quarantine/\(lead.id.uuidString.lowercased()) once the row is repaired"
    }

    /// 409 for a request about a quarantined lead (a message resolving to it, a read of it).
    static func quarantined(_ lead: UndecodableLead) -> HTTPError {
        HTTPError(.conflict, title: "Lead quarantined", detail: quarantinedDetail(lead), type: leadQuarantinedType)
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
