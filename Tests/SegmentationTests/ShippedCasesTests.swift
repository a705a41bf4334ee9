import Foundation
import XCTest
@testable import Profiles
@testable import RulesTools
@testable import Segmentation

/// The shipped sample ruleset and its shipped cases, as `leadrouter rules check` and `rules test`
/// see them: the sample loads cleanly, every case passes, and together they enter every segment.
final class ShippedCasesTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../..").standardized

    static func text(_ path: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
    }

    func testSampleRulesetChecksClean() throws {
        let report = RulesCheckReport(yaml: try Self.text("config/segments.yaml"), fileName: "config/segments.yaml")
        XCTAssertEqual(report.diagnostics, [])
        XCTAssertEqual(report.exitCode, 0)
        let ruleset = try XCTUnwrap(report.loaded).ruleset
        XCTAssertEqual(report.summary,
                       "config/segments.yaml: ok, \(ruleset.segments.count) segments, \(ruleset.signals.count) signals, 0 warnings")
        XCTAssertEqual(ruleset.segments.count, 23)   // + wishlist, deal-seeker, trial, vip (issue 14)
        // Every segment drives an action, and every name is <stage>.<intent>.<theme>.
        for segment in ruleset.segments {
            XCTAssertEqual(segment.name.split(separator: ".").count, 3, segment.name)
            XCTAssertTrue(segment.route.email != nil || segment.route.ads != nil || segment.route.sales != nil, segment.name)
            XCTAssertNotNil(segment.description, segment.name)
            XCTAssertNotNil(segment.owner, segment.name)
        }
    }

    func testEveryShippedCasePassesAndTogetherTheyEnterEverySampleSegment() throws {
        let ruleset = try Ruleset.load(yaml: try Self.text("config/segments.yaml"), fileName: "config/segments.yaml").ruleset
        let runner = CaseRunner(ruleset: ruleset)
        let directory = Self.root.appendingPathComponent("config/cases")
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".yaml") }.sorted()
        XCTAssertGreaterThanOrEqual(names.count, 6)
        var entered: Set<String> = []
        var count = 0
        for name in names {
            let path = "config/cases/\(name)"
            let file = try CaseFile.parse(yaml: try Self.text(path), fileName: path)
            for testCase in file.cases {
                let outcome = runner.run(testCase)
                XCTAssertTrue(outcome.passed, outcome.report(fileName: path).joined(separator: "\n"))
                XCTAssertFalse(testCase.steps.filter { $0.expect != nil }.isEmpty, "\(path): \(testCase.name) checks nothing")
                entered.formUnion(outcome.segmentsEntered)
                count += 1
            }
        }
        XCTAssertGreaterThanOrEqual(count, 20)
        let missing = Set(ruleset.segments.map(\.name)).subtracting(entered)
        XCTAssertEqual(missing, [], "segments no shipped case enters")
    }

    /// `rules check` on a broken copy of the sample: each error at the line and column of the
    /// mistake, found from the text so that editing the sample keeps this test right.
    func testRulesCheckPointsAtEachMistakeInABrokenSample() throws {
        let original = try Self.text("config/segments.yaml")
        let edits = [
            ("count(added_to_cart, 7d) > count(removed_from_cart, 7d) and inactive(1h)",
             "count(added_to_card, 7d) > count(removed_from_cart, 7d) and inactive(1h)", "added_to_card",
             "unknown event type `added_to_card` (did you mean `added_to_cart`?)"),
            ("lead.ship_to_region == \"EU\" and count", "lead.ship_to_region > 3 and count", "lead.ship_to_region > 3",
             "cannot compare `lead.ship_to_region` (text) with `3` (number) using `>`"),
            ("team: enterprise-sales, sla: 30m", "team: enterprise-sale, sla: 30m", "enterprise-sale,",
             "unknown team `enterprise-sale` (did you mean `enterprise-sales`?)"),
            ("half_life: 14d", "half_life: 14days", "14days", "half_life"),
        ]
        var broken = original
        for (from, to, _, _) in edits {
            XCTAssertNotNil(broken.range(of: from), "the sample no longer contains \(from)")
            broken = broken.replacingOccurrences(of: from, with: to)
        }
        let report = RulesCheckReport(yaml: broken, fileName: "broken.yaml")
        XCTAssertEqual(report.exitCode, 1)
        XCTAssertNil(report.loaded)
        XCTAssertEqual(report.summary, "broken.yaml: \(edits.count) errors")
        XCTAssertEqual(report.diagnostics.count, edits.count, report.diagnostics.joined(separator: "\n"))
        for (_, _, marker, message) in edits {
            let (line, column) = try XCTUnwrap(Self.position(of: marker, in: broken))
            let prefix = "broken.yaml:\(line):\(column): "
            XCTAssertTrue(report.diagnostics.contains { $0.hasPrefix(prefix) && $0.contains(message) },
                          "expected \(prefix)…\(message) in\n\(report.diagnostics.joined(separator: "\n"))")
        }
    }

    /// `rules check` on a copy of the sample with the hysteresis trap put back (the cart's exit no
    /// longer reads removals, b2b-smb's no longer reads the industry) and an unquoted event name:
    /// warnings at the enter clause left without counterpart, the hint at the name.
    func testRulesCheckWarnsOfTheHysteresisTrapAndHintsAtUnquotedEventNames() throws {
        let original = try Self.text("config/segments.yaml")
        var trapped = original
        for (from, to) in [
            ("exit: 'lead.customer or count(added_to_cart, 7d) <= count(removed_from_cart, 7d) or count(completed_checkout, 7d) >= 1'",
             "exit: 'lead.customer or count(completed_checkout, 7d) >= 1'"),
            (" or lead.company.size < 10 or lead.company.industry not in [\"fitness\", \"hospitality\", \"retail\", \"sports\"]'",
             " or lead.company.size < 10'"),
        ] {
            XCTAssertNotNil(trapped.range(of: from), "the sample no longer contains \(from)")
            trapped = trapped.replacingOccurrences(of: from, with: to)
        }
        let report = RulesCheckReport(yaml: trapped, fileName: "trapped.yaml")
        XCTAssertEqual(report.exitCode, 0, "warnings do not refuse the ruleset")
        XCTAssertEqual(report.diagnostics.count, 2, report.diagnostics.joined(separator: "\n"))
        let (cartLine, cartColumn) = try XCTUnwrap(Self.position(of: "count(added_to_cart, 7d) > count(removed_from_cart, 7d) and inactive(1h)", in: trapped))
        XCTAssertEqual(report.diagnostics.last,
                       "trapped.yaml:\(cartLine):\(cartColumn): warning: `enter` of `decision.high-intent.cart` requires `count(added_to_cart, 7d) > count(removed_from_cart, 7d)`, but `exit` never reads it: a lead that stops matching it stays in the segment (hysteresis trap); add its negation to `exit`, e.g. `… or not (count(added_to_cart, 7d) > count(removed_from_cart, 7d))`")
        let (smbLine, sizeColumn) = try XCTUnwrap(Self.position(of: "lead.company.size < 200 and lead.company.industry in", in: trapped))
        let smbColumn = sizeColumn + "lead.company.size < 200 and ".count
        XCTAssertTrue(report.diagnostics.contains { $0.hasPrefix("trapped.yaml:\(smbLine):\(smbColumn): warning: `enter` of `consideration.mid-intent.b2b-smb` requires `lead.company.industry in") },
                      report.diagnostics.joined(separator: "\n"))

        // An unquoted event name with a space: the error names the one-word type and the alias.
        let unquoted = original.replacingOccurrences(of: "count(webinar_attended, 7d) >= 1'", with: "count(Webinar Attended, 7d) >= 1'")
        let broken = RulesCheckReport(yaml: unquoted, fileName: "unquoted.yaml")
        let (line, column) = try XCTUnwrap(Self.position(of: "Webinar Attended, 7d", in: unquoted))
        XCTAssertEqual(broken.diagnostics, [
            "unquoted.yaml:\(line):\(column): `Webinar Attended` looks like an event name with spaces: rules use one-word event types: write count(webinar_attended…) and map the incoming name under events.aliases (`\"Webinar Attended\": webinar_attended`)",
        ])
    }

    /// docs/rules.md "Write your first segment": the example segment appended to the sample checks
    /// clean, its case passes, and with `exit: 'lead.customer'` alone `rules check` warns twice.
    func testTheFirstSegmentWalkthroughRunsAsWritten() throws {
        let yaml = try Self.text("config/segments.yaml") + (try Self.text("docs/examples/first-segment/segment.yaml"))
        let report = RulesCheckReport(yaml: yaml, fileName: "my-segments.yaml")
        XCTAssertEqual(report.diagnostics, [])
        let ruleset = try XCTUnwrap(report.loaded).ruleset
        let path = "docs/examples/first-segment/shoe-hesitant.yaml"
        let file = try CaseFile.parse(yaml: try Self.text(path), fileName: path)
        for testCase in file.cases {
            let outcome = CaseRunner(ruleset: ruleset).run(testCase)
            XCTAssertTrue(outcome.passed, outcome.report(fileName: path).joined(separator: "\n"))
        }
        let exit = try XCTUnwrap(yaml.range(of: "    exit: 'lead.customer or count(product_viewed where event.properties.category == \"running-shoes\", 7d) == 0 or count(added_to_cart, 7d) >= 1'"))
        let trapped = yaml.replacingCharacters(in: exit, with: "    exit: 'lead.customer'")
        let warned = RulesCheckReport(yaml: trapped, fileName: "my-segments.yaml")
        XCTAssertEqual(warned.diagnostics.count, 2, warned.diagnostics.joined(separator: "\n"))
        XCTAssertTrue(warned.diagnostics.allSatisfy { $0.contains("hysteresis trap") })
    }

    /// 1-based line and column (in characters) of the first occurrence of `marker`.
    static func position(of marker: String, in text: String) -> (Int, Int)? {
        for (index, line) in text.components(separatedBy: "\n").enumerated() {
            if let range = line.range(of: marker) {
                return (index + 1, line.distance(from: line.startIndex, to: range.lowerBound) + 1)
            }
        }
        return nil
    }
}
