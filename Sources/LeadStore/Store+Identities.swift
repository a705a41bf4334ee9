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
        return try Self.decodeResolved(connection.query(resolveQuery(keys)))
    }

    /// One round trip for the start of ingest: advisory locks on the identity keys (so the
    /// idempotency check and resolution below see every earlier writer of these keys), the
    /// answer already given to `messageId` if any, the leads of the keys, and which of the keys
    /// are suppressed (erased with "suppress").
    public func lockCheckAndResolve(_ keys: [IdentityKey], writeKey: UUID, messageId: String?)
        throws -> (processed: ProcessedMessage?, found: [IdentityKey: UUID], suppressed: Set<IdentityKey>) {
        var queries: [PostgresQuery] = [Self.ingestPlansAndLocks(keys)]
        /// Adds a statement and returns where its result will be: positions are taken as the
        /// pipeline is built, never computed from which statements happen to be present.
        func add(_ query: PostgresQuery) -> Int { queries.append(query); return queries.count - 1 }
        let processedResult = messageId.map { messageId in
            add("""
                SELECT \(unsafeRaw: Self.processedColumns) FROM processed_messages p
                WHERE p.write_key_id = \(writeKey) AND p.message_id = \(messageId)
                """)
        }
        let resolvedResult = keys.isEmpty ? nil : add(resolveQuery(keys))
        let suppressedResult = keys.isEmpty ? nil : add(suppressedKeysQuery(keys))
        let results = try connection.pipeline(queries)
        var processed: ProcessedMessage?
        if let processedResult, let row = results[processedResult].first {
            let record = try Self.decodeProcessed(row)
            processed = try Self.withStoredDecision(record, Self.storedDecisionsQuery([record]).map { try connection.query($0) })
        }
        let found = try resolvedResult.map { try Self.decodeResolved(results[$0]) } ?? [:]
        let suppressed = try suppressedResult.map { try Self.decodeKeys(results[$0]) } ?? []
        return (processed, found, suppressed)
    }

    func resolveQuery(_ keys: [IdentityKey]) -> PostgresQuery {
        """
            SELECT i.kind, i.value, i.lead_id FROM identities i
            JOIN unnest(\(keys.map(\.kind.rawValue))::text[], \(keys.map(\.value))::text[]) AS k(kind, value)
              ON i.kind = k.kind AND i.value = k.value
            """
    }

    static func decodeResolved(_ rows: PostgresRows) throws -> [IdentityKey: UUID] {
        var found: [IdentityKey: UUID] = [:]
        for row in rows {
            guard let kind = IdentityKey.Kind(rawValue: try row.decode(String.self, "kind")) else { continue }
            found[IdentityKey(kind, try row.decode(String.self, "value"))] = try row.decode(UUID.self, "lead_id")
        }
        return found
    }

    /// Moves every identity and event of `losers` to `survivor` (a merge). Identities are
    /// distributed by value on Citus, so their lead_id is an ordinary column; events are copied
    /// (`moveEventsQuery`).
    public func moveIdentitiesAndEvents(from losers: [UUID], to survivor: UUID) throws {
        try connection.execute("UPDATE identities SET lead_id = \(survivor) WHERE lead_id = ANY(\(losers))")
        try connection.execute(Self.moveEventsQuery(from: losers, to: survivor))
    }

    /// A lead's identities by kind, for the read API.
    public func identities(of lead: UUID) throws -> [IdentityKey] {
        try identities(of: [lead])[lead] ?? []
    }
}
