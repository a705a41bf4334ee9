import XCTest
@testable import Profiles
@testable import RulesTools
@testable import Segmentation

/// Every construct of the rule language, evaluated through a real ruleset.
final class LanguageTests: XCTestCase {
    func testCanonicalTextAndPrecedence() throws {
        XCTAssertEqual(try Parser.parse("a.b or c.d and not e.f").canonical, "a.b or c.d and not e.f")
        XCTAssertEqual(try Parser.parse("(a.b or c.d) and e.f").canonical, "(a.b or c.d) and e.f")
        XCTAssertEqual(try Parser.parse("1 + 2 * 3 - (4 - 5)").canonical, "1 + 2 * 3 - (4 - 5)")
        XCTAssertEqual(try Parser.parse("count( x ,7d )>=1").canonical, "count(x, 7d) >= 1")
        XCTAssertEqual(try Parser.parse("count(x where event.properties.p == 'a', 2w)").canonical,
                       "count(x where event.properties.p == \"a\", 14d)")
        XCTAssertEqual(try Parser.parse("x.y not in [1, 2.5]").canonical, "x.y not in [1, 2.5]")
        XCTAssertEqual(try Parser.parse("not (x.y contains 'q')").canonical, "not x.y contains \"q\"")
        XCTAssertEqual(try Parser.parse("-x.y + 30s + 15m + 2h + 7d + 4w").canonical, "-x.y + 30s + 15m + 2h + 7d + 28d")
    }

    func testLexerDurationsAndStrings() throws {
        let toks = try Lexer.tokenize("30s 15m 2h 7d 4w 'a\\'b' \"c\\\"d\" 1.5")
        XCTAssertEqual(toks.map(\.kind), [.duration(30_000), .duration(900_000), .duration(7_200_000),
            .duration(604_800_000), .duration(2_419_200_000), .string("a'b"), .string("c\"d"), .number(1.5), .end])
        XCTAssertThrowsError(try Lexer.tokenize("1.5d"))
        XCTAssertThrowsError(try Lexer.tokenize("'open"))
    }

    func testLiteralsAndLogic() {
        XCTAssertTrue(holds("true"))
        XCTAssertFalse(holds("false or not true"))
        XCTAssertTrue(holds("true and not false"))
        XCTAssertTrue(holds("1 + 2 * 3 == 7"))
        XCTAssertTrue(holds("(1 + 2) * 3 == 9"))
        XCTAssertTrue(holds("10 / 4 == 2.5"))
        XCTAssertTrue(holds("-3 < 0"))
        XCTAssertTrue(holds("1d == 24h and 2h > 90m and 4w == 28d and 60s == 1m"))
        XCTAssertTrue(holds("7d / 2 == 84h and 2 * 30m == 1h and 1d / 12h == 2"))
        XCTAssertTrue(holds("'abc' < 'abd' and \"x\" == 'x'"))
        XCTAssertTrue(holds("'b' in ['a', 'b'] and 'z' not in ['a'] and ['a', 'b'] contains 'a'"))
        XCTAssertTrue(holds("'ell' in 'hello' and 'hello' contains 'll'"))
        XCTAssertTrue(holds("null == null and not (1 == null) and 1 != null"))
    }

    func testLeadPaths() {
        var s = LeadState(email: "Ann@Shop.Example", userId: "u1", country: "DE", region: "BY", shipToRegion: "EU",
                          company: .init(domain: "acme.com", size: 250, industry: "retail", techStack: ["shopify", "klaviyo"]),
                          traits: ["plan": .string("pro"), "address": .object(["city": .string("Berlin")]), "vip": .bool(true)])
        s.setStatus("qualified", at: t0)
        XCTAssertTrue(holds("lead.email == 'Ann@Shop.Example' and lead.email_domain == 'shop.example'", state: s))
        XCTAssertTrue(holds("lead.user_id == 'u1' and lead.country in ['DE', 'AT'] and lead.region == 'BY'", state: s))
        XCTAssertTrue(holds("lead.ship_to_region == 'EU' and lead.status == 'qualified' and not lead.customer", state: s))
        XCTAssertTrue(holds("lead.company.size >= 200 and lead.company.industry == 'retail' and lead.company.domain == 'acme.com'", state: s))
        XCTAssertTrue(holds("lead.company.tech_stack contains 'shopify' and 'klaviyo' in lead.company.tech_stack", state: s))
        XCTAssertTrue(holds("lead.traits.plan == 'pro' and lead.traits.address.city == 'Berlin' and lead.traits.vip", state: s))
        XCTAssertTrue(holds("lead.traits.missing == null and not exists(lead.traits.missing) and exists(lead.traits.plan)", state: s))
        XCTAssertTrue(holds("lead.source == null and lead.stage == null and lead.score == 0", state: s))
        XCTAssertFalse(holds("lead.traits.missing > 3", state: s), "comparison with null is false")
        XCTAssertFalse(holds("lead.traits.plan > 3", state: s), "mismatched dynamic types compare false")
        XCTAssertTrue(holds("lead.traits.plan != 3", state: s))
        XCTAssertTrue(holds("lead.traits.address == null", state: s), "a path ending at an object reads as null; address its fields")
    }

    func testEventPathsAndFirstSeen() {
        let e = ev("a", 0, properties: ["path": .string("/shipping"), "price": .number(12.5)],
                   context: ["campaign": .object(["medium": .string("cpc")])])
        XCTAssertTrue(holdsOn("event.type == 'a' and event.name == 'a'", e))
        XCTAssertTrue(holdsOn("event.properties.path in ['/shipping', '/returns'] and event.properties.price > 10", e))
        XCTAssertTrue(holdsOn("event.context.campaign.medium == 'cpc' and event.context.campaign.source == null", e))
        XCTAssertTrue(holdsOn("lead.first_seen == lead.first_seen and exists(lead.first_seen)", e))
        XCTAssertFalse(holds("event.type == 'a'"), "without an event, event paths are null")
    }

    func testCountSinceInactiveAndWindowEdges() {
        let events = [ev("a", 0), ev("a", 1 * day), ev("b", 2 * day)]
        XCTAssertTrue(holds("count(a, 7d) == 2 and count(b, 7d) == 1 and count(c, 7d) == 0", events: events))
        // Window is (now - window, now]: an occurrence exactly `window` ago is out, one at `now` is in.
        // (`now` never goes backwards: only the occurrences up to `now` are applied.)
        let twoA = Array(events.prefix(2))
        XCTAssertTrue(holds("count(a, 1d) == 1", events: twoA, now: at(1 * day)))
        XCTAssertTrue(holds("count(a, 2d) == 1", events: twoA, now: at(2 * day)))
        XCTAssertTrue(holds("count(a, 2d) == 2", events: twoA, now: at(2 * day - 1)))
        XCTAssertTrue(holds("since(a) == 1d and since(b) == 0s and since(c) == null", events: events))
        XCTAssertTrue(holds("since(a) > 3d", events: events, now: at(4 * day + 1)))
        XCTAssertFalse(holds("since(a) > 3d", events: events, now: at(4 * day)))
        XCTAssertFalse(holds("inactive(2d)", events: events, now: at(4 * day - 1)))
        XCTAssertTrue(holds("inactive(2d)", events: events, now: at(4 * day)))
        XCTAssertTrue(holds("inactive(1d)", now: t0), "no events at all is inactive")
        let filtered = [ev("a", 0, properties: ["p": .string("x")]), ev("a", 1, properties: ["p": .string("y")])]
        XCTAssertTrue(holds("count(a where event.properties.p == 'x', 1d) == 1 and count(a, 1d) == 2", events: filtered))
        XCTAssertTrue(holds("count(a, 1d) + count(b, 1d) * 2 == 2", events: filtered))
    }

    func testLateEventsCountByOccurredAt() {
        let rs = load("""
        version: 1
        events: { types: [a] }
        segments:
          - { name: decision.test.late, enter: 'count(a, 1d) >= 2', exit: 'false', route: { email: { sequence: s } } }
        """)
        let engine = Engine(rs)
        var s = engine.evaluate(state: LeadState(), event: ev("a", 10 * hour), now: at(10 * hour)).newState
        // Arrives at 12h but happened at -20h: outside (now - 1d, now] for now = 12h? -20h > -12h is false → out.
        let r1 = engine.evaluate(state: s, event: ev("a", -20 * hour), now: at(12 * hour))
        XCTAssertEqual(r1.decision.segments.current, [])
        s = r1.newState
        let r2 = engine.evaluate(state: s, event: ev("a", -10 * hour), now: at(12 * hour))
        XCTAssertEqual(r2.decision.segments.entered, ["decision.test.late"])
        // The window runs out when the older counted occurrence (-10h) is 1d old.
        XCTAssertEqual(r2.decision.nextEvaluationAt, nil, "exit is false, nothing changes with time")
    }

    func testInSegmentSeesThisEvaluation() {
        let rs = load("""
        version: 1
        events: { types: [a] }
        segments:
          - { name: decision.b.later, enter: 'in_segment("decision.a.first")', route: { email: { sequence: s } } }
          - { name: decision.a.first, enter: 'count(a, 1d) >= 1', route: { email: { sequence: s } } }
        """)
        XCTAssertEqual(rs.evaluationOrder, [1, 0])
        let r = Engine(rs).evaluate(state: LeadState(), event: ev("a", 0), now: t0)
        XCTAssertEqual(r.decision.segments.entered, ["decision.a.first", "decision.b.later"])
    }
}

extension LanguageTests {
    func testComparisonsWithNullAreFalseExceptNullTests() {
        let s = LeadState(traits: ["plan": .string("pro")])
        XCTAssertFalse(holds("lead.traits.missing != 3", state: s), "null != 3 is a comparison with null: false")
        XCTAssertFalse(holds("lead.traits.missing == lead.traits.other", state: s))
        XCTAssertFalse(holds("lead.traits.missing != lead.traits.plan", state: s))
        XCTAssertFalse(holds("lead.traits.missing != null", state: s))
        XCTAssertTrue(holds("lead.traits.missing == null and lead.traits.plan != null", state: s))
        XCTAssertTrue(holds("lead.traits.plan != 'basic' and not (lead.traits.missing == 'x')", state: s))
        XCTAssertFalse(holds("lead.traits.missing not in ['a']", state: s))
    }
}

extension LanguageTests {
    func testDynamicValuesTimestampsAndExists() {
        var s = LeadState(traits: ["tags": .array([.string("vip"), .string("b2b")]), "n": .number(3)])
        s.firstSeen = t0
        XCTAssertTrue(holds("lead.traits.tags contains 'vip' and 'b2b' in lead.traits.tags and 'x' not in lead.traits.tags", state: s))
        XCTAssertTrue(holds("lead.traits.n * 2 == 6 and lead.traits.n + 1 > 3 and lead.traits.n in [1, 3]", state: s))
        XCTAssertTrue(holds("lead.first_seen + 1d > lead.first_seen and lead.first_seen - lead.first_seen == 0s", state: s))
        XCTAssertTrue(holds("lead.first_seen + 1d - lead.first_seen == 24h", state: s))
        XCTAssertFalse(holds("lead.traits.tags contains 3", state: s))
        let e = ev("a", 0, properties: ["sku": .string("RUN-1")])
        XCTAssertTrue(holdsOn("exists(event.properties.sku) and not exists(event.properties.size)", e))
        XCTAssertTrue(holdsOn("'RUN' in event.properties.sku and event.properties.sku < 'S'", e))
    }

    func testDuplicateYAMLKeyIsReportedWhereItIs() {
        XCTAssertEqual(loadErrors("version: 1\nsegments: []\nversion: 2\n"),
                       ["r.yaml:1:1: the file is not valid YAML: duplicate key `version` in one mapping"])
    }

    func testEventlessDecisionHasNoEventType() {
        let r = Engine(load(sampleYAML)).evaluate(state: LeadState(), now: t0.date)
        XCTAssertNil(r.decision.eventType)
        XCTAssertFalse(r.decision.unknownEventType)
        XCTAssertEqual(r.decision.stage, "awareness")
        XCTAssertEqual(r.decision.status, "new")
        XCTAssertEqual(r.decision.band, "nurture_only")
        XCTAssertNil(r.decision.nextEvaluationAt)
    }
}
