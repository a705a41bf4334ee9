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
}
