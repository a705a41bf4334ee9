import Foundation
import Postgres

/// Why key settings were refused: each problem with the field it is about (a JSON pointer of
/// the API's body, `/scopes`; the CLI prints the detail).
public struct APIKeySettingsError: Error, Sendable, Equatable, CustomStringConvertible {
    public var problems: [(pointer: String, detail: String)]
    public var description: String { problems.map(\.detail).joined(separator: "; ") }

    public static func == (a: Self, b: Self) -> Bool {
        a.problems.map(\.pointer) == b.problems.map(\.pointer) && a.problems.map(\.detail) == b.problems.map(\.detail)
    }
}

extension APIKeySettings {
    /// Owner ids as the ruleset spells them (`rep_anna`); the same shape the table checks.
    public static let ownerPattern = "^[A-Za-z0-9][A-Za-z0-9_.@-]{0,127}$"

    /// Checks the rules of a key's settings: a public key carries only `ingest` and neither a
    /// signing secret (it would ship with the key) nor an owner; an owner-bound key is never
    /// `admin` (it could mint itself an unbound key).
    public func validate() throws(APIKeySettingsError) {
        var problems: [(String, String)] = []
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty || name.count > 200 { problems.append(("/name", "the name must be 1 to 200 characters")) }
        if scopes.isEmpty { problems.append(("/scopes", "a key needs at least one scope")) }
        if isPublic {
            if scopes != [.ingest] { problems.append(("/scopes", "a public key carries only scope 'ingest'")) }
            if signingSecret != nil { problems.append(("/signing_secret", "a public key cannot have a signing secret: it would ship with the key")) }
            if ownerId != nil { problems.append(("/owner", "a public key cannot be bound to an owner")) }
        }
        if let secret = signingSecret, secret.isEmpty || secret.utf8.count > 512 {
            problems.append(("/signing_secret", "the signing secret must be 1 to 512 bytes"))
        }
        if let owner = ownerId {
            if owner.range(of: Self.ownerPattern, options: .regularExpression) == nil {
                problems.append(("/owner", "the owner must match \(Self.ownerPattern)"))
            }
            if scopes.contains(.admin) { problems.append(("/scopes", "an owner-bound key cannot have scope 'admin'")) }
        }
        if !problems.isEmpty { throw APIKeySettingsError(problems: problems) }
    }
}

/// The key lifecycle for operators (`/v1/keys`, `leadrouter keys`): list, create, revoke,
/// rotate. Revoking or rotating on a node forgets the key in that node's `APIKeyDirectory` at
/// once; other nodes drop their cached copy within the directory's `cacheSeconds`.
package final class KeyAdmin: Sendable {
    /// The default grace period of a rotated key: a day to roll the new key out.
    public static let defaultGraceSeconds = 86_400
    /// The longest grace period (30 days).
    public static let maxGraceSeconds = 30 * 86_400

    let pool: PostgresPool
    let directory: APIKeyDirectory?

    package init(pool: PostgresPool, directory: APIKeyDirectory?) {
        self.pool = pool; self.directory = directory
    }

    /// A key just created: what lists show, and the plaintext, shown this once.
    public struct Created: Sendable {
        public var key: APIKeyListing
        public var plaintext: String
    }

    /// What a rotation did.
    public enum Rotation: Sendable {
        /// The new key, and the old one with its `expires_at` (the end of its grace period).
        case rotated(new: Created, old: APIKeyListing)
        case notFound
        /// The key is revoked or past its grace period: nothing to rotate.
        case ended(String)
    }

    package func keys() throws -> [APIKeyListing] { try pool.withConnection { try Store($0).apiKeys() } }

    /// Creates a key after `settings.validate()`.
    package func create(_ settings: APIKeySettings) throws -> Created {
        try settings.validate()
        return try pool.withConnection { try Self.create(settings, on: $0) }
    }

    /// Revokes key `id` (nil: no such key) and forgets it on this node at once.
    package func revoke(_ id: UUID) throws -> APIKeyListing? {
        let revoked = try pool.withConnection { try Store($0).revokeAPIKey(id: id) }
        if revoked != nil { directory?.forget(keyID: id) }
        return revoked
    }

    /// Sets key `id`'s own CORS origins (nil: the global default again) and forgets the key on
    /// this node at once (other nodes within their cache time); nil when there is no such key.
    package func setCORSOrigins(_ id: UUID, _ origins: AllowedOrigins?) throws -> APIKeyListing? {
        let changed = try pool.withConnection { try Store($0).setCORSOrigins(id: id, origins) }
        if changed != nil { directory?.forget(keyID: id) }
        return changed
    }

    /// A new key with `id`'s settings; `id` keeps working for `graceSeconds`, then stops.
    package func rotate(_ id: UUID, graceSeconds: Int) throws -> Rotation {
        let result = try pool.withTransaction { try Self.rotate(id, graceSeconds: graceSeconds, on: $0) }
        if case .rotated = result { directory?.forget(keyID: id) }
        return result
    }

    /// `create` on a connection (the CLI's).
    package static func create(_ settings: APIKeySettings, on connection: PostgresConnection) throws -> Created {
        let key = NewAPIKey.generate()
        let store = Store(connection)
        let id = try store.createAPIKey(key: key, settings: settings)
        return Created(key: try store.apiKey(id: id)!, plaintext: key.plaintext)
    }

    /// `rotate` in the caller's transaction (the CLI's).
    package static func rotate(_ id: UUID, graceSeconds: Int, on connection: PostgresConnection) throws -> Rotation {
        let store = Store(connection)
        guard let (old, settings) = try store.apiKeyForRotation(id: id) else { return .notFound }
        if old.revokedAt != nil { return .ended("the key is revoked") }
        if let expires = old.expiresAt, expires <= Date() { return .ended("the key's grace period has ended") }
        let key = NewAPIKey.generate()
        let newID = try store.createAPIKey(key: key, settings: settings, rotatedFrom: id)
        _ = try store.expireAPIKey(id: id, graceSeconds: graceSeconds)
        return .rotated(new: Created(key: try store.apiKey(id: newID)!, plaintext: key.plaintext), old: try store.apiKey(id: id)!)
    }
}
