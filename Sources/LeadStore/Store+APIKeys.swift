import Foundation
import Postgres

/// A stored API key as authentication sees it.
public struct StoredAPIKey: Sendable, Equatable {
    public var id: UUID
    public var name: String
    public var scopes: Set<APIScope>
    /// When set, `POST /v1/events` with this key must carry a valid `X-Leadrouter-Signature`.
    public var signingSecret: String?
}

extension Store {
    /// Stores a new key (hash only) and returns its id.
    public func createAPIKey(name: String, key: NewAPIKey, scopes: Set<APIScope>, signingSecret: String? = nil) throws -> UUID {
        let scopeList = scopes.map(\.rawValue).sorted()
        return try connection.query("""
            INSERT INTO api_keys (name, hash, prefix, scopes, signing_secret)
            VALUES (\(name), \(Data(key.hash)), \(key.prefix), \(scopeList), \(signingSecret))
            RETURNING id
            """).scalar(UUID.self)
    }

    /// The unrevoked key whose SHA-256 is `hash`, or nil.
    public func apiKey(hash: [UInt8]) throws -> StoredAPIKey? {
        let rows = try connection.query("""
            SELECT id, name, scopes, signing_secret FROM api_keys WHERE hash = \(Data(hash)) AND revoked_at IS NULL
            """)
        guard let row = rows.first else { return nil }
        let scopes = try row.decode([String].self, "scopes").compactMap(APIScope.init(rawValue:))
        return StoredAPIKey(id: try row.decode(UUID.self, "id"), name: try row.decode(String.self, "name"),
                            scopes: Set(scopes), signingSecret: try row.decode(String?.self, "signing_secret"))
    }
}
