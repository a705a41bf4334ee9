import Foundation
import HTTPServer
import LeadStore

/// Finds the API key of a request and checks its scope: 401 when there is none or it is
/// unknown, 403 when it lacks the scope. Keys come from an `APIKeyDirectory` (SHA-256 lookup,
/// cached briefly). Routes do not call it: the `Authenticate` middleware of their group does.
public final class Authenticator: Sendable {
    let keys: APIKeyDirectory
    /// Where a successful authentication notes the key's use (`last_used_at`, written later).
    let usage: KeyUsage?

    package init(keys: APIKeyDirectory, usage: KeyUsage? = nil) { self.keys = keys; self.usage = usage }

    /// The routes a public key may call, for its 403's detail.
    static let publicRoutes = "POST /v1/track, /v1/identify, /v1/page, /v1/screen, /v1/group, /v1/alias and /v1/batch"

    /// The key presented in `Authorization` (Bearer, or Basic with the key as user name), else
    /// `bodyWriteKey` (Segment's `writeKey` field), granted `scope`. A public key is refused
    /// (403) unless `allowPublic` (the Segment-compatible endpoints); a rotated key past its
    /// grace period is unknown (401), even while cached.
    public func authenticate(_ request: HTTPRequest, scope: APIScope, bodyWriteKey: String? = nil,
                             allowPublic: Bool = false) throws -> StoredAPIKey {
        let text = try presentedKey(request, bodyWriteKey: bodyWriteKey)
        guard let key = try keys.key(presented: text) else { throw Self.unauthorized("the API key is not valid") }
        return try granted(key, scope: scope, allowPublic: allowPublic)
    }

    /// The key text a request presents (401 when there is none or `Authorization` is malformed).
    func presentedKey(_ request: HTTPRequest, bodyWriteKey: String?) throws -> String {
        let presented: PresentedCredential?
        do {
            presented = try CredentialParser.parse(authorization: request.headers["Authorization"])
        } catch {
            throw Self.unauthorized(error.description)
        }
        guard let text = presented?.key ?? bodyWriteKey else {
            throw Self.unauthorized("an API key is required: Authorization: Bearer <key>, or HTTP Basic with the key as user name")
        }
        return text
    }

    /// `key` when it is still valid, may be used here (`allowPublic`) and has `scope`; its use
    /// is noted. Else 401 (expired after a rotation) or 403.
    func granted(_ key: StoredAPIKey, scope: APIScope, allowPublic: Bool) throws -> StoredAPIKey {
        let now = Date()
        guard !key.isExpired(at: now) else { throw Self.unauthorized("the API key is not valid") }
        guard !key.isPublic || allowPublic else {
            throw HTTPError(.forbidden, detail: "a public key may call only the Segment-compatible endpoints (\(Self.publicRoutes)); use a secret key here")
        }
        guard scope.isGranted(by: key.scopes) else {
            throw HTTPError(.forbidden, detail: "the API key lacks scope '\(scope.rawValue)'")
        }
        usage?.note(key.id, at: now)
        return key
    }

    static func unauthorized(_ detail: String) -> HTTPError {
        HTTPError(.unauthorized, detail: detail, headers: ["WWW-Authenticate": #"Bearer realm="leadrouter", Basic realm="leadrouter""#])
    }
}
