import Foundation
import HTTPServer
import Ingest
import LeadStore
import Privacy
import Segmentation

/// Data-subject requests (scope `admin`): `DELETE /v1/leads/{id}` erases a person — the lead and
/// everything merged into it — and answers with the tombstone. Idempotent: erasing again
/// answers the same tombstone. `?suppress=false` erases without blocking the identities (a new
/// message for them then starts a new lead); the default suppresses, as Segment's
/// "suppress with delete".
public struct PrivacyRoutes: Sendable {
    let erasure: LeadErasure
    let exporter: LeadExport

    package init(erasure: LeadErasure, exporter: LeadExport) { self.erasure = erasure; self.exporter = exporter }

    package func install(into v1: inout RouterGroup<APIContext>, _ api: APIMiddleware) {
        v1.group("/leads", middleware: api.authenticated(.admin)) { leads in
            leads.delete("/{id}") { request, _ in try erase(request) }
            leads.get("/{id}/export") { request, _ in try export(request) }
        }
    }

    /// Everything held about the person, spooled to a temporary file as it is read (bounded
    /// memory) and sent from there: one JSON document, or NDJSON with `?format=ndjson` or
    /// `Accept: application/x-ndjson`.
    func export(_ request: HTTPRequest) throws -> HTTPResponse {
        let id = try LeadRoutes.leadId(request)
        let format = try Self.exportFormat(request)
        var counts: [String: Int]?
        let file = try HTTPBodyFile { write in
            counts = try exporter.export(lead: id, format: format, refuse: LeadReads.refuseErased, to: write)
        }
        guard counts != nil else { throw LeadRoutes.notFound }
        var headers = HTTPHeaders()
        headers.add("Content-Type", format == .json ? "application/json" : "application/x-ndjson")
        headers.add("Content-Disposition", "attachment; filename=\"lead-\(id.uuidString.lowercased()).\(format.rawValue)\"")
        return HTTPResponse(status: .ok, headers: headers, bodyFile: file)
    }

    static func exportFormat(_ request: HTTPRequest) throws -> LeadExport.Format {
        if let text = request.queryValue("format") {
            guard let format = LeadExport.Format(rawValue: text) else {
                throw HTTPError(.badRequest, detail: "format must be json or ndjson",
                                errors: [.init(pointer: "/query/format", detail: "must be json or ndjson")])
            }
            return format
        }
        let accept = request.headers["Accept"] ?? ""
        return accept.contains("ndjson") ? .ndjson : .json
    }

    func erase(_ request: HTTPRequest) throws -> HTTPResponse {
        let id = try LeadRoutes.leadId(request)
        let suppress: Bool
        switch request.queryValue("suppress") {
        case nil, "true": suppress = true
        case "false": suppress = false
        default:
            throw HTTPError(.badRequest, detail: "suppress must be true or false",
                            errors: [.init(pointer: "/query/suppress", detail: "must be true or false")])
        }
        switch try erasure.erase(lead: id, suppress: suppress) {
        case .erased(let tombstone, _), .alreadyErased(let tombstone): return .json(TombstoneView(tombstone))
        case .notFound: throw LeadRoutes.notFound
        }
    }
}

/// A tombstone as the API shows it (`DELETE /v1/leads/{id}`, the 410 of a read).
struct TombstoneView: Encodable {
    var leadId: String
    var erasureId: String
    var erasedAt: Timestamp
    var suppressed: Bool
    var counts: [String: Int]

    init(_ t: ErasedLead) {
        leadId = t.liveLeadId.uuidString.lowercased(); erasureId = t.erasureId.uuidString.lowercased()
        erasedAt = Timestamp(t.erasedAt); suppressed = t.suppressed; counts = t.counts
    }

    enum CodingKeys: String, CodingKey {
        case leadId = "lead_id", erasureId = "erasure_id", erasedAt = "erased_at", suppressed, counts
    }
}

/// An erased lead answers 410 Gone wherever it is read or changed.
extension LeadErasedError: HTTPResponseError {
    package var status: HTTPStatus { HTTPStatus(410, "Gone") }
    package var problemDetail: String? {
        "lead \(tombstone.leadId.uuidString.lowercased()) was erased at \(Timestamp(tombstone.erasedAt)); only its tombstone is kept"
    }
    package var problemType: String { "https://leadrouter.dev/problems/lead-erased" }
}
