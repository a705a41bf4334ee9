import Foundation
import HTTPServer
import LeadStore

/// Finds the API key of a request and checks its scope: 401 when there is none or it is
/// unknown, 403 when it lacks the scope. Keys come from an `APIKeyDirectory` (SHA-256 lookup,
/// cached briefly). Routes do not call it: the `Authenticate` middleware of their group does.
public final class Authenticator: Sendable {
    let keys: APIKeyDirectory

    package init(keys: APIKeyDirectory) { self.keys = keys }

    /// The key presented in `Authorization` (Bearer, or Basic with the key as user name), else
    /// `bodyWriteKey` (Segment's `writeKey` field), granted `scope`.
    public func authenticate(_ request: HTTPRequest, scope: APIScope, bodyWriteKey: String? = nil) throws -> StoredAPIKey {
        let text = try presentedKey(request, bodyWriteKey: bodyWriteKey)
        guard let key = try keys.key(presented: text) else { throw Self.unauthorized("the API key is not valid") }
        return try granted(key, scope: scope)
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

    /// `key` when it has `scope`, else 403.
    func granted(_ key: StoredAPIKey, scope: APIScope) throws -> StoredAPIKey {
        guard scope.isGranted(by: key.scopes) else {
            throw HTTPError(.forbidden, detail: "the API key lacks scope '\(scope.rawValue)'")
        }
        return key
    }

    static func unauthorized(_ detail: String) -> HTTPError {
        HTTPError(.unauthorized, detail: detail, headers: ["WWW-Authenticate": #"Bearer realm="leadrouter", Basic realm="leadrouter""#])
    }
}
