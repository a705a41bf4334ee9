import XCTest
@testable import Segmentation

/// Choices (`{when, value}` lists), templates (`{{ lead.path }}`), `lead.interest` and the sales
/// `script`: what the decision carries, what the explanation says, and `rules check` errors.
final class ActionFieldTests: XCTestCase {
    let yaml = """
    version: 1
    events: { types: [product_viewed, requested_demo, webinar_attended, carted] }
    teams: { inside: { members: [ { id: rep_a } ] }, webinars: { members: [ { id: rep_w } ] } }
    segments:
      - name: decision.high.lead
        priority: 10
        enter: 'count(carted, 7d) >= 1 or count(requested_demo, 30d) >= 1 or count(webinar_attended, 30d) >= 1'
        route:
          email:
            sequence: [ { when: 'lead.interest.top_category == "running-shoes"', value: running-shoe-guide }, { value: general-guide } ]
          ads: { audience: viewers, landing_page: "/c/{{ lead.interest.top_category }}?ship={{ lead.ship_to_region }}" }
          sales:
            queue: high-intent
            team: [ { when: 'count(webinar_attended, 30d) >= 1', value: webinars }, { value: inside } ]
            sla: 15m
            script: [ { when: 'count(requested_demo, 30d) >= 1', value: demo-follow-up },
                      { when: 'count(webinar_attended, 30d) >= 1', value: webinar-follow-up },
                      { value: "intro-{{ lead.country }}" } ]
    """

    func view(_ category: String, _ product: String, _ at: Int64) -> Event {
        ev("product_viewed", at, properties: ["category": .string(category), "product_id": .string(product)])
    }

    func action(_ r: Evaluation, _ channel: String) -> Action? { r.decision.actions.first { $0.channel == channel } }

    func testChoicesPickTheFirstThatHoldsAndExplainTheBranch() throws {
        let engine = Engine(load(yaml))
        var lead = LeadState(); lead.country = "DE"
        let r = runEvents(engine, [view("running-shoes", "trail-1", 0), view("bags & packs", "b1", minute),
                                   view("running-shoes", "road-2", 2 * minute), ev("requested_demo", 3 * minute)], state: lead)
        XCTAssertEqual(action(r, "email")?.sequence, "running-shoe-guide")
        XCTAssertEqual(action(r, "sales")?.script, "demo-follow-up")
        XCTAssertEqual(action(r, "sales")?.team, "inside")
        let script = try XCTUnwrap(r.decision.explanation.actions.first { $0.field == "script" })
        XCTAssertEqual(script.choice, 1)
        XCTAssertEqual(script.value, "demo-follow-up")
        XCTAssertEqual(script.rule, "count(requested_demo, 30d) is 1, >= 1 ✓")
        let team = try XCTUnwrap(r.decision.explanation.actions.first { $0.field == "team" })
        XCTAssertEqual(team.choice, 2)
        XCTAssertEqual(team.rule, "count(webinar_attended, 30d) is 0, >= 1 ✗; otherwise")

        let w = runEvents(engine, [ev("webinar_attended", 0)], state: lead)
        XCTAssertEqual(action(w, "sales")?.script, "webinar-follow-up")
        XCTAssertEqual(action(w, "sales")?.team, "webinars")
        XCTAssertEqual(action(w, "email")?.sequence, "general-guide")
        let c = runEvents(engine, [ev("carted", 0)], state: lead)
        XCTAssertEqual(action(c, "sales")?.script, "intro-DE")
    }

    func testTemplatesURLEncodeAndNameMissingPaths() throws {
        let engine = Engine(load(yaml))
        let r = runEvents(engine, [view("bags & packs", "b1", 0), view("bags & packs", "b2", minute), view("shoes", "s1", 2 * minute),
                                   ev("carted", 3 * minute)])
        XCTAssertEqual(action(r, "ads")?.landingPage, "/c/bags%20%26%20packs?ship=")
        let note = try XCTUnwrap(r.decision.explanation.actions.first { $0.field == "landing_page" })
        XCTAssertEqual(note.template, "/c/{{ lead.interest.top_category }}?ship={{ lead.ship_to_region }}")
        XCTAssertEqual(note.missing, ["lead.ship_to_region"])
        XCTAssertNil(note.choice)
        // Not URL-like: the script renders the raw value, and a missing country renders empty.
        XCTAssertEqual(action(r, "sales")?.script, "intro-")
        XCTAssertEqual(r.decision.explanation.actions.first { $0.field == "script" }?.missing, ["lead.country"])
    }

    func testExplanationRoundTripsThroughJSON() throws {
        let engine = Engine(load(yaml))
        let r = runEvents(engine, [view("shoes", "s1", 0), ev("carted", minute)])
        let data = try Decision.jsonEncoder.encode(r.decision)
        let back = try JSONDecoder().decode(Decision.self, from: data)
        XCTAssertEqual(back.explanation.actions, r.decision.explanation.actions)
        XCTAssertEqual(back.actions, r.decision.actions)
        XCTAssertTrue(String(decoding: data, as: UTF8.self).contains("\"script\":\"intro-\""))
    }

    func testInterestDecaysAndStaysBounded() {
        let engine = Engine(load(yaml))
        var events: [Event] = []
        for k in 0..<40 { events.append(view("cat-\(k)", "p-\(k)", Int64(k) * minute)) }
        events.append(view("cat-39", "p-39", 41 * minute))
        let r = runEvents(engine, events)
        XCTAssertEqual(r.newState.interest.categories.count, InterestSpec.maxEntries)
        XCTAssertEqual(r.newState.interest.products.count, InterestSpec.maxEntries)
        XCTAssertEqual(InterestState.top(r.newState.interest.categories), "cat-39")
        // Two views 14 days (one half-life) apart: 1 · 0.5 + 1.
        let two = runEvents(engine, [view("a", "x", 0), view("a", "x", 14 * day)])
        XCTAssertEqual(two.newState.interest.categories["a"]!, 1.5, accuracy: 1e-9)
        // A late view counts decayed by its age.
        let late = runEvents(engine, [view("a", "x", 0)], now: at(14 * day))
        XCTAssertEqual(late.newState.interest.categories["a"]!, 0.5, accuracy: 1e-9)
    }

    func testInterestCountsInRulesAndTheInterestSection() {
        let rs = load("""
        version: 1
        events: { aliases: { "Product Viewed": viewed }, types: [carted] }
        interest: { event: viewed, category: cat, half_life: 1d }
        scoring:
          rules: [ { when: 'lead.interest.categories.skincare >= 1.5', points: 10 } ]
        segments:
          - name: decision.high.lead
            enter: 'lead.interest.top_category == "skincare"'
            route: { email: { sequence: "{{ lead.interest.top_product }}" } }
        """)
        XCTAssertEqual(rs.interest?.event, "viewed")
        let engine = Engine(rs)
        let r = runEvents(engine, [ev("Product Viewed", 0, properties: ["cat": .string("skincare"), "product_id": .number(42)]),
                                   ev("Product Viewed", minute, properties: ["cat": .string("skincare"), "product_id": .number(42)])])
        XCTAssertEqual(r.decision.score, 10)
        XCTAssertEqual(r.decision.actions.first?.sequence, "42")
        XCTAssertEqual(r.decision.primarySegment, "decision.high.lead")
    }

    func testNoInterestKeptWhenNothingReadsIt() {
        let engine = Engine(load(sampleYAML))
        XCTAssertNil(engine.ruleset.interest)
        let r = runEvents(engine, [ev("Product Viewed", 0, properties: ["category": .string("x")])])
        XCTAssertTrue(r.newState.interest.isEmpty)
    }

    func testNoChoiceHoldingDropsARequiredField() throws {
        let engine = Engine(load("""
        version: 1
        events: { types: [carted] }
        segments:
          - name: decision.high.lead
            enter: 'count(carted, 7d) >= 1'
            route:
              email: { sequence: [ { when: 'lead.country == "DE"', value: de-series } ] }
              ads: { audience: all }
        """))
        let r = runEvents(engine, [ev("carted", 0)])
        XCTAssertEqual(r.decision.actions.map(\.channel), ["ads"])
        let note = try XCTUnwrap(r.decision.explanation.actions.first)
        XCTAssertNil(note.value)
        XCTAssertEqual(note.rule, "lead.country is null, not \"DE\" ✗")
    }

    func testStateRoundTripsInterest() throws {
        let engine = Engine(load(yaml))
        let r = runEvents(engine, [view("shoes", "s1", 0)])
        let back = try JSONDecoder().decode(LeadState.self, from: JSONEncoder().encode(r.newState))
        XCTAssertEqual(back.interest, r.newState.interest)
    }

    // MARK: rules check

    let base = """
    version: 1
    events: { types: [product_viewed, carted] }
    teams: { t1: { members: [ { id: a } ] } }
    segments:
      - name: decision.x.y
        enter: 'true'

    """

    func errors(_ route: String) -> [String] { loadErrors(base + route) }

    func testCheckErrorsPointAtTheColumn() {
        XCTAssertEqual(errors("    route: { ads: { audience: a, landing_page: \"/c/{{ lead.intrest.top_category }}\" } }"),
                       ["r.yaml:7:55: unknown field `lead.intrest.top_category` (did you mean `lead.interest.top_category`?)"])
        XCTAssertEqual(errors("    route: { ads: { audience: a, landing_page: \"/c/{{ lead.interest.top }}\" } }"),
                       ["r.yaml:7:55: unknown field `lead.interest.top`: `lead.interest` has top_category, top_product and categories.<name>"])
        XCTAssertEqual(errors("    route: { ads: { audience: a, landing_page: \"/c/{{ event.type }}\" } }"),
                       ["r.yaml:7:55: a template can only show a `lead.*` path, e.g. {{ lead.interest.top_category }}, not `event.type`"])
        XCTAssertEqual(errors("    route: { ads: { audience: a, landing_page: \"/c/{{ lead.country\" } }"),
                       ["r.yaml:7:52: unclosed `{{` in `landing_page`: write `{{ lead.path }}`"])
        XCTAssertEqual(errors("    route: { sales: { queue: q, team: \"{{ lead.country }}\" } }"),
                       ["r.yaml:7:40: `team` cannot be a template: it must name something configured; use choices to pick one"])
    }

    func testCheckErrorsInChoices() {
        XCTAssertEqual(errors("    route: { sales: { queue: q, script: [ { value: a }, { when: 'true', value: b } ] } }"),
                       ["r.yaml:7:43: only the last choice of `script` may leave out `when` (it is the fallback); later choices would never be used"])
        XCTAssertEqual(errors("    route: { sales: { queue: q, script: [ { when: 'count(cartd, 7d) >= 1', value: b } ] } }"),
                       ["r.yaml:7:58: unknown event type `cartd` (did you mean `carted`?); known types are the alias targets, page_viewed, the keys of statuses.on_event and events.types"])
        XCTAssertEqual(errors("    route: { sales: { queue: q, team: [ { when: 'true', value: t2 }, { value: t1 } ] } }"),
                       ["r.yaml:7:64: unknown team `t2`; define it under `teams:`"])
        XCTAssertEqual(errors("    route: { email: { sequence: [ { when: 'true' } ] } }"),
                       ["r.yaml:7:35: a choice of `sequence` needs a `value`"])
        XCTAssertEqual(errors("    route: { email: { sequence: [ { when: 'true', value: a, els: b } ] } }"),
                       ["r.yaml:7:61: unknown key `els` in a choice of `sequence`; allowed: when, value"])
        XCTAssertEqual(errors("    route: { email: { sequence: [] } }"),
                       ["r.yaml:7:33: `sequence` has an empty list of choices: write `[ { when: '…', value: … }, { value: … } ]`"])
        XCTAssertEqual(errors("    route: { sales: { queue: q, scrpt: a } }"),
                       ["r.yaml:7:33: unknown key `scrpt` in `route.sales` (did you mean `script`?); allowed: queue, team, sla, script, delay, window"])
    }

    func testCheckErrorsOfInterest() {
        XCTAssertEqual(loadErrors("""
        version: 1
        events: { types: [viewed] }
        segments:
          - { name: decision.x.y, enter: 'lead.interest.categories.shoes >= 1' }
        """), ["r.yaml:4:35: `lead.interest.categories.shoes` decays with time, so it cannot be used in an `enter` rule (re-evaluation could not be scheduled); use it in scoring, choices, caps or templates, or use `lead.interest.top_category`",
               // the rule also reads lead.interest, whose default event type this ruleset lacks
               "r.yaml:4:35: `lead.interest` counts `product_viewed` events, which is not a known event type; map product views to it under `events.aliases` or name the type under `interest: { event: … }`"])
        XCTAssertEqual(loadErrors("""
        version: 1
        events: { types: [viewed] }
        segments:
          - { name: decision.x.y, enter: 'lead.interest.top_category == "a"' }
        """), ["r.yaml:4:35: `lead.interest` counts `product_viewed` events, which is not a known event type; map product views to it under `events.aliases` or name the type under `interest: { event: … }`"])
        XCTAssertEqual(loadErrors("""
        version: 1
        events: { types: [viewed] }
        interest: { event: viewd, half_life: 2x, categry: c }
        segments:
          - { name: decision.x.y, enter: 'true' }
        """), ["r.yaml:3:20: `interest.event` names `viewd`, which is not a known event type (did you mean `viewed`?); map the incoming name under `events.aliases`",
               "r.yaml:3:38: `interest.half_life` `2x` is not a duration: write a whole number followed by s, m, h, d or w (e.g. 30s, 15m, 2h, 7d, 4w)",
               "r.yaml:3:42: unknown key `categry` in `interest` (did you mean `category`?); allowed: event, category, product, half_life"])
        XCTAssertEqual(loadErrors("""
        version: 1
        segments:
          - { name: decision.x.y, enter: 'lead.band == "a"' }
        """), ["r.yaml:3:35: `lead.band` is decided after an `enter` rule is; compare `lead.score` with the band's limit instead (e.g. `lead.score >= 60`)"])
    }
}
