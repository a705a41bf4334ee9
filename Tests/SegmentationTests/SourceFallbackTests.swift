import XCTest
@testable import Segmentation

/// A lead's source when no `sources:` rule matches (issue 22): `direct` without campaign or
/// referrer, `unknown` with one the ruleset does not name — set by the engine on the first
/// event, so rules (and `rules test`) see it at once, as production does.
final class SourceFallbackTests: XCTestCase {
    let rules = """
    version: 1
    events: { types: [viewed] }
    sources:
      - { channel: paid_search, when: 'event.context.campaign.medium == "cpc"' }
    segments:
      - { name: awareness.low.direct, priority: 1, enter: 'lead.source == "direct"', exit: 'lead.source != "direct"' }
      - { name: awareness.low.unknown, priority: 2, enter: 'lead.source == "unknown"', exit: 'lead.source != "unknown"' }
    """

    func testTheFirstEventWithoutCampaignOrReferrerIsDirectAndRulesSeeIt() {
        let engine = Engine(load(rules))
        let first = engine.evaluate(state: LeadState(), event: ev("viewed", 0), now: t0)
        XCTAssertEqual(first.newState.firstSource?.channel, "direct")
        XCTAssertEqual(first.decision.segments.entered, ["awareness.low.direct"], "the rule holds on the first event")
        // A later campaign the ruleset names is the last touch; the first stays direct.
        let later = engine.evaluate(state: first.newState, event: ev("viewed", 1000, context: ["campaign": .object(["medium": .string("cpc")])]),
                                    now: at(1000))
        XCTAssertEqual(later.newState.firstSource?.channel, "direct")
        XCTAssertEqual(later.newState.lastSource?.channel, "paid_search")
    }

    func testACampaignOrReferrerNoRuleNamesIsUnknown() {
        let engine = Engine(load(rules))
        for context: [String: Value] in [["campaign": .object(["medium": .string("print")])],
                                         ["page": .object(["referrer": .string("https://news.example.org/")])],
                                         ["referrer": .object(["type": .string("app")])]] {
            let r = engine.evaluate(state: LeadState(), event: ev("viewed", 0, context: context), now: t0)
            XCTAssertEqual(r.newState.firstSource?.channel, "unknown", "\(context)")
            XCTAssertEqual(r.decision.segments.entered, ["awareness.low.unknown"])
        }
        XCTAssertEqual(SourceFallback.channel(context: ["campaign": .object(["medium": .string("")]), "page": .object(["referrer": .string("")])],
                                              properties: [:]), "direct", "empty values say nothing")
        XCTAssertEqual(SourceFallback.channel(context: [:], properties: ["referrer": .string("https://x.example/")]), "unknown")
    }
}
