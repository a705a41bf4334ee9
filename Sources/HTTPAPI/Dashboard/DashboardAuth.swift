import Foundation
import HTTPServer
import LeadStore

/// Around every dashboard page: `Authorization` (Bearer or Basic, scope `read`) for scripts,
/// else a valid session cookie; anonymous visitors are sent to the login page (303).
struct DashboardAuth: RouterMiddleware {
    let authenticator: Authenticator
    let session: DashboardSession
    /// The service clock, the one tokens were stamped with.
    let clock: @Sendable () -> Date

    func handle(_ request: HTTPRequest, context: APIContext,
                next: (HTTPRequest, APIContext) throws -> HTTPResponse) throws -> HTTPResponse {
        if request.headers["Authorization"] != nil {
            var context = context
            context.apiKey = try authenticator.authenticate(request, scope: .read)
            return try next(request, context)
        }
        if let token = DashboardSession.cookie(in: request.headers["Cookie"]), session.verify(token, now: clock()) != nil {
            return try next(request, context)
        }
        return DashboardPage.redirect("/dashboard/login")
    }
}

/// CSRF defence for the dashboard's forms: the `Origin` (else `Referer`) must name this host.
/// `SameSite=Strict` already keeps the cookie off cross-site requests; this also refuses
/// login CSRF, where no cookie is involved.
enum SameOrigin {
    static func check(_ request: HTTPRequest) throws {
        guard let host = request.headers["Host"], !host.isEmpty else {
            throw HTTPError(.forbidden, detail: "a form post needs a Host header")
        }
        let source = request.headers["Origin"] ?? request.headers["Referer"]
        guard let source, let url = URL(string: source), let h = url.host else {
            throw HTTPError(.forbidden, detail: "a form post must carry Origin or Referer of this site")
        }
        let origin = url.port.map { "\(h):\($0)" } ?? h
        guard origin.lowercased() == host.lowercased() else {
            throw HTTPError(.forbidden, detail: "cross-site form post refused")
        }
    }
}
