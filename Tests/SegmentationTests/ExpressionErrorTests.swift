import XCTest
@testable import Profiles
@testable import RulesTools
@testable import Segmentation

/// Expression-level errors: each with its column inside the rule (the rule text starts at 8:13).
final class ExpressionErrorTests: XCTestCase {
    func enterErrors(_ rule: String, exit: String? = nil) -> [String] {
        var yaml = """
        version: 1
        events: { types: [a, b] }
        stages: [ { stage: decision, when: 'true' } ]
        teams: { t1: { members: [ { id: r } ] } }
        segments:
          - name: decision.x.y
            route: { email: { sequence: s } }
            enter: '\(rule.replacingOccurrences(of: "'", with: "''"))'
        """
        if let exit { yaml += "\n    exit: '\(exit)'" }
        return loadErrors(yaml)
    }

    func testEveryExpressionError() {
        XCTAssertEqual(enterErrors("nope(1)"), ["r.yaml:8:13: unknown function `nope`; functions are count, since, inactive, exists, in_segment, sum, max, min and avg"])
        XCTAssertEqual(enterErrors("in_segment(decision)"), ["r.yaml:8:13: in_segment() takes a segment name in quotes, e.g. in_segment(\"decision.high-intent.cart\")"])
        XCTAssertEqual(enterErrors("count(a where lead.country == \"DE\", 1d) > 0"), ["r.yaml:8:27: inside `where` only event fields (event.type, event.name, event.properties.*, event.context.*) can be used, not `lead.country`: the filter is checked on each counted event"])
        XCTAssertEqual(enterErrors("count(a where count(b, 1d) > 0, 1d) > 0"), ["r.yaml:8:27: `count()` cannot be used inside `where`: the filter is checked on each counted event"])
        XCTAssertEqual(enterErrors("lead.country in [\"DE\", 3]"), ["r.yaml:8:36: a list mixes text and number; keep one kind of value per list"])
        XCTAssertEqual(enterErrors("-lead.country == 1"), ["r.yaml:8:14: cannot negate `lead.country`: it is a text, not a number or duration"])
        XCTAssertEqual(enterErrors("lead.customer < true"), ["r.yaml:8:13: cannot order `lead.customer`: a true/false has no order; use `==` or `!=`"])
        XCTAssertEqual(enterErrors("lead.country in [1, 2]"), ["r.yaml:8:13: `lead.country in [1, 2]`: `lead.country` is a text but the list holds number values, so it can never match"])
        XCTAssertEqual(enterErrors("lead.score > null"), ["r.yaml:8:13: `lead.score > null` is always false: any comparison with null is false; use `== null` or `!= null`"])
        XCTAssertEqual(enterErrors("count(a, 1d) >= 64"), ["r.yaml:8:13: `count(a, 1d)` is compared with a number above 63; counts are kept exactly only up to 64 occurrences per lead"])
        XCTAssertEqual(enterErrors("count(a, 0s) > 1"), ["r.yaml:8:22: the window of count() must be longer than 0s"])
        XCTAssertEqual(enterErrors("count(a) > 1"), ["r.yaml:8:13: count() takes an event type and a window, e.g. count(added_to_cart, 7d)"])
        XCTAssertEqual(enterErrors("since(a, 1d) > 1d"), ["r.yaml:8:13: since() takes one event type, e.g. since(added_to_cart)"])
        XCTAssertEqual(enterErrors("inactive(a) "), ["r.yaml:8:22: unknown name `a`: put text in quotes ('a') or start a field with `lead.` or `event.`"])
        XCTAssertEqual(enterErrors("lead.traits"), ["r.yaml:8:13: unknown field `lead.traits`: name a trait, e.g. lead.traits.plan"])
        XCTAssertEqual(enterErrors("event.properties"), ["r.yaml:8:13: unknown field `event.properties`: name a key, e.g. event.properties.path"])
        XCTAssertEqual(enterErrors("membership.x > 1"), ["r.yaml:8:13: unknown field `membership.x` (did you mean `membership.age`?)"])
        XCTAssertEqual(enterErrors("foo.bar == 1"), ["r.yaml:8:13: unknown field `foo.bar`: fields start with `lead.`, `event.` or `membership.`"])
        XCTAssertEqual(enterErrors("lead.country + 1 > 2"), ["r.yaml:8:13: cannot compute `lead.country + 1`: text + number is not defined"])
        XCTAssertEqual(enterErrors("lead.company.tech_stack > 1"), ["r.yaml:8:13: cannot order `lead.company.tech_stack`: a list of text has no order; use `==` or `!=`"])
        XCTAssertEqual(enterErrors("lead.country contains 3"), ["r.yaml:8:35: `lead.country contains 3`: only text can be found inside text, but `3` is a number"])
        XCTAssertEqual(enterErrors("1 contains 1"), ["r.yaml:8:13: `1 contains 1`: `1` is a number; `contains` needs a list or text"])
        XCTAssertEqual(enterErrors("[lead.country] == [\"DE\"]"), ["r.yaml:8:14: list items must be fixed values; `lead.country` depends on the lead or event"])
        XCTAssertEqual(enterErrors("(1 > 2"), ["r.yaml:8:19: expected `)` to close the `(`, found end of rule"])
        XCTAssertEqual(enterErrors("count(3, 1d) > 1"), ["r.yaml:8:19: `count` needs an event type first, e.g. count(added_to_cart, 7d); found number `3`"])
        XCTAssertEqual(enterErrors("\"a\" ~ 1"), ["r.yaml:8:17: unexpected character `~`"])
        // Value aggregates: an event property first, a fixed window, a known type.
        XCTAssertEqual(enterErrors("sum(a, 7d) > 1"), ["r.yaml:8:18: `sum` needs an event type and a numeric property, e.g. sum(completed_checkout.revenue, 365d); found `,`"])
        XCTAssertEqual(enterErrors("max(a.v) > 1"), ["r.yaml:8:13: max() takes an event property and a window, e.g. max(completed_checkout.revenue, 365d)"])
        XCTAssertEqual(enterErrors("avg(c.v, 7d) > 1"), ["r.yaml:8:17: unknown event type `c`; known types are the alias targets, page_viewed, the keys of statuses.on_event and events.types"])
        XCTAssertEqual(enterErrors("min(a.v, lead.score) > 1"), ["r.yaml:8:22: the window of min() must be a fixed duration such as 7d, but `lead.score` is not fixed"])
        XCTAssertEqual(enterErrors("a.v > 1"), ["r.yaml:8:13: unknown field `a.v`: fields start with `lead.`, `event.` or `membership.`"])
        XCTAssertEqual(enterErrors("sum(a.v, 7d) == 'x'"), ["r.yaml:8:13: cannot compare `sum(a.v, 7d)` (number) with `\"x\"` (text) in `sum(a.v, 7d) == \"x\"`; they can never be equal"])
        // An unquoted event name with a space points at the name.
        XCTAssertEqual(enterErrors("count(Product Viewed, 7d) > 1"), ["r.yaml:8:19: `Product Viewed` looks like an event name with spaces: rules use one-word event types: write count(product_viewed…) and map the incoming name under events.aliases (`\"Product Viewed\": product_viewed`)"])
        XCTAssertEqual(enterErrors("lead.score > 'x' or"), ["r.yaml:8:34: the rule ends too early: a value is missing"])
    }

    func testSectionErrors() {
        let y = """
        version: 1
        stages: [ { stage: decision, when: 'true' } ]
        scoring:
          rules: [ { when: 'true', points: 1, cap: 0 } ]
          bands: [ { below: 10, action: a }, { below: 5, action: b }, { action: c } ]
        teams:
          t1: { strategy: random, members: [ { capacity: 3 } ], escalate_to: t9 }
        segments:
          - { name: awareness.x.y, enter: 'true' }
          - { enter: 'true' }
          - { name: decision.x.z }
          - { name: decision.x.w, enter: 'true', route: { email: {}, ads: { landing_page: /x }, sales: { team: t1 } } }
          - { name: decision.x.v, enter: 'true', exit: 'membership.age > lead.score * 1d' }
        """
        XCTAssertEqual(loadErrors(y), [
            "r.yaml:4:44: `cap` must be more than 0 (it is the most points this rule can contribute)",
            "r.yaml:5:47: bands must be in increasing order of `below` (5 comes after 10)",
            "r.yaml:7:19: unknown strategy `random`; use round_robin, least_loaded or territory",
            "r.yaml:7:38: a team member needs an `id`",
            "r.yaml:7:70: unknown team `t9` in `escalate_to`",
            "r.yaml:9:13: segment `awareness.x.y` starts with `awareness`, which is not a stage; stages are decision",
            "r.yaml:10:5: a segment needs a `name` like decision.high-intent.cart",
            "r.yaml:11:5: segment `decision.x.z` needs an `enter` rule",
            "r.yaml:12:58: `route.email` needs a `sequence`",
            "r.yaml:12:67: `route.ads` needs an `audience`",
            "r.yaml:12:96: `route.sales` needs a `queue`",
            "r.yaml:13:49: `membership.age` must be compared with a fixed value (e.g. `membership.age > 3d`) so the lead can be re-evaluated exactly when it changes",
            "r.yaml:13:66: `lead.score` must be compared with a fixed value (e.g. `lead.score >= 50`) so the lead can be re-evaluated exactly when it changes"
        ])
    }
}

extension ExpressionErrorTests {
    func testScopeRestrictions() {
        XCTAssertEqual(loadErrors("""
        version: 1
        stages: [ { stage: decision, when: 'in_segment("decision.x.y")' } ]
        segments:
          - { name: decision.x.y, enter: 'true', route: { email: { sequence: s } } }
        """), ["r.yaml:2:37: in_segment() can only be used in segment rules and `suppress`"])
        XCTAssertEqual(loadErrors("""
        version: 1
        scoring: { rules: [ { when: 'membership.age > 1d', points: 1 } ] }
        segments: []
        """), ["r.yaml:2:30: `membership.age` can only be used in a segment's `exit` (it is how long the lead has been a member)"])
    }
}
