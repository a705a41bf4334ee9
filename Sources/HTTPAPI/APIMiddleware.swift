import HTTPServer
import LeadStore
import Postgres

/// The per-request context of the API's routes: what middleware established for the handler.
package struct APIContext: RequestContext {
    package let route: RouteInfo
    /// The key `Authenticate` accepted; nil on routes without authentication.
    package var apiKey: StoredAPIKey?

    package init(route: RouteInfo) { self.route = route }

    /// The authenticated key. Only routes behind `Authenticate` may ask; elsewhere this is a
    /// programming error, answered 500.
    package func authenticatedKey() throws -> StoredAPIKey {
        guard let apiKey else { throw MissingAuthentication(route: route) }
        return apiKey
    }

    struct MissingAuthentication: Error, CustomStringConvertible {
        let route: RouteInfo
        var description: String { "\(route) asks for the API key but is not behind Authenticate" }
    }
}

/// The middleware of the API, composed in one place. Every `/v1` route sits in a group that
/// takes `common` and, per scope, `authenticated(_:)`; order, outermost first:
///
/// 1. `RequestMetrics` (on the root group, so `/healthz` and `/readyz` are counted too);
/// 2. `common`: `MapDatabaseErrors` (an unreachable database → 503);
/// 3. `authenticated(scope)`: `Authenticate` (401/403), which sets `context.apiKey`.
///
/// **Rate limiting** goes into `authenticated(_:)`, after `Authenticate`, so that it can key on
/// `context.apiKey` (a limit per key, or per scope); a limit per client address that must hold
/// before any key lookup would go into `common` instead. Either answers 429 by throwing an
/// `HTTPError(.tooManyRequests, headers: ["Retry-After": …])`.
package struct APIMiddleware: Sendable {
    let authenticator: Authenticator

    package init(authenticator: Authenticator) { self.authenticator = authenticator }

    /// Around every `/v1` route.
    package var common: [any RouterMiddleware<APIContext>] { [MapDatabaseErrors()] }

    /// Around every route needing a key with `scope`. `bodyCredential` reads the key from the
    /// body when the request has no `Authorization` header at all (Segment's `writeKey`).
    package func authenticated(_ scope: APIScope,
                               bodyCredential: (@Sendable (HTTPRequest) throws -> String?)? = nil) -> [any RouterMiddleware<APIContext>] {
        [Authenticate(scope: scope, authenticator: authenticator, bodyCredential: bodyCredential)]
    }
}

/// Authenticates every request of its group before the handler runs: 401 when there is no key
/// or it is unknown, 403 when it lacks `scope`; the accepted key goes into `context.apiKey`.
/// Without an `Authorization` header, `bodyCredential` (when given) supplies the key from the
/// body; it is asked only then, so a header is checked before the body is even looked at.
package struct Authenticate: RouterMiddleware {
    let scope: APIScope
    let authenticator: Authenticator
    let bodyCredential: (@Sendable (HTTPRequest) throws -> String?)?

    package init(scope: APIScope, authenticator: Authenticator, bodyCredential: (@Sendable (HTTPRequest) throws -> String?)? = nil) {
        self.scope = scope; self.authenticator = authenticator; self.bodyCredential = bodyCredential
    }

    package func handle(_ request: HTTPRequest, context: APIContext,
                        next: (HTTPRequest, APIContext) throws -> HTTPResponse) throws -> HTTPResponse {
        let bodyKey = request.headers["Authorization"] == nil ? try bodyCredential?(request) : nil
        var context = context
        context.apiKey = try authenticator.authenticate(request, scope: scope, bodyWriteKey: bodyKey)
        return try next(request, context)
    }
}

/// The database being unreachable (connection failed or lost, pool timeout, SQLSTATE 57014 or
/// class 53) answers 503 with `Retry-After: 1`: the transaction was rolled back, nothing is
/// half-written, and the client should simply retry. One unreachable case is different: the
/// connection broke during COMMIT (`commitOutcomeUnknown`), so the transaction may have committed;
/// that 503 says so with its own problem type (see `DatabaseUnavailable`). A value PostgreSQL
/// refuses (SQLSTATE class 22 or 54, `PostgresError.isRefusal`) is the request's fault: 400. Any
/// other error passes through.
package struct MapDatabaseErrors: RouterMiddleware {
    package init() {}

    package func handle(_ request: HTTPRequest, context: APIContext,
                        next: (HTTPRequest, APIContext) throws -> HTTPResponse) throws -> HTTPResponse {
        do {
            return try next(request, context)
        } catch let error as PostgresError where error.isUnavailable {
            throw DatabaseUnavailable(cause: error)
        } catch let error as PostgresError where error.isRefusal {
            throw APIErrors.refused(error)
        }
    }
}

/// What `MapDatabaseErrors` throws for an unreachable database: its problem document is a 503
/// with `Retry-After: 1`. Usually the transaction was rolled back (type `about:blank`, "retry");
/// when the connection broke during COMMIT the outcome is unknown — it may have committed — and
/// the document says so with the type `https://leadrouter.dev/problems/outcome-unknown`: the
/// client must retry with the same `messageId`, which answers with the stored result if the
/// first attempt did commit.
package struct DatabaseUnavailable: HTTPResponseError, CustomStringConvertible {
    /// The problem type of a 503 whose transaction may have committed.
    package static let outcomeUnknownType = "https://leadrouter.dev/problems/outcome-unknown"

    package let cause: PostgresError
    /// The connection broke during COMMIT: the transaction may or may not have committed.
    package var outcomeUnknown: Bool { cause.code == .commitOutcomeUnknown }
    package var status: HTTPStatus { .serviceUnavailable }
    package var headers: HTTPHeaders { ["Retry-After": "1"] }
    package var problemType: String { outcomeUnknown ? Self.outcomeUnknownType : "about:blank" }
    package var problemTitle: String? { outcomeUnknown ? "Outcome unknown" : nil }
    package var problemDetail: String? {
        outcomeUnknown ? "the outcome is unknown: retry with the same messageId"
            : "the database is unavailable; nothing was stored (rolled back): retry later"
    }
    package var description: String { "database \(outcomeUnknown ? "outcome unknown" : "unavailable"): \(cause)" }
}
