import Essentials
import Foundation
import HTTPServer
import LeadStore
import Postgres

/// Finds the API key of a request and checks its scope: 401 when there is none or it is
/// unknown, 403 when it lacks the scope. Keys are looked up by SHA-256 and cached briefly so a
/// busy write key costs no query per request (a revoked key stops working within `cacheSeconds`).
public final class Authenticator: Sendable {
    let pool: PostgresPool
    let cacheSeconds: Double
    private let cache = Locked<[[UInt8]: (key: StoredAPIKey?, until: Date)]>([:])

    public init(pool: PostgresPool, cacheSeconds: Double = 10) {
        self.pool = pool; self.cacheSeconds = cacheSeconds
    }

    /// The key presented in `Authorization` (Bearer, or Basic with the key as user name), else
    /// `bodyWriteKey` (Segment's `writeKey` field), granted `scope`.
    public func authenticate(_ request: HTTPRequest, scope: APIScope, bodyWriteKey: String? = nil) throws -> StoredAPIKey {
        let presented: PresentedCredential?
        do {
            presented = try CredentialParser.parse(authorization: request.headers["Authorization"])
        } catch {
            throw Self.unauthorized(error.description)
        }
        guard let text = presented?.key ?? bodyWriteKey else {
            throw Self.unauthorized("an API key is required: Authorization: Bearer <key>, or HTTP Basic with the key as user name")
        }
        guard let key = try lookup(text) else { throw Self.unauthorized("the API key is not valid") }
        guard scope.isGranted(by: key.scopes) else {
            throw HTTPError(.forbidden, detail: "the API key lacks scope '\(scope.rawValue)'")
        }
        return key
    }

    func lookup(_ text: String) throws -> StoredAPIKey? {
        let hash = APIKeyHash.of(text)
        let now = Date()
        if let hit = cache.withLock({ $0[hash] }), hit.until > now { return hit.key }
        let key = try pool.withConnection { try Store($0).apiKey(hash: hash) }
        cache.withLock { entries in
            if entries.count > 10_000 { entries.removeAll() }
            entries[hash] = (key, now.addingTimeInterval(cacheSeconds))
        }
        return key
    }

    static func unauthorized(_ detail: String) -> HTTPError {
        HTTPError(.unauthorized, detail: detail, headers: ["WWW-Authenticate": #"Bearer realm="leadrouter", Basic realm="leadrouter""#])
    }
}
