import Foundation
import Postgres

/// A stored API key as authentication sees it.
public struct StoredAPIKey: Sendable, Equatable {
    public var id: UUID
    public var name: String
    public var scopes: Set<APIScope>
    /// When set, `POST /v1/events` with this key must carry a valid `X-Leadrouter-Signature`.
    public var signingSecret: String?
    /// A browser/app write key: `ingest` only, and only the Segment-compatible endpoints.
    public var isPublic: Bool = false
    /// An owner-bound key claims, acks and releases queue items only as this owner.
    public var ownerId: String?
    /// Set by a rotation: the key stops working at this instant (its grace period ends).
    public var expiresAt: Date?
    /// The browser origins allowed with this key (CORS); nil follows `ingest.cors_allowed_origins`.
    public var corsAllowedOrigins: AllowedOrigins?

    /// Whether the key has stopped working by `now` (a rotated key past its grace period).
    public func isExpired(at now: Date) -> Bool { expiresAt.map { $0 <= now } ?? false }
}

/// A key as operators list it: never the secret, the signing secret or the hash.
public struct APIKeyListing: Sendable, Equatable {
    public var id: UUID
    public var name: String
    /// `lr_` + 8 hex: enough to recognise a key, useless to use it.
    public var prefix: String?
    public var scopes: [APIScope]
    public var isPublic: Bool
    public var ownerId: String?
    /// Whether requests must be signed (the secret itself is never shown again).
    public var signed: Bool
    public var createdAt: Date
    /// Coarse: written at most once a minute per key.
    public var lastUsedAt: Date?
    public var revokedAt: Date?
    /// End of a rotated key's grace period.
    public var expiresAt: Date?
    /// The key a rotation replaced.
    public var rotatedFrom: UUID?
    /// Its own CORS origins, or nil (the global default applies).
    public var corsAllowedOrigins: AllowedOrigins?

    static let columns = "id, name, prefix, scopes, public, owner_id, signing_secret IS NOT NULL AS signed, created_at, last_used_at, revoked_at, expires_at, rotated_from, cors_allowed_origins"

    init(row: PostgresRow) throws {
        id = try row.decode(UUID.self, "id"); name = try row.decode(String.self, "name")
        prefix = try row.decode(String?.self, "prefix")
        scopes = try row.decode([String].self, "scopes").compactMap(APIScope.init(rawValue:)).sorted()
        isPublic = try row.decode(Bool.self, "public"); ownerId = try row.decode(String?.self, "owner_id")
        signed = try row.decode(Bool.self, "signed"); createdAt = try row.decode(Date.self, "created_at")
        lastUsedAt = try row.decode(Date?.self, "last_used_at"); revokedAt = try row.decode(Date?.self, "revoked_at")
        expiresAt = try row.decode(Date?.self, "expires_at"); rotatedFrom = try row.decode(UUID?.self, "rotated_from")
        corsAllowedOrigins = try Self.origins(row)
    }

    /// `cors_allowed_origins` as stored (checked when written; an unreadable list allows nothing).
    static func origins(_ row: PostgresRow) throws -> AllowedOrigins? {
        try row.decode([String]?.self, "cors_allowed_origins").map { (try? AllowedOrigins.parse(list: $0)) ?? .none }
    }
}

/// The settings a key is created with (and a rotation copies).
public struct APIKeySettings: Sendable, Equatable {
    public var name: String
    public var scopes: Set<APIScope>
    public var signingSecret: String?
    public var isPublic: Bool
    public var ownerId: String?
    /// The key's own CORS origins; nil follows the global default.
    public var corsAllowedOrigins: AllowedOrigins?

    public init(name: String, scopes: Set<APIScope>, signingSecret: String? = nil, isPublic: Bool = false, ownerId: String? = nil,
                corsAllowedOrigins: AllowedOrigins? = nil) {
        self.name = name; self.scopes = scopes; self.signingSecret = signingSecret; self.isPublic = isPublic; self.ownerId = ownerId
        self.corsAllowedOrigins = corsAllowedOrigins
    }
}

extension Store {
    /// Stores a new key (hash only) and returns its id.
    public func createAPIKey(name: String, key: NewAPIKey, scopes: Set<APIScope>, signingSecret: String? = nil) throws -> UUID {
        try createAPIKey(key: key, settings: APIKeySettings(name: name, scopes: scopes, signingSecret: signingSecret))
    }

    /// Stores a new key with `settings` (checked with `APIKeySettings.validate` first by callers);
    /// `rotatedFrom` names the key a rotation replaces.
    public func createAPIKey(key: NewAPIKey, settings: APIKeySettings, rotatedFrom: UUID? = nil) throws -> UUID {
        let scopeList = settings.scopes.map(\.rawValue).sorted()
        return try connection.query("""
            INSERT INTO api_keys (name, hash, prefix, scopes, signing_secret, public, owner_id, rotated_from, cors_allowed_origins)
            VALUES (\(settings.name), \(Data(key.hash)), \(key.prefix), \(scopeList), \(settings.signingSecret),
                    \(settings.isPublic), \(settings.ownerId), \(rotatedFrom), \(settings.corsAllowedOrigins?.list))
            RETURNING id
            """).scalar(UUID.self)
    }

    /// The unrevoked, unexpired key whose SHA-256 is `hash`, or nil.
    public func apiKey(hash: [UInt8]) throws -> StoredAPIKey? {
        let rows = try connection.query("""
            SELECT id, name, scopes, signing_secret, public, owner_id, expires_at, cors_allowed_origins FROM api_keys
            WHERE hash = \(Data(hash)) AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())
            """)
        guard let row = rows.first else { return nil }
        let scopes = try row.decode([String].self, "scopes").compactMap(APIScope.init(rawValue:))
        return StoredAPIKey(id: try row.decode(UUID.self, "id"), name: try row.decode(String.self, "name"),
                            scopes: Set(scopes), signingSecret: try row.decode(String?.self, "signing_secret"),
                            isPublic: try row.decode(Bool.self, "public"), ownerId: try row.decode(String?.self, "owner_id"),
                            expiresAt: try row.decode(Date?.self, "expires_at"), corsAllowedOrigins: try APIKeyListing.origins(row))
    }

    /// Every key, oldest first (revoked and expired ones included).
    public func apiKeys() throws -> [APIKeyListing] {
        try connection.query("SELECT \(unsafeRaw: APIKeyListing.columns) FROM api_keys ORDER BY created_at, id").map(APIKeyListing.init(row:))
    }

    /// One key by id, or nil.
    public func apiKey(id: UUID) throws -> APIKeyListing? {
        try connection.query("SELECT \(unsafeRaw: APIKeyListing.columns) FROM api_keys WHERE id = \(id)").first.map(APIKeyListing.init(row:))
    }

    /// Revokes key `id` now (a key already revoked keeps its time); nil when there is no such key.
    /// The UPDATE touches only a key not revoked yet and the key is read after it, in one round
    /// trip: `coalesce(revoked_at, now())` is refused by Citus (a non-IMMUTABLE function in
    /// COALESCE in an UPDATE; `api_keys` is a reference table there).
    public func revokeAPIKey(id: UUID) throws -> APIKeyListing? {
        try connection.pipeline([
            "UPDATE api_keys SET revoked_at = now() WHERE id = \(id) AND revoked_at IS NULL",
            "SELECT \(unsafeRaw: APIKeyListing.columns) FROM api_keys WHERE id = \(id)",
        ])[1].first.map(APIKeyListing.init(row:))
    }

    /// Key `id` locked for a rotation, with its settings (the signing secret included), or nil.
    public func apiKeyForRotation(id: UUID) throws -> (listing: APIKeyListing, settings: APIKeySettings)? {
        guard let row = try connection.query("""
            SELECT \(unsafeRaw: APIKeyListing.columns), signing_secret FROM api_keys WHERE id = \(id) FOR UPDATE
            """).first else { return nil }
        let listing = try APIKeyListing(row: row)
        return (listing, APIKeySettings(name: listing.name, scopes: Set(listing.scopes), signingSecret: try row.decode(String?.self, "signing_secret"),
                                        isPublic: listing.isPublic, ownerId: listing.ownerId, corsAllowedOrigins: listing.corsAllowedOrigins))
    }

    /// Sets key `id`'s own CORS origins (nil: back to the global default); nil when there is no such key.
    public func setCORSOrigins(id: UUID, _ origins: AllowedOrigins?) throws -> APIKeyListing? {
        try connection.query("""
            UPDATE api_keys SET cors_allowed_origins = \(origins?.list) WHERE id = \(id)
            RETURNING \(unsafeRaw: APIKeyListing.columns)
            """).first.map(APIKeyListing.init(row:))
    }

    /// Every origin some working key allows on its own (for CORS preflights, which carry no key).
    public func corsOriginsOfWorkingKeys() throws -> AllowedOrigins {
        let lists = try connection.query("""
            SELECT cors_allowed_origins FROM api_keys
            WHERE cors_allowed_origins IS NOT NULL AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())
            """).map { try $0.decode([String].self, "cors_allowed_origins") }
        return lists.reduce(AllowedOrigins.none) { $0.union((try? AllowedOrigins.parse(list: $1)) ?? .none) }
    }

    /// Ends key `id`'s life `graceSeconds` from now (an earlier end it already has is kept).
    public func expireAPIKey(id: UUID, graceSeconds: Int) throws -> Date {
        try connection.query("""
            UPDATE api_keys SET expires_at = least(coalesce(expires_at, 'infinity'), now() + make_interval(secs => \(graceSeconds)))
            WHERE id = \(id) RETURNING expires_at
            """).scalar(Date.self)
    }

    /// Records when keys were last used: one UPDATE for the lot, and only for a key whose
    /// `last_used_at` is a minute or more older (so several nodes together still write a key at
    /// most once a minute). Returns how many rows were written. The cutoff is computed here:
    /// Citus refuses timestamptz arithmetic (a STABLE operator) on a column in an UPDATE.
    @discardableResult
    public func recordAPIKeyUse(_ uses: [(id: UUID, at: Date)], minimumSeconds: Double) throws -> Int {
        guard !uses.isEmpty else { return 0 }
        return try connection.query("""
            WITH used AS (SELECT * FROM unnest(\(uses.map(\.id))::uuid[], \(uses.map(\.at))::timestamptz[],
                                               \(uses.map { $0.at.addingTimeInterval(-minimumSeconds) })::timestamptz[]) AS u(id, at, cutoff)),
            written AS (
                UPDATE api_keys k SET last_used_at = used.at FROM used
                WHERE k.id = used.id AND (k.last_used_at IS NULL OR k.last_used_at <= used.cutoff)
                RETURNING 1)
            SELECT count(*) FROM written
            """).scalar(Int.self)
    }
}
