import Foundation
import XCTest
@testable import Profiles
@testable import RulesTools
@testable import Segmentation

/// The runner behind `leadrouter rules test`: what it evaluates when, and how it reports.
final class CaseRunnerTests: XCTestCase {
    static let rules = """
        version: 1
        events:
          aliases: { "Product Added": added_to_cart }
        stages:
          - { stage: decision, when: 'count(added_to_cart, 7d) >= 1' }
          - { stage: awareness, when: 'true' }
        suppress:
          ads: 'lead.customer'
        segments:
          - name: decision.high-intent.cart
            priority: 10
            enter: 'count(added_to_cart, 7d) >= 1 and inactive(1h)'
            exit: 'count(added_to_cart, 7d) == 0'
            route:
              email: { sequence: cart-reminder }
              sales: { queue: carts, sla: 15m }
          - name: awareness.region.eu
            priority: 1
            enter: 'lead.ship_to_region == "EU"'
            route:
              ads: { audience: eu, landing_page: /eu }
        """

    func run(_ cases: String) throws -> [CaseOutcome] {
        let runner = CaseRunner(ruleset: try Ruleset.load(yaml: Self.rules, fileName: "rules.yaml").ruleset)
        return try CaseFile.parse(yaml: cases, fileName: "cases.yaml").cases.map(runner.run)
    }

    func testTheSweeperEvaluatesAtNextEvaluationAtAndEnteredCollectsSinceThePreviousStep() throws {
        let outcomes = try run("""
            cases:
              - name: sweep
                start: 2026-11-02T09:00:00Z
                steps:
                  - at: +0s
                    track: Product Added
                    expect: { segments: [], next_evaluation_at: +1h, stage: decision }
                  - at: +3h
                    expect:
                      entered: [decision.high-intent.cart]
                      actions: [ { channel: email, sequence: cart-reminder }, { channel: sales, queue: carts, sla_due_at: "2026-11-02T12:15:00.000Z" } ]
                  # entered at the +1h sweep, left at the +7d sweep: both reported here
                  - at: +8d
                    expect: { exited: [decision.high-intent.cart], entered: [], segments: [], next_evaluation_at: null }
              - name: sweep across two changes
                start: 2026-11-02T09:00:00Z
                steps:
                  - at: +0s
                    track: Product Added
                  - at: +8d
                    expect: { entered: [decision.high-intent.cart], exited: [decision.high-intent.cart], segments: [] }
              - name: no sweep
                start: 2026-11-02T09:00:00Z
                sweep: false
                steps:
                  - at: +0s
                    track: Product Added
                  - at: +8d
                    expect: { entered: [], exited: [], segments: [] }
            """)
        XCTAssertEqual(outcomes.map(\.passed), [true, true, true],
                       outcomes.flatMap { $0.report(fileName: "cases.yaml") }.joined(separator: "\n"))
        XCTAssertEqual(outcomes.map(\.segmentsEntered), [["decision.high-intent.cart"], ["decision.high-intent.cart"], []])
    }

    func testProfileStatusAndLateEvents() throws {
        let outcomes = try run("""
            cases:
              - name: profile, CRM status and a late event
                start: 2026-11-02T09:00:00Z
                lead: { email: a@example.com, plan: gold }
                steps:
                  - at: +0s
                    identify: { ship_to_region: EU }
                    expect:
                      entered: [awareness.region.eu]
                      actions: [ { channel: ads, audience: eu, landing_page: /eu } ]
                      suppressed: []
                  - at: +1m
                    status: converted
                    expect: { customer: true, status: converted, actions: [], suppressed: [ { channel: ads, reason: lead.customer } ] }
                  # happened 8 days before it arrives: outside every 7-day window
                  - at: +1m
                    received: +8d1m
                    track: Product Added
                    expect: { stage: awareness, next_evaluation_at: null }
            """)
        XCTAssertTrue(outcomes[0].passed, outcomes[0].report(fileName: "cases.yaml").joined(separator: "\n"))
    }

    func testAFailingCaseReportsEveryDifferingFieldWithExpectedAndActual() throws {
        let outcomes = try run("""
            cases:
              - name: wrong on purpose
                start: 2026-11-02T09:00:00Z
                lead: { ship_to_region: EU }
                steps:
                  - at: +1d2h
                    track: Product Added
                    expect:
                      stage: awareness
                      score: [5, 10]
                      segments: { contain: [decision.high-intent.cart], not_contain: [awareness.region.eu] }
                      primary_segment: decision.high-intent.cart
                      actions: [ { channel: email, sequence: x } ]
                      next_evaluation_at: +1d2h30m
            """)
        let outcome = try XCTUnwrap(outcomes.first)
        XCTAssertFalse(outcome.passed)
        let mismatches = try XCTUnwrap(outcome.failures.first).mismatches
        XCTAssertEqual(mismatches.map(\.field), [
            "stage", "score", "segments contain", "segments not contain", "primary_segment", "actions", "next_evaluation_at",
        ])
        XCTAssertEqual(mismatches[0], CaseMismatch(field: "stage", expected: "awareness", actual: "decision"))
        XCTAssertEqual(mismatches[1], CaseMismatch(field: "score", expected: "between 5.00 and 10.00", actual: "0.00"))
        XCTAssertEqual(mismatches[5], CaseMismatch(field: "actions", expected: "channels [email]", actual: "channels [ads]"))
        XCTAssertEqual(mismatches[6].actual, "2026-11-03T12:00:00Z")
        let report = outcome.report(fileName: "cases.yaml")
        XCTAssertEqual(report[0], "FAIL cases.yaml:2: wrong on purpose")
        XCTAssertEqual(report[1], "  step at +1d2h (2026-11-03T11:00:00.000Z), cases.yaml:6:9")
        XCTAssertEqual(report[2], "    stage                 expected awareness")
        XCTAssertEqual(report[3], "                          actual   decision")
    }
}
