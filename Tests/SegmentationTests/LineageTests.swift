import XCTest
@testable import Segmentation

/// `Lineage`: which segments, scoring rules, stages and routes read an event type or a field;
/// and the `key_events` ruleset key drift watches.
final class LineageTests: XCTestCase {
    func testReadersOfEventTypesAndFields() {
        let lineage = Lineage(ruleset: load(sampleYAML))
        let pricing = lineage.readers(ofEventType: "requested_pricing")
        XCTAssertEqual(pricing.segments, ["decision.high-intent.cart"])
        XCTAssertEqual(pricing.stages, ["decision"])
        XCTAssertEqual(pricing.scoringRules.count, 1, "event.type == \"requested_pricing\" counts as reading it")
        XCTAssertEqual(pricing.routes, ["sales:high-intent", "email:checkout-help", "ads:cart-abandoners"])
        XCTAssertEqual(pricing.owners, ["sales"])
        let viewed = lineage.readers(ofEventType: "product_viewed")
        XCTAssertEqual(viewed.segments, [])
        XCTAssertEqual(viewed.stages, ["consideration"])
        XCTAssertEqual(viewed.scoringRules.count, 1)
        XCTAssertEqual(lineage.readers(ofEventType: "completed_checkout").segments, ["decision.high-intent.cart"], "read by the exit rule")
        XCTAssertEqual(lineage.readers(ofField: "status").segments, ["decision.high-intent.cart"])
        XCTAssertEqual(lineage.readers(ofField: "customer").stages, ["retention"])
        XCTAssertTrue(lineage.readers(ofEventType: "unsubscribed").isEmpty, "only a status moves on it; no rule reads it")
        XCTAssertTrue(lineage.readers(ofField: "country").isEmpty)
    }

    func testWhatOneRuleReads() {
        let reads = Lineage.reads(["lead.source.last == \"cpc\" and exists(lead.company.domain) and lead.traits.plan == \"pro\"",
                                   "event.type in [\"a\", \"b\"] or max(checkout_started.value, 7d) > 1 or since(c) > 2d"])
        XCTAssertEqual(reads.leadFields, ["source", "company.domain", "traits.plan"])
        XCTAssertEqual(reads.eventTypes, ["a", "b", "checkout_started", "c"])
    }

    func testKeyEventsAreKnownTypesWithASilence() {
        let ruleset = load(sampleYAML + "\nkey_events:\n  requested_pricing: 2d\n  completed_checkout: 12h\n")
        XCTAssertEqual(ruleset.keyEvents, [KeyEvent(type: "completed_checkout", silence: Segmentation.Duration(milliseconds: 12 * hour)),
                                           KeyEvent(type: "requested_pricing", silence: Segmentation.Duration(milliseconds: 2 * day))])
        XCTAssertEqual(load(sampleYAML).keyEvents, [])
        let errors = loadErrors(sampleYAML + "\nkey_events:\n  requested_pricng: 2d\n  product_viewed: soon\n")
        XCTAssertEqual(errors.count, 2, "\(errors)")
        XCTAssertTrue(errors.contains { $0.contains("unknown event type `requested_pricng` (did you mean `requested_pricing`?)") }, "\(errors)")
        XCTAssertTrue(errors.contains { $0.contains("is not a duration") }, "\(errors)")
    }
}
