import RulesTools
import XCTest

/// `RulesetDiff` reports what an edit means — a segment's rule, its route, its owner, a band, a
/// scoring rule, a status, a suppression, a signal's coverage — and nothing for an edit that only
/// moves comments, key order or flow/block style.
final class RulesetDiffTests: XCTestCase {
    func testEachKindOfEditIsReportedWithOldAndNewText() throws {
        let old = try ShippedCasesTests.text("config/segments.yaml")
        var new = old
        for (from, to) in [
            ("count(page_viewed, 7d) >= 2) and count(product_viewed, 30d) == 0'", "count(page_viewed, 400d) >= 2) and count(product_viewed, 30d) == 0'"),
            ("email: { sequence: newsletter-welcome }", "email: { sequence: newsletter-welcome-v2 }"),
            ("owner: marketing\n    goal: { when: 'count(product_viewed, 30d) >= 1', within: 30d }\n    priority: 10\n",
             "owner: sales\n    goal: { when: 'count(product_viewed, 30d) >= 1', within: 30d }\n    priority: 10\n"),
            ("  ads: 'lead.customer'", "  # ads: 'lead.customer'"),
            ("{ below: 30, action: nurture_only }", "{ below: 25, action: nurture_only }"),
            ("{ when: 'event.type == \"requested_pricing\"', points: 40 }", "{ when: 'event.type == \"requested_pricing\"', points: 50 }"),
            ("requested_demo: { to: qualified, when: 'not lead.customer' }", "requested_demo: qualified"),
        ] {
            XCTAssertTrue(new.contains(from), from)
            new = new.replacingOccurrences(of: from, with: to)
        }
        let diff = try RulesetDiff(old: old, new: new)
        let summary = Set(diff.changes.map { "\($0.change) \($0.kind) \($0.name)" })
        XCTAssertEqual(summary, [
            "changed segment awareness.early-intent.researcher",
            "changed route awareness.early-intent.newsletter",
            "changed owner awareness.early-intent.researcher",
            "removed suppression ads",
            "changed band nurture_only",
            "changed scoring_rule event.type == \"requested_pricing\"",
            "changed status requested_demo",
            "changed signal page_viewed",
        ], diff.lines.joined(separator: "\n"))
        let route = try XCTUnwrap(diff.changes.first { $0.kind == "route" })
        XCTAssertEqual(route.old, "{email: {sequence: newsletter-welcome}}")
        XCTAssertEqual(route.new, "{email: {sequence: newsletter-welcome-v2}}")
        let suppression = try XCTUnwrap(diff.changes.first { $0.kind == "suppression" })
        XCTAssertEqual(suppression.old, "lead.customer")
        XCTAssertNil(suppression.new)
        XCTAssertTrue(diff.lines.contains("  + sales"), diff.lines.joined(separator: "\n"))
    }

    func testCommentsKeyOrderAndStyleAreNoChange() throws {
        let old = try ShippedCasesTests.text("config/segments.yaml")
        let new = "# a comment on top\n" + old
            .replacingOccurrences(of: "email: { sequence: newsletter-welcome }", with: "email:\n        sequence: newsletter-welcome")
            .replacingOccurrences(of: "{ below: 30, action: nurture_only }", with: "{ action: nurture_only, below: 30 }")
        XCTAssertNotEqual(old, new)
        let diff = try RulesetDiff(old: old, new: new)
        XCTAssertEqual(diff.changes, [])
        XCTAssertEqual(diff.lines, ["no differences"])
    }

    func testAddedAndRemovedSegmentsAndSections() throws {
        let old = try ShippedCasesTests.text("config/segments.yaml")
        let new = old.replacingOccurrences(of: "segments:\n", with: """
            segments:
              - name: awareness.low-intent.tester
                enter: 'count(product_viewed, 1d) >= 9'
                route: { email: { sequence: picks } }

            """)
        let diff = try RulesetDiff(old: old, new: new)
        XCTAssertEqual(diff.changes.filter { $0.change == "added" }.map { "\($0.kind) \($0.name)" },
                       ["segment awareness.low-intent.tester", "route awareness.low-intent.tester"])
        let reverse = try RulesetDiff(old: new, new: old)
        XCTAssertEqual(reverse.changes.filter { $0.change == "removed" }.map { "\($0.kind) \($0.name)" },
                       ["segment awareness.low-intent.tester", "route awareness.low-intent.tester"])
        XCTAssertThrowsError(try RulesetDiff(old: old, new: "version: 1\n"))
    }
}
