import Essentials
import Foundation
import HTTPServer
import LeadStore
import Postgres

/// Which browser origins may call the ingest endpoints: the global default
/// (`ingest.cors_allowed_origins`) and, for a request made with a key that has its own list
/// (`api_keys.cors_allowed_origins`), that list instead. A preflight carries no key (analytics.js
/// sends the write key in the body), so it is answered for an origin the default or any working
/// key allows; the request itself is then checked against its key.
package final class CORSPolicy: Sendable {
    let global: AllowedOrigins
    let pool: PostgresPool?
    /// How long the union of the keys' lists is reused (the same bound as the key cache).
    let cacheSeconds: Double
    private let keyOrigins = Locked<(at: Double, origins: AllowedOrigins)?>(nil)

    package init(global: AllowedOrigins, pool: PostgresPool?, cacheSeconds: Double = 10) {
        self.global = global; self.pool = pool; self.cacheSeconds = cacheSeconds
    }

    /// Whether `origin` may send with `key`; without a key, whether the default or any key allows it.
    package func allows(_ origin: String, key: StoredAPIKey?) throws -> Bool {
        if let key { return (key.corsAllowedOrigins ?? global).allows(origin) }
        return try global.allows(origin) || keysAllow(origin)
    }

    private func keysAllow(_ origin: String) throws -> Bool {
        guard let pool else { return false }
        let now = Double(MonotonicClock.nanoseconds()) / 1e9
        if let cached = keyOrigins.withLock({ $0 }), now - cached.at < cacheSeconds { return cached.origins.allows(origin) }
        let origins = try pool.withConnection { try Store($0).corsOriginsOfWorkingKeys() }
        keyOrigins.withLock { $0 = (now, origins) }
        return origins.allows(origin)
    }

    /// The headers of an allowed answer: the origin echoed (never `*` with a `Vary` missing, never
    /// credentials), and the response headers a page may read.
    static func headers(origin: String) -> HTTPHeaders {
        ["Access-Control-Allow-Origin": origin, "Vary": "Origin", "Access-Control-Expose-Headers": "Retry-After, X-Request-Id"]
    }
}

/// CORS on the ingest routes, in two layers around `Authenticate`:
///
/// - `CORS.keyed` (after `Authenticate`: it needs the key): a request without `Origin` passes
///   untouched (servers, mobile apps); one from an origin its key allows gets
///   `Access-Control-Allow-Origin` on its answer, errors included, so the page can read them;
///   one from any other origin is refused with 403 and no CORS headers, before the handler runs,
///   so nothing it sent is stored.
/// - `CORS.early` (before `Authenticate`): what `Authenticate` and `LimitPerKey` throw (401, 403,
///   429) carries the headers when the origin is one a preflight would accept, so a page reads
///   its 401 or its `Retry-After` instead of a network error that the SDK retries.
package struct CORS: RouterMiddleware {
    let policy: CORSPolicy
    /// After `Authenticate` (the key's own list applies), or before it (only its errors).
    let afterAuthentication: Bool

    package static func keyed(_ policy: CORSPolicy) -> CORS { CORS(policy: policy, afterAuthentication: true) }
    package static func early(_ policy: CORSPolicy) -> CORS { CORS(policy: policy, afterAuthentication: false) }

    package func handle(_ request: HTTPRequest, context: APIContext,
                        next: (HTTPRequest, APIContext) throws -> HTTPResponse) throws -> HTTPResponse {
        guard let origin = request.headers["Origin"] else { return try next(request, context) }
        guard afterAuthentication else {
            do { return try next(request, context) } catch let error as HTTPResponseError where !(error is WithCORSHeaders || error is OriginRefused) {
                guard try policy.allows(origin, key: nil) else { throw error }
                throw WithCORSHeaders(error: error, origin: origin)
            }
        }
        guard try policy.allows(origin, key: context.apiKey) else { throw OriginRefused(origin: origin) }
        do {
            var response = try next(request, context)
            for (name, value) in CORSPolicy.headers(origin: origin) {
                // A handler's own Vary (the settings: Host too) keeps its names.
                if name == "Vary", let own = response.headers["Vary"] {
                    if !own.lowercased().contains("origin") { response.headers.set(name, own + ", Origin") }
                    continue
                }
                response.headers.set(name, value)
            }
            return response
        } catch let error as HTTPResponseError {
            throw WithCORSHeaders(error: error, origin: origin)
        }
    }
}

/// The answer to a CORS preflight (`OPTIONS`) on an ingest path: 204 with the allowed method
/// and the request headers the page asked for, cached by the browser for 10 minutes; 403 with
/// no CORS headers for an origin that is not allowed. An `OPTIONS` without `Origin` is no
/// preflight: 204 with `Allow`.
struct CORSPreflight: Sendable {
    let policy: CORSPolicy
    let methods: String

    func answer(_ request: HTTPRequest, _ context: APIContext) throws -> HTTPResponse {
        guard let origin = request.headers["Origin"] else {
            return HTTPResponse(status: .noContent, headers: ["Allow": methods + ", OPTIONS"])
        }
        guard try policy.allows(origin, key: nil) else { throw OriginRefused(origin: origin) }
        if let method = request.headers["Access-Control-Request-Method"], !methods.contains(method.uppercased()) {
            throw HTTPError(.forbidden, title: "Method not allowed cross-origin", detail: "this path takes \(methods)")
        }
        var headers = CORSPolicy.headers(origin: origin)
        headers.set("Access-Control-Allow-Methods", methods + ", OPTIONS")
        if let asked = request.headers["Access-Control-Request-Headers"],
           asked.utf8.count <= 1024, asked.utf8.allSatisfy({ Self.headerListBytes.contains($0) }) {
            headers.set("Access-Control-Allow-Headers", asked)
        }
        headers.set("Access-Control-Max-Age", "600")
        headers.set("Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers")
        return HTTPResponse(status: .noContent, headers: headers)
    }

    /// Header names (tokens), commas and spaces: what an `Access-Control-Request-Headers` holds.
    static let headerListBytes: Set<UInt8> = Set(Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_, ".utf8))
}

/// 403 for a browser origin that may not call: no CORS headers, so the page cannot read it either.
struct OriginRefused: HTTPResponseError {
    let origin: String
    var status: HTTPStatus { .forbidden }
    var problemTitle: String? { "Origin not allowed" }
    var problemDetail: String? {
        "the origin \(origin.prefix(200)) may not send to this service: add it to ingest.cors_allowed_origins or to the key's cors_allowed_origins"
    }
}

/// An error answered with the CORS headers of an allowed origin added.
struct WithCORSHeaders: HTTPResponseError {
    let error: any HTTPResponseError
    let origin: String
    var status: HTTPStatus { error.status }
    var headers: HTTPHeaders {
        var all = error.headers
        for (name, value) in CORSPolicy.headers(origin: origin) { all.set(name, value) }
        return all
    }
    var problemTitle: String? { error.problemTitle }
    var problemDetail: String? { error.problemDetail }
    var problemType: String { error.problemType }
    var problemErrors: [ProblemFieldError] { error.problemErrors }
    /// The wrapped error's own answer (whatever it builds), with the headers added.
    func response(requestID: String?) -> HTTPResponse {
        var response = error.response(requestID: requestID)
        for (name, value) in headers { response.headers.set(name, value) }
        return response
    }
}
