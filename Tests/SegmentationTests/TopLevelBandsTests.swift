import XCTest
@testable import Segmentation

/// `bands:` at the top level (issue 20's syntax) is the same list as `scoring.bands`: the same
/// bands and band routes, checked the same way with line and column; giving both is an error.
final class TopLevelBandsTests: XCTestCase {
    func testTopLevelBandsDecideAsScoringBands() {
        let nested = BandRouteTests.yaml
        let topLevel = nested.replacingOccurrences(of: "\n  bands:\n", with: "\nbands:\n")
        XCTAssertNotEqual(nested, topLevel)
        XCTAssertEqual(loadErrors(topLevel), [])
        let a = Engine(load(nested)), b = Engine(load(topLevel))
        XCTAssertEqual(b.ruleset.scoring.bands.map { (band: Band) in band.action }, ["nurture_only", "product_email_series", "route_to_sales"])
        for events in [[ev("carted", 0)], [ev("carted", 0), ev("carted", minute)], [ev("viewed", 0)],
                       [ev("carted", 0), ev("carted", minute), ev("called", 2 * minute)]] {
            let x = runEvents(a, events).decision, y = runEvents(b, events).decision
            XCTAssertEqual(y.band, x.band)
            XCTAssertEqual(y.actions, x.actions)
        }
    }

    func testCheckErrorsPointIntoTopLevelBands() {
        XCTAssertEqual(loadErrors("""
            version: 1
            bands:
              - { below: 30 }
              - { action: b, below: 10 }
            segments: []
            """), ["r.yaml:3:5: a band needs an `action`", "r.yaml:4:5: the last band must have no `below`: it takes every score above the others"])
        XCTAssertEqual(loadErrors("""
            version: 1
            scoring:
              bands: [ { action: a } ]
            bands: [ { action: b } ]
            segments: []
            """), ["r.yaml:4:8: bands are given twice: at the top level and as `scoring.bands`; keep one"])
        XCTAssertEqual(loadErrors("""
            version: 1
            bands: [ { action: a, route: { email: { sequense: s } } } ]
            segments: []
            """), ["r.yaml:2:39: `route.email` needs a `sequence`",
                   "r.yaml:2:41: unknown key `sequense` in `route.email` (did you mean `sequence`?); allowed: sequence, delay, window"])
    }
}
