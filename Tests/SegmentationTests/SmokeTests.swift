import XCTest
@testable import Segmentation

final class SmokeTests: XCTestCase {
    func testSampleLoadsAndRoutesCartAbandoner() throws {
        let rs = load(sampleYAML)
        let engine = Engine(rs)
        let r = runEvents(engine, [ev("Product Viewed", 0), ev("Product Added", 10 * minute)])
        XCTAssertEqual(r.decision.segments.entered, ["decision.high-intent.cart"])
        XCTAssertEqual(r.decision.stage, "decision")
        XCTAssertEqual(r.decision.actions.map(\.channel), ["email", "ads", "sales"])
        XCTAssertEqual(r.decision.explanation.segments["decision.high-intent.cart"]?.enter,
                       "(count(added_to_cart, 7d) = 1 >= 1 → true) or (count(requested_pricing, 30d) = 0 >= 1 → false) → true")
        let data = try Decision.jsonEncoder.encode(r.decision)
        print(String(decoding: data, as: UTF8.self))
        print(r.newState.signals.encode().count)
    }
}
