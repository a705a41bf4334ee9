import Foundation

/// Two small rulesets for the version tests: B raises the viewer threshold and adds a segment,
/// so some leads leave, some enter and some stay. Enter rules only (no `exit:`), so a lead's
/// memberships depend on its events alone, not on the order rulesets were applied.
/// (`RulesetChangeTests.before` is the same header with a one-view viewer.)
enum RulesetFixtures {
    static let a = "# note: first cut\n" + RulesetChangeTests.before
        .replacingOccurrences(of: "count(product_viewed, 30d) >= 1", with: "count(product_viewed, 30d) >= 2")
    static let b = RulesetChangeTests.before
        .replacingOccurrences(of: "count(product_viewed, 30d) >= 1", with: "count(product_viewed, 30d) >= 3")
        .replacingOccurrences(of: "segments:\n", with: """
            segments:
              - name: awareness.high-intent.carter
                enter: 'count(added_to_cart, 30d) >= 1'
                route: { email: { sequence: carts } }

            """)

    /// The messages of user `i` (0-based): `i % 5` views and `i % 3` adds.
    static func events(user i: Int) -> [String] {
        Array(repeating: "Product Viewed", count: i % 5) + Array(repeating: "Product Added", count: i % 3)
    }

    static let users = 30

    /// Sends every user's messages, one a minute, with the clock following.
    static func sendHistory(_ service: TestService) throws {
        let client = try service.client()
        for i in 0..<users {
            for event in RulesetFixtures.events(user: i) {
                let r = try client.json("POST", "/v1/events", key: service.ingestKey, [
                    "userId": "u-\(i)", "event": event, "timestamp": iso(service.clock.now)])
                guard r.status == 200 else { throw TestClientError(description: r.text) }
                service.clock.advance(60)
            }
        }
    }

    /// Every lead's current segments, by user id.
    static func memberships(_ service: TestService) throws -> [String: String] {
        let rows = try service.connection().query("""
            SELECT l.user_id, coalesce(string_agg(m.segment::text, ',' ORDER BY m.segment), '') AS segments
            FROM leads l LEFT JOIN memberships m ON m.lead_id = l.id
            WHERE l.merged_into IS NULL GROUP BY l.user_id
            """)
        var out: [String: String] = [:]
        for row in rows { out[try row.decode(String.self, "user_id")] = try row.decode(String.self, "segments") }
        return out
    }
}
