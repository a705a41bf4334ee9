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
/// 3. `authenticated(scope)`: `Authenticate` (401/403, and the per-client-address limit on
///    requests without a valid key: 429 before any key lookup), which sets `context.apiKey`;
///    then `LimitPerKey` (the per-key limit: 429).
///
/// Both limits answer 429 with `Retry-After` (`TooManyRequests`); see `RateLimitSettings`.
package struct APIMiddleware: Sendable {
    let authenticator: Authenticator
    let limits: RateLimits

    package init(authenticator: Authenticator, limits: RateLimits = RateLimits(settings: RateLimitSettings())) {
        self.authenticator = authenticator; self.limits = limits
    }

    /// Around every `/v1` route.
    package var common: [any RouterMiddleware<APIContext>] { [MapDatabaseErrors()] }

    /// Around every route needing a key with `scope`. `bodyCredential` reads the key from the
    /// body when the request has no `Authorization` header at all (Segment's `writeKey`).
    /// `allowPublic` lets public keys in (only the Segment-compatible endpoints say so).
    package func authenticated(_ scope: APIScope,
                               bodyCredential: (@Sendable (HTTPRequest) throws -> String?)? = nil,
                               allowPublic: Bool = false) -> [any RouterMiddleware<APIContext>] {
        [Authenticate(scope: scope, authenticator: authenticator, bodyCredential: bodyCredential, allowPublic: allowPublic,
                      limits: limits),
         LimitPerKey(limits: limits)]
    }
}

/// Authenticates every request of its group before the handler runs: 401 when there is no key
/// or it is unknown, 403 when it lacks `scope` or is a public key where `allowPublic` is false;
/// the accepted key goes into `context.apiKey`.
/// Without an `Authorization` header, `bodyCredential` (when given) supplies the key from the
/// body; it is asked only then, so a header is checked before the body is even looked at.
///
/// **Per client address** (`limits.peers`, keyed by `PeerAddress.key`): every request that fails
/// here (no key, an unknown or malformed one, a body whose key cannot be read) takes a token of
/// its address's bucket. While that bucket is empty, the address's requests are answered 429
/// before anything else is done for them — no key lookup in the database, no body inflated —
/// unless they present (in `Authorization`) a key the directory has cached as valid: a valid
/// key keeps working from an address that also floods random keys.
package struct Authenticate: RouterMiddleware {
    let scope: APIScope
    let authenticator: Authenticator
    let bodyCredential: (@Sendable (HTTPRequest) throws -> String?)?
    let allowPublic: Bool
    let limits: RateLimits?

    package init(scope: APIScope, authenticator: Authenticator, bodyCredential: (@Sendable (HTTPRequest) throws -> String?)? = nil,
                 allowPublic: Bool = false, limits: RateLimits? = nil) {
        self.scope = scope; self.authenticator = authenticator; self.bodyCredential = bodyCredential
        self.allowPublic = allowPublic; self.limits = limits
    }

    package func handle(_ request: HTTPRequest, context: APIContext,
                        next: (HTTPRequest, APIContext) throws -> HTTPResponse) throws -> HTTPResponse {
        var context = context
        guard let peers = limits?.peers, !peers.limit.isUnlimited else {
            context.apiKey = try authenticate(request)
            return try next(request, context)
        }
        let peer = PeerAddress.key(request.remoteAddress)
        let standing = peers.check(peer)
        if case .limited = standing {
            // Only what costs nothing: the header's key, if the cache knows it as valid.
            guard request.headers["Authorization"] != nil,
                  let text = try? authenticator.presentedKey(request, bodyWriteKey: nil),
                  case .known(let key) = authenticator.keys.cachedKey(presented: text)
            else { throw TooManyRequests.perPeer(standing) }
            context.apiKey = try authenticator.granted(key, scope: scope, allowPublic: allowPublic)
            return try next(request, context)
        }
        do {
            context.apiKey = try authenticate(request)
        } catch let error as HTTPResponseError where error.status.code != 403 && (400..<500).contains(error.status.code) {
            _ = peers.consume(peer)
            throw error
        }
        return try next(request, context)
    }

    private func authenticate(_ request: HTTPRequest) throws -> StoredAPIKey {
        let bodyKey = request.headers["Authorization"] == nil ? try bodyCredential?(request) : nil
        return try authenticator.authenticate(request, scope: scope, bodyWriteKey: bodyKey, allowPublic: allowPublic)
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
        } catch let error as UndecodableLead {
            throw APIErrors.quarantined(error)
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
