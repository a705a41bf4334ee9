import Foundation
import Postgres
import Segmentation

/// An owner as `GET /v1/owners` shows it: availability, load and team memberships.
public struct OwnerView: Sendable, Equatable {
    public struct Membership: Sendable, Equatable {
        public var team: String
        public var capacity: Int?
        public var territories: [String]
    }
    public var id: String
    public var available: Bool
    public var active: Bool
    public var open: Int
    public var claimed: Int
    public var teams: [Membership]
}

extension Store {
    /// Makes `teams`, `team_members` and `owners` say what the ruleset's `teams:` says: owners are
    /// created as needed (availability is kept), members are replaced in file order, teams the
    /// ruleset no longer has are removed (their items keep their team name).
    public func syncTeams(_ teams: [String: Team]) throws {
        let names = teams.keys.sorted()
        let members = names.flatMap { name in teams[name]!.members.enumerated().map { (name, $0.offset, $0.element) } }
        try connection.execute("DELETE FROM teams WHERE NOT (id = ANY(\(names)::text[]))")
        try connection.execute("""
            INSERT INTO owners (id) SELECT DISTINCT unnest(\(members.map(\.2.id))::text[]) ON CONFLICT (id) DO NOTHING
            """)
        try connection.execute("""
            INSERT INTO teams (id, strategy, escalate_to, territory_fallback)
            SELECT * FROM unnest(\(names)::text[], \(names.map { teams[$0]!.strategy })::text[], \(names.map { teams[$0]!.escalateTo })::text[],
                                 \(names.map { teams[$0]!.territoryFallback })::text[])
            ON CONFLICT (id) DO UPDATE SET strategy = excluded.strategy, escalate_to = excluded.escalate_to,
                                           territory_fallback = excluded.territory_fallback
            """)
        try connection.execute("DELETE FROM team_members WHERE team_id = ANY(\(names)::text[])")
        try connection.execute("""
            INSERT INTO team_members (team_id, owner_id, position, capacity, territories)
            SELECT t, o, p, c, CASE WHEN r = '' THEN '{}'::text[] ELSE string_to_array(r, ',') END
            FROM unnest(\(members.map(\.0))::text[], \(members.map(\.2.id))::text[], \(members.map(\.1))::integer[],
                        \(members.map(\.2.capacity))::integer[], \(members.map { $0.2.territories.map { $0.uppercased() }.joined(separator: ",") })::text[])
                 AS m(t, o, p, c, r)
            """)
        try connection.execute("INSERT INTO round_robin_state (team_id) SELECT unnest(\(names)::text[]) ON CONFLICT DO NOTHING")
    }

    /// Every owner with their open and claimed item counts and team memberships.
    public func owners() throws -> [OwnerView] {
        try connection.query("""
            SELECT o.id, o.available, o.active, coalesce(max(l.open), 0) AS open, coalesce(max(l.claimed), 0) AS claimed,
                   coalesce(array_agg(tm.team_id::text ORDER BY tm.team_id) FILTER (WHERE tm.team_id IS NOT NULL), '{}') AS teams,
                   coalesce(array_agg(coalesce(tm.capacity, -1) ORDER BY tm.team_id) FILTER (WHERE tm.team_id IS NOT NULL), '{}') AS capacities,
                   coalesce(array_agg(array_to_string(tm.territories, ',') ORDER BY tm.team_id) FILTER (WHERE tm.team_id IS NOT NULL), '{}') AS territories
            FROM owners o LEFT JOIN team_members tm ON tm.owner_id = o.id
            LEFT JOIN (SELECT owner_id, count(*) FILTER (WHERE state = 'open') AS open, count(*) FILTER (WHERE state = 'claimed') AS claimed
                       FROM queue_items WHERE owner_id IS NOT NULL AND state <> 'closed' GROUP BY owner_id) l ON l.owner_id = o.id
            GROUP BY o.id ORDER BY o.id
            """).map { row in
            let teams = try row.decode([String].self, "teams")
            let capacities = try row.decode([Int].self, "capacities")
            let territories = try row.decode([String].self, "territories")
            return OwnerView(id: try row.decode(String.self, "id"), available: try row.decode(Bool.self, "available"),
                             active: try row.decode(Bool.self, "active"), open: try row.decode(Int.self, "open"),
                             claimed: try row.decode(Int.self, "claimed"),
                             teams: teams.indices.map { i in
                                 OwnerView.Membership(team: teams[i], capacity: capacities[i] < 0 ? nil : capacities[i],
                                                      territories: territories[i].split(separator: ",").map(String.init))
                             })
        }
    }

    /// Sets an owner's availability; false when there is no such owner.
    public func setOwnerAvailable(_ id: String, available: Bool) throws -> Bool {
        try connection.execute("UPDATE owners SET available = \(available) WHERE id = \(id)") == 1
    }

    /// Gives the accounts (lower-cased domain → owner) to their owners, creating owners as needed.
    public func upsertAccounts(_ accounts: [(domain: String, ownerId: String)], now: Date) throws {
        guard !accounts.isEmpty else { return }
        try connection.execute("INSERT INTO owners (id) SELECT DISTINCT unnest(\(accounts.map(\.ownerId))::text[]) ON CONFLICT DO NOTHING")
        try connection.execute("""
            INSERT INTO accounts (domain, owner_id, created_at, updated_at)
            SELECT DISTINCT ON (d) d, o, \(now), \(now)
            FROM unnest(\(accounts.map { $0.domain.lowercased() })::text[], \(accounts.map(\.ownerId))::text[]) WITH ORDINALITY AS a(d, o, n)
            ORDER BY d, n DESC
            ON CONFLICT (domain) DO UPDATE SET owner_id = excluded.owner_id, updated_at = excluded.updated_at
            """)
    }
}
