import XCTest
@testable import Profiles
@testable import RulesTools
@testable import Segmentation

/// Every load error with its exact file position and message.
final class LoadErrorTests: XCTestCase {
    let base = """
    version: 1
    events:
      types: [viewed, carted]
    teams:
      t1: { members: [ { id: a } ] }
    segments:

    """

    func errors(_ segments: String) -> [String] { loadErrors(base + segments) }

    func testTypeMismatch() {
        XCTAssertEqual(errors("  - { name: decision.x.y, enter: 'lead.country > 3' }"),
                       ["r.yaml:7:35: cannot compare `lead.country` (text) with `3` (number) using `>`"])
    }

    func testUnknownEventTypeWithSuggestion() {
        XCTAssertEqual(errors("  - { name: decision.x.y, enter: 'count(viewd, 7d) >= 1' }"),
                       ["r.yaml:7:41: unknown event type `viewd` (did you mean `viewed`?); known types are the alias targets, page_viewed, the keys of statuses.on_event and events.types"])
    }

    func testUnknownPath() {
        XCTAssertEqual(errors("  - { name: decision.x.y, enter: 'lead.contry == \"DE\"' }"),
                       ["r.yaml:7:35: unknown field `lead.contry` (did you mean `lead.country`?)"])
        XCTAssertEqual(errors("  - { name: decision.x.y, enter: 'country == \"DE\"' }"),
                       ["r.yaml:7:35: unknown name `country` (did you mean `lead.country`?): put text in quotes ('country') or start a field with `lead.` or `event.`"])
    }

    func testBadDurationInRuleAndField() {
        XCTAssertEqual(errors("  - name: decision.x.y\n    enter: count(viewed, 7x) >= 1"),
                       ["r.yaml:8:26: `7x` is not a duration: write a whole number followed by s, m, h, d or w (e.g. 30s, 15m, 2h, 7d, 4w)"])
        XCTAssertEqual(errors("  - name: decision.x.y\n    enter: 'true'\n    route: { sales: { queue: q, sla: 15 minutes } }"),
                       ["r.yaml:9:38: `sla` `15 minutes` is not a duration: write a whole number followed by s, m, h, d or w (e.g. 30s, 15m, 2h, 7d, 4w)"])
    }

    func testBadSegmentNameAndDuplicate() {
        XCTAssertEqual(errors("  - name: Decision_x\n    enter: 'true'"),
                       ["r.yaml:7:11: segment name `Decision_x` must look like <stage>.<intent>.<theme> in lower case, e.g. decision.high-intent.cart"])
        XCTAssertEqual(errors("  - name: decision.x.y\n    enter: 'true'\n  - name: decision.x.y\n    enter: 'true'"),
                       ["r.yaml:9:11: duplicate segment `decision.x.y`: segment names must be unique"])
    }

    func testUnknownKeyTypoGuard() {
        XCTAssertEqual(errors("  - name: decision.x.y\n    priorty: 3\n    enter: 'true'"),
                       ["r.yaml:8:5: unknown key `priorty` in a segment (did you mean `priority`?); allowed: name, description, owner, priority, enter, exit, route, goal, score"])
        XCTAssertEqual(loadErrors("version: 1\nsegment: []\n"), [
            "r.yaml:1:1: the ruleset needs a `segments:` list",
            "r.yaml:2:1: unknown key `segment` in the ruleset (did you mean `segments`?); allowed: version, events, sources, stages, statuses, scoring, suppress, consent, teams, routing, segments, sales, owners, key_events, interest, caps, bands",
        ])
    }

    func testUnknownTeam() {
        XCTAssertEqual(errors("  - name: decision.x.y\n    enter: 'true'\n    route: { sales: { queue: q, team: t2 } }"),
                       ["r.yaml:9:39: unknown team `t2`; define it under `teams:`"])
    }

    func testInSegmentCycleAndUnknown() {
        XCTAssertEqual(errors("  - name: decision.x.y\n    enter: 'in_segment(\"decision.x.z\")'\n  - name: decision.x.z\n    enter: 'in_segment(\"decision.x.y\")'"),
                       ["r.yaml:7:11: in_segment() cycle: decision.x.y → decision.x.z → decision.x.y; a segment cannot depend on itself"])
        XCTAssertEqual(errors("  - name: decision.x.y\n    enter: 'in_segment(\"decision.x.y\")'"),
                       ["r.yaml:7:11: in_segment() cycle: decision.x.y → decision.x.y; a segment cannot depend on itself"])
        XCTAssertEqual(errors("  - name: decision.x.y\n    enter: 'in_segment(\"decision.x.q\")'"),
                       ["r.yaml:8:24: unknown segment \"decision.x.q\" in in_segment() (did you mean `decision.x.y`?)"])
    }

    func testMembershipAgeOutsideExit() {
        XCTAssertEqual(errors("  - name: decision.x.y\n    enter: 'membership.age > 3d'"),
                       ["r.yaml:8:13: `membership.age` can only be used in a segment's `exit` (it is how long the lead has been a member)"])
    }

    func testSyntaxErrorsPointIntoTheFile() {
        XCTAssertEqual(errors("  - name: decision.x.y\n    enter: \"lead.score >\""),
                       ["r.yaml:8:25: the rule ends too early: a value is missing"])
        // Folded block scalars map back to the right line.
        XCTAssertEqual(errors("  - name: decision.x.y\n    enter: >-\n      count(viewed, 7d) >= 1 and\n      lead.country > 3"),
                       ["r.yaml:10:7: cannot compare `lead.country` (text) with `3` (number) using `>`"])
        XCTAssertEqual(errors("  - { name: decision.x.y, enter: 'lead.score = 3' }"),
                       ["r.yaml:7:46: `=` is not an operator: use `==` to compare"])
        XCTAssertEqual(errors("  - { name: decision.x.y, enter: '1 < 2 < 3' }"),
                       ["r.yaml:7:41: comparisons cannot be chained (`<` then `<`): join them with `and`"])
        XCTAssertEqual(errors("  - { name: decision.x.y, enter: 'lead.score' }"),
                       ["r.yaml:7:35: an `enter` rule must be true or false, but `lead.score` is a number"])
    }

    func testTimeValuesMustBeComparedWithConstants() {
        XCTAssertEqual(errors("  - name: decision.x.y\n    enter: 'since(viewed) + 1d > 3d'"),
                       ["r.yaml:8:13: `since(viewed)` must be compared with a fixed value (e.g. `since(viewed) > 3d`) so the lead can be re-evaluated exactly when it changes"])
        XCTAssertEqual(errors("  - name: decision.x.y\n    enter: 'count(viewed, lead.score * 1d) > 1'"),
                       ["r.yaml:8:27: the window of count() must be a fixed duration such as 7d, but `lead.score * 1d` is not fixed"])
    }

    func testManyErrorsAreAllReported() {
        let yaml = """
        version: one
        events: { types: [a] }
        stages:
          - { stage: decision, when: 'count(b, 1d) >= 1' }
        scoring:
          half_life: 2 weeks
          rules: [ { when: 'event.type == 3', points: 5 } ]
          bands: [ { action: x }, { below: 10, action: y } ]
        suppress:
          fax: 'true'
        segments:
          - { name: decision.x.y, enter: 'exists(1)' }
        """
        XCTAssertEqual(loadErrors(yaml), [
            "r.yaml:1:10: `version` must be a whole number, not `one`",
            "r.yaml:4:37: unknown event type `b`; known types are the alias targets, page_viewed, the keys of statuses.on_event and events.types",
            "r.yaml:6:14: `half_life` `2 weeks` is not a duration: write a whole number followed by s, m, h, d or w (e.g. 30s, 15m, 2h, 7d, 4w)",
            "r.yaml:7:21: cannot compare `event.type` (text) with `3` (number) in `event.type == 3`; they can never be equal",
            "r.yaml:8:12: only the last band may omit `below`",
            "r.yaml:8:27: the last band must have no `below`: it takes every score above the others",
            "r.yaml:10:3: unknown key `fax` in `suppress`; allowed: email, ads, sales",
            "r.yaml:12:35: exists() takes one field, e.g. exists(lead.email)",
        ])
    }

    /// The hysteresis trap: each `enter` part needs a counterpart in `exit`; `membership.age`
    /// covers every part, `inactive()` the parts made of counted events, and an `inactive()` part of
    /// `enter` is a waiting condition that needs none.
    func testHysteresisTrapWarnings() throws {
        let loaded = try Ruleset.load(yaml: base + """
          - name: decision.x.trap
            enter: 'lead.country == "DE" and count(viewed, 7d) >= 1 and inactive(1h)'
            exit: 'inactive(30d)'
            route: { email: { sequence: s } }
          - name: decision.x.aged
            enter: 'lead.country == "DE" and sum(viewed.n, 7d) >= 3'
            exit: 'membership.age > 7d'
            route: { email: { sequence: s } }
          - name: decision.x.paired
            enter: 'not lead.customer and max(viewed.n, 7d) >= 3'
            exit: 'lead.customer or max(viewed.n, 7d) < 3'
            route: { email: { sequence: s } }
        """, fileName: "r.yaml")
        XCTAssertEqual(loaded.warnings.map(\.description), [
            "r.yaml:8:13: warning: `enter` of `decision.x.trap` requires `lead.country == \"DE\"`, but `exit` never reads it: a lead that stops matching it stays in the segment (hysteresis trap); add its negation to `exit`, e.g. `… or not (lead.country == \"DE\")`",
        ])
    }

    func testInvalidYAMLAndFormatted() {
        do {
            _ = try Ruleset.load(yaml: "version: 1\nsegments: [\n", fileName: "bad.yaml")
            XCTFail("expected an error")
        } catch {
            XCTAssertEqual(error.diagnostics.count, 1)
            XCTAssertTrue(error.formatted.hasPrefix("bad.yaml:3:1: the file is not valid YAML"), error.formatted)
        }
    }

    func testWarnings() throws {
        let loaded = try Ruleset.load(yaml: base + """
          - { name: decision.x.y, enter: 'false and count(viewed, 1d) > 0', route: { email: { sequence: s } } }
          - name: decision.x.z
            enter: 'count(viewed, 7d) >= 1 and lead.country == "DE"'
            exit: 'inactive(3d) or count(viewed, 7d) >= 1'
            route: { email: { sequence: s } }
          - { name: decision.x.w, enter: 'true', exit: '1 < 2' }
        """, fileName: "r.yaml")
        XCTAssertEqual(loaded.warnings.map(\.description), [
            "r.yaml:7:35: warning: the `enter` rule of `decision.x.y` can never hold, so no lead will ever enter",
            "r.yaml:9:40: warning: `enter` of `decision.x.z` requires `lead.country == \"DE\"`, but `exit` never reads it: a lead that stops matching it stays in the segment (hysteresis trap); add its negation to `exit`, e.g. `… or not (lead.country == \"DE\")`",
            "r.yaml:10:12: warning: the `exit` rule of `decision.x.z` holds whenever `enter` does (both need `count(viewed, 7d) >= 1`), so no lead will ever enter",
            "r.yaml:12:13: warning: segment `decision.x.w` has no route: a segment should drive an email, ads or sales action",
            "r.yaml:12:49: warning: the `exit` rule of `decision.x.w` always holds, so no lead will ever stay in the segment",
        ])
    }
}
