import XCTest
@testable import Segmentation

/// `statuses.on_event` entries with `when`, no silent customer → non-customer regression, and
/// every status change in the explanation (issue 21).
final class StatusRuleTests: XCTestCase {
    static let yaml = """
    version: 1
    events:
      aliases: { "Pricing Requested": requested_pricing, "Order Completed": completed_checkout, "Demo Requested": requested_demo,
                 "Form Sent": form_sent }
    statuses:
      on_event:
        requested_pricing: { to: qualified, when: 'not lead.customer' }
        requested_demo: qualified
        completed_checkout: converted
        form_sent:
          - { to: engaged, when: 'lead.status == "new"' }
          - { to: churn_risk, when: 'lead.customer' }
    segments:
      - { name: decision.x.pricing, enter: 'count(requested_pricing, 30d) >= 1' }
    """

    func testAConditionalEntryMovesOnlyWhenItsRuleHolds() throws {
        let engine = Engine(load(Self.yaml))
        let lead = runEvents(engine, [ev("Pricing Requested", 0)])
        XCTAssertEqual(lead.decision.status, "qualified")
        XCTAssertEqual(lead.decision.explanation.status,
                       StatusExplanation(from: "new", to: "qualified", event: "requested_pricing", rule: "not lead.customer ✓"))
        let customer = runEvents(engine, [ev("Order Completed", 0), ev("Pricing Requested", hour)])
        XCTAssertEqual(customer.decision.status, "converted", "a customer asking for pricing stays converted")
        XCTAssertEqual(customer.decision.explanation.status?.kept, true)
        XCTAssertEqual(customer.decision.explanation.status?.to, nil)
        XCTAssertEqual(customer.decision.explanation.status?.rule, "qualified: not lead.customer ✗")
    }

    func testACustomerIsNeverMovedBackByAnEntryWithoutWhen() throws {
        let engine = Engine(load(Self.yaml))
        let r = runEvents(engine, [ev("Order Completed", 0), ev("Demo Requested", hour)])
        XCTAssertEqual(r.decision.status, "converted")
        XCTAssertEqual(r.decision.explanation.status?.kept, true)
        XCTAssertTrue(r.decision.explanation.status?.rule?.contains("only by an entry with `when`") ?? false)
        // An explicit rule may: a customer's form moves them to churn_risk (not a pre-customer status anyway).
        let explicit = runEvents(engine, [ev("Order Completed", 0), ev("Form Sent", hour)])
        XCTAssertEqual(explicit.decision.status, "churn_risk")
        XCTAssertEqual(explicit.decision.explanation.status?.from, "converted")
        XCTAssertEqual(explicit.decision.explanation.status?.to, "churn_risk")
        // The first entry that holds wins.
        XCTAssertEqual(runEvents(engine, [ev("Form Sent", 0)]).decision.status, "engaged")
    }

    func testEveryStatusChangeIsExplainedAndNoneWhenNothingMoves() throws {
        let engine = Engine(load(Self.yaml))
        let converted = runEvents(engine, [ev("Order Completed", 0)])
        XCTAssertEqual(converted.decision.explanation.status, StatusExplanation(from: "new", to: "converted", event: "completed_checkout"))
        let again = engine.evaluate(state: converted.newState, event: ev("Order Completed", hour), now: at(hour))
        XCTAssertNil(again.decision.explanation.status, "converted → converted is no change")
        let json = try JSONEncoder().encode(converted.decision.explanation)
        let back = try JSONDecoder().decode(Explanation.self, from: json)
        XCTAssertEqual(back.status, converted.decision.explanation.status)
        XCTAssertTrue(back.segments.isEmpty)
    }

    func testBadEntriesAreErrorsWithTheirPositions() {
        let base = "version: 1\nsegments:\n  - { name: decision.x.y, enter: 'true' }\nstatuses:\n  on_event:\n"
        XCTAssertEqual(loadErrors(base + "    a: { to: b, whn: 'true' }\n"),
                       ["r.yaml:6:17: unknown key `whn` in `statuses.on_event.a` (did you mean `when`?); allowed: to, when"])
        XCTAssertEqual(loadErrors(base + "    a: { when: 'true' }\n"), ["r.yaml:6:8: `statuses.on_event.a` needs `to: <status>`"])
        XCTAssertEqual(loadErrors(base + "    a: { to: b, when: 'lead.country > 3' }\n"),
                       ["r.yaml:6:24: cannot compare `lead.country` (text) with `3` (number) using `>`"])
        XCTAssertEqual(loadErrors(base + "    a: [ qualified ]\n"),
                       ["r.yaml:6:10: an entry of `statuses.on_event.a` must be `{ to: status, when: rule }`"])
        XCTAssertEqual(loadErrors("version: 1\nsegments:\n  - { name: decision.x.y, enter: 'true' }\nstatuses:\n  on_event: {}\n  pre_customr: [new]\n"),
                       ["r.yaml:6:3: unknown key `pre_customr` in `statuses` (did you mean `pre_customer`?); allowed: on_event, pre_customer"])
    }

    func testSalesOutcomesLoadAndBadOnesAreErrorsWithTheirPositions() {
        let base = "version: 1\nsegments:\n  - { name: decision.x.y, enter: 'true' }\n"
        let r = load(base + "sales:\n  outcomes:\n    contacted: { status: sales_outreach_started }\n    no_answer: {}\n    skipped:\n")
        XCTAssertEqual(r.salesOutcomes, ["contacted": SalesOutcome(status: "sales_outreach_started"), "no_answer": SalesOutcome(status: nil),
                                         "skipped": SalesOutcome(status: nil)])
        XCTAssertEqual(load(base).salesOutcomes, SalesOutcome.defaults)
        XCTAssertEqual(loadErrors(base + "sales:\n  outcomes:\n    Left voicemail: {}\n"),
                       ["r.yaml:6:5: outcome `Left voicemail` must be lower case letters, digits and `_`, starting with a letter (free text goes to an ack's `note`)"])
        XCTAssertEqual(loadErrors(base + "sales:\n  outcomes:\n    booked: { stauts: meeting_scheduled }\n"),
                       ["r.yaml:6:15: unknown key `stauts` in outcome `booked` (did you mean `status`?); allowed: status"])
        XCTAssertEqual(loadErrors(base + "sales:\n  outcome: {}\n"),
                       ["r.yaml:5:3: unknown key `outcome` in `sales` (did you mean `outcomes`?); allowed: outcomes"])
        XCTAssertEqual(loadErrors(base + "sales:\n  outcomes: {}\n"),
                       ["r.yaml:5:3: `sales.outcomes` must name at least one outcome (e.g. `contacted: { status: sales_outreach_started }`)"])
    }

    func testTerritoryFallbackLoadsAndATypoIsAnErrorWithItsPosition() {
        let base = "version: 1\nsegments:\n  - { name: decision.x.y, enter: 'true' }\nteams:\n"
        XCTAssertEqual(load(base + "  t: { members: [ { id: a } ] }\n").teams["t"]?.territoryFallback, "all")
        XCTAssertEqual(load(base + "  t: { territory_fallback: unassigned_members, members: [ { id: a } ] }\n").teams["t"]?.territoryFallback,
                       "unassigned_members")
        XCTAssertEqual(loadErrors(base + "  t: { territory_fallback: everyone, members: [ { id: a } ] }\n"),
                       ["r.yaml:5:28: unknown territory_fallback `everyone`; use all (leads no territory covers go round robin to every member) or unassigned_members (only to members without territories)"])
    }
}
