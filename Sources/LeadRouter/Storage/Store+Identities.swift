import Foundation
import Postgres

/// An identity key of a lead: `user_id`, `email` (normalised) or `anonymous_id`.
public struct IdentityKey: Hashable, Sendable {
    public enum Kind: String, Sendable, CaseIterable { case userId = "user_id", email, anonymousId = "anonymous_id" }
    public var kind: Kind
    public var value: String
    public init(_ kind: Kind, _ value: String) { self.kind = kind; self.value = value }

    /// The advisory-lock key and lane shard of this identity.
    public var hash: Int64 { identityKeyHash(kind: kind.rawValue, value: value) }
}

extension Store {
    /// The lead each known key points to.
    public func resolve(_ keys: [IdentityKey]) throws -> [IdentityKey: UUID] {
        guard !keys.isEmpty else { return [:] }
        let rows = try connection.query("""
            SELECT i.kind, i.value, i.lead_id FROM identities i
            JOIN unnest(\(keys.map(\.kind.rawValue))::text[], \(keys.map(\.value))::text[]) AS k(kind, value)
              ON i.kind = k.kind AND i.value = k.value
            """)
        var found: [IdentityKey: UUID] = [:]
        for row in rows {
            guard let kind = IdentityKey.Kind(rawValue: try row.decode(String.self, "kind")) else { continue }
            found[IdentityKey(kind, try row.decode(String.self, "value"))] = try row.decode(UUID.self, "lead_id")
        }
        return found
    }

    /// Attaches keys to a lead; keys that already exist keep their lead (the caller merged first).
    public func attach(_ keys: [IdentityKey], to lead: UUID) throws {
        guard !keys.isEmpty else { return }
        try connection.execute("""
            INSERT INTO identities (kind, value, lead_id)
            SELECT kind, value, \(lead) FROM unnest(\(keys.map(\.kind.rawValue))::text[], \(keys.map(\.value))::text[]) AS k(kind, value)
            ON CONFLICT (kind, value) DO NOTHING
            """)
    }

    /// Moves every identity and event of `losers` to `survivor` (a merge).
    public func moveIdentitiesAndEvents(from losers: [UUID], to survivor: UUID) throws {
        try connection.execute("UPDATE identities SET lead_id = \(survivor) WHERE lead_id = ANY(\(losers))")
        try connection.execute("UPDATE events SET lead_id = \(survivor) WHERE lead_id = ANY(\(losers))")
    }

    /// A lead's identities by kind, for the read API.
    public func identities(of lead: UUID) throws -> [IdentityKey] {
        try connection.query("SELECT kind, value FROM identities WHERE lead_id = \(lead) ORDER BY created_at, value").compactMap { row in
            guard let kind = IdentityKey.Kind(rawValue: try row.decode(String.self, "kind")) else { return nil }
            return IdentityKey(kind, try row.decode(String.self, "value"))
        }
    }
}
