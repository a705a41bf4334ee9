import XCTest
@testable import Segmentation

/// The explanation notation a marketer reads: value, then comparison, then ✓/✗; only the clauses
/// that decided; the values of the filtered event that mattered; the same facts as data.
final class ExplanationTextTests: XCTestCase {
    static let yaml = """
    version: 1
    events:
      aliases: { "Product Added": added_to_cart, "Order Completed": completed_checkout }
    statuses:
      on_event: { completed_checkout: converted }
    sources:
      - { channel: email_newsletter, when: 'event.context.campaign.medium == "email"' }
    segments:
      - name: awareness.early-intent.newsletter
        enter: 'not lead.customer and lead.source == "email_newsletter"'
        exit: 'lead.customer or lead.source != "email_newsletter"'
      - name: decision.high-intent.big-cart
        enter: 'count(added_to_cart where event.properties.price * event.properties.quantity >= 500, 7d) >= 1'
        exit: 'inactive(7d)'
      - name: retention.high-value.spender
        enter: 'sum(completed_checkout.revenue, 365d) >= 1000 or max(completed_checkout.revenue, 365d) >= 800'
        exit: 'sum(completed_checkout.revenue, 365d) < 500'
      - name: consideration.mid-intent.region
        enter: 'lead.ship_to_region in ["EU", "UK"] and count(page_viewed, 7d) > 2'
    """

    func explanation(_ r: Evaluation, _ segment: String) throws -> SegmentExplanation {
        try XCTUnwrap(r.decision.explanation.segments[segment], "no explanation for \(segment): \(r.decision)")
    }

    func testEqualityReadsAsValueThenCheckMark() throws {
        let engine = Engine(load(Self.yaml))
        let r = engine.evaluate(state: LeadState(), event: ev("page_viewed", 0, context: ["campaign": .object(["medium": .string("email")])]), now: t0)
        let e = try explanation(r, "awareness.early-intent.newsletter")
        XCTAssertEqual(e.enter, "not lead.customer ✓ and lead.source is \"email_newsletter\" ✓")
        XCTAssertNil(e.exit, "an entry shows no exit line")
        XCTAssertEqual(e.clauses.map(\.clause), ["not lead.customer", "lead.source == \"email_newsletter\""])
        XCTAssertEqual(e.terms.first { $0.expression == "lead.source" }?.value, .string("email_newsletter"))
        // Leaving: only the `or` part that held, in the same notation.
        let x = engine.evaluate(state: r.newState, event: ev("Order Completed", minute), now: at(minute))
        let out = try explanation(x, "awareness.early-intent.newsletter")
        XCTAssertEqual(out.exit, "lead.customer ✓")
        XCTAssertNil(out.enter)
    }

    func testAFilteredCountShowsTheValuesOfTheEventThatMatched() throws {
        let engine = Engine(load(Self.yaml))
        let r = engine.evaluate(state: LeadState(), event: ev("Product Added", 0, properties: ["price": .number(250), "quantity": .number(3)]), now: t0)
        let e = try explanation(r, "decision.high-intent.big-cart")
        XCTAssertEqual(e.enter, "count(added_to_cart where event.properties.price * event.properties.quantity >= 500, 7d) is 1 (this event: price 250, quantity 3), >= 1 ✓")
        XCTAssertEqual(e.clauses.first?.event, ["price": .number(250), "quantity": .number(3)])
    }

    func testAggregatesShowTheirValueAndOnlyTheDecidingPart() throws {
        let engine = Engine(load(Self.yaml))
        let r = runEvents(engine, [ev("Order Completed", 0, properties: ["revenue": .number(300)]),
                                   ev("Order Completed", day, properties: ["revenue": .number(850)])])
        let e = try explanation(r, "retention.high-value.spender")
        XCTAssertEqual(e.enter, "sum(completed_checkout.revenue, 365d) is 1150, >= 1000 ✓ or max(completed_checkout.revenue, 365d) is 850, >= 800 ✓")
        // A year on, both orders have left the window: sum is 0, max has nothing to read (null).
        let x = engine.evaluate(state: r.newState, now: at(day + 366 * day).date)
        XCTAssertEqual(try explanation(x, "retention.high-value.spender").exit, "sum(completed_checkout.revenue, 365d) is 0, < 500 ✓")
    }

    func testAFailedAndShowsOnlyTheFailedPart() throws {
        let engine = Engine(load(Self.yaml))
        var lead = LeadState()
        lead.shipToRegion = "EU"
        var r = engine.evaluate(state: lead, event: ev("page_viewed", 0), now: t0)
        for i in 1...2 { r = engine.evaluate(state: r.newState, event: ev("page_viewed", Int64(i) * minute), now: at(Int64(i) * minute)) }
        let e = try explanation(r, "consideration.mid-intent.region")
        XCTAssertEqual(e.enter, "lead.ship_to_region is \"EU\", in [\"EU\", \"UK\"] ✓ and count(page_viewed, 7d) is 3, > 2 ✓")
        // No exit: leaving is `enter` failing, and only the part that failed is shown.
        let x = engine.evaluate(state: r.newState, now: at(8 * day).date)
        let out = try explanation(x, "consideration.mid-intent.region")
        XCTAssertEqual(out.enter, "count(page_viewed, 7d) is 0, > 2 ✗")
        XCTAssertEqual(out.clauses, [ExplainedClause(clause: "count(page_viewed, 7d) > 2", holds: false, event: nil)])
    }
}
