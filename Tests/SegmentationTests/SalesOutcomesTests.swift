import XCTest
@testable import RulesTools
@testable import Segmentation

/// `sales.outcomes`: the statuses a queue ack may set, their default, and `rules check` errors
/// with line and column like every other key.
final class SalesOutcomesTests: XCTestCase {
    let base = """
    version: 1
    statuses:
      on_event: { requested_pricing: qualified, completed_checkout: converted, unsubscribed: unsubscribed }
    segments:
      - { name: decision.x.y, enter: 'true' }

    """

    func testDefaultIsEveryKnownStatusButTheCustomerOnes() {
        XCTAssertEqual(load(base).salesOutcomes, ["new", "qualified", "sales_outreach_started", "unsubscribed"])
        XCTAssertEqual(load("version: 1\nsegments:\n  - { name: decision.x.y, enter: 'true' }\n").salesOutcomes,
                       ["new", "sales_outreach_started"])
        XCTAssertEqual(load(base + "sales: {}\n").salesOutcomes, ["new", "qualified", "sales_outreach_started", "unsubscribed"])
    }

    func testListedOutcomesAreTheAllowedOnes() {
        XCTAssertEqual(load(base + "sales:\n  outcomes: [sales_outreach_started, meeting_scheduled]\n").salesOutcomes,
                       ["meeting_scheduled", "sales_outreach_started"])
    }

    func testMistakesAreReportedWithLineAndColumn() {
        XCTAssertEqual(loadErrors(base + "sales:\n  outcomes: [meeting_scheduled, Meeting Held, meeting_scheduled]\n"), [
            "r.yaml:7:33: `Meeting Held` is not a status name: lower-case letters, digits, `_`, `.`, `-`",
            "r.yaml:7:47: `meeting_scheduled` is listed twice in `sales.outcomes`",
        ])
        XCTAssertEqual(loadErrors(base + "sales:\n  outcomes: meeting_scheduled\n"), ["r.yaml:7:13: `sales.outcomes` must be a list"])
        XCTAssertEqual(loadErrors(base + "sales:\n  outcomes: []\n"),
                       ["r.yaml:7:13: `sales.outcomes` needs at least one status (leave it out for the default)"])
        XCTAssertEqual(loadErrors(base + "sales:\n  outcome: [x]\n"),
                       ["r.yaml:7:3: unknown key `outcome` in `sales` (did you mean `outcomes`?); allowed: outcomes"])
        XCTAssertEqual(loadErrors(base + "sales: [x]\n"), ["r.yaml:6:8: `sales` must be a mapping of `key: value` lines"])
        // `rules check` prints them as FILE:LINE:COLUMN: message.
        let report = RulesCheckReport(yaml: base + "sales:\n  outcomes: [ok, 'Not OK']\n", fileName: "segments.yaml")
        XCTAssertEqual(report.exitCode, 1)
        XCTAssertEqual(report.diagnostics, ["segments.yaml:7:18: `Not OK` is not a status name: lower-case letters, digits, `_`, `.`, `-`"])
    }

    func testTheSampleRulesetListsItsOutcomes() throws {
        let sample = try String(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("config/segments.yaml"), encoding: .utf8)
        XCTAssertEqual(load(sample).salesOutcomes, ["engaged", "meeting_scheduled", "qualified", "sales_outreach_started"])
    }
}
