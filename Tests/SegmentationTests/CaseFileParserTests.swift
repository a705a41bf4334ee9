import Foundation
import XCTest
@testable import Profiles
@testable import RulesTools
@testable import Segmentation

/// The case-file format of `leadrouter rules test`: what it reads and how it refuses mistakes.
final class CaseFileParserTests: XCTestCase {
    func testReadsEventsExpectationsAndOffsets() throws {
        let file = try CaseFile.parse(yaml: """
            cases:
              - name: cart
                start: 2026-11-02T09:00:00Z
                lead: { email: a@example.com, company: { size: 40 } }
                steps:
                  - at: +1d2h
                    track: Product Added
                    properties: { price: 120, quantity: 1, sku: "007" }
                    expect:
                      score: [10, 20]
                      segments: { contain: [x], not_contain: [y] }
                      primary_segment: null
                      actions: [ { channel: email, sequence: cart-reminder } ]
                      suppressed: [ ads, { channel: email, reason: unsubscribed } ]
                      next_evaluation_at: +1d3h
                  - at: +2d
                    received: +3d
                    page: /shipping
                  - at: +4d
                    status: converted
                  - at: 2026-11-10T00:00:00Z
                    expect: { entered: [a], exited: [], score: 7 }
            """, fileName: "c.yaml")
        XCTAssertEqual(file.cases.count, 1)
        let testCase = file.cases[0]
        XCTAssertEqual(testCase.start, Date(timeIntervalSince1970: 1_793_610_000))
        XCTAssertEqual(testCase.lead["company"], .object(["size": .number(40)]))
        XCTAssertEqual(testCase.steps.count, 4)

        let first = testCase.steps[0]
        XCTAssertEqual(first.line, 6)
        XCTAssertEqual(first.at, testCase.start.addingTimeInterval(93_600))
        guard case let .event(event, received) = first.action else { return XCTFail("not an event") }
        XCTAssertEqual(event.kind, "track")
        XCTAssertEqual(event.name, "Product Added")
        XCTAssertEqual(event.properties["sku"], .string("007"))  // quoted stays text
        XCTAssertEqual(event.properties["price"], .number(120))
        XCTAssertEqual(received, first.at)
        let expect = try XCTUnwrap(first.expect)
        XCTAssertEqual(expect.score, 10...20)
        XCTAssertEqual(expect.segmentsContain, ["x"])
        XCTAssertEqual(expect.segmentsNotContain, ["y"])
        XCTAssertEqual(expect.primarySegment.map { $0 == nil }, true)
        XCTAssertEqual(expect.actions?.first?.fields, ["sequence": "cart-reminder"])
        XCTAssertEqual(expect.suppressed?.map(\.channel), ["ads", "email"])
        XCTAssertEqual(expect.suppressed?.last?.reason, "unsubscribed")
        XCTAssertEqual(expect.nextEvaluationAt??.timeIntervalSince(testCase.start), 97_200)

        guard case let .event(page, pageReceived) = testCase.steps[1].action else { return XCTFail("not a page") }
        XCTAssertEqual(page.kind, "page")
        XCTAssertEqual(page.properties["path"], .string("/shipping"))
        XCTAssertEqual(pageReceived.timeIntervalSince(testCase.start), 3 * 86_400)
        guard case .setStatus("converted") = testCase.steps[2].action else { return XCTFail("not a status") }
        guard case .evaluate = testCase.steps[3].action else { return XCTFail("not an evaluation") }
        XCTAssertEqual(testCase.steps[3].expect?.score, 6.99...7.01)
    }

    func testRefusesMistakesWithTheirPosition() {
        let cases: [(String, Int, Int, String)] = [
            ("cases:\n  - name: a\n    start: 2026-11-02T09:00:00Z\n    steps:\n      - at: +1x\n        page: /\n",
             5, 13, "bad offset '+1x'"),
            ("cases:\n  - name: a\n    start: 2026-11-02T09:00:00Z\n    steps:\n      - at: +1d\n        expect: { stagee: decision }\n",
             6, 27, "unknown key 'stagee' in expect"),
            ("cases:\n  - name: a\n    start: yesterday\n    steps: []\n", 3, 12, "bad instant 'yesterday'"),
            ("cases:\n  - name: a\n    start: 2026-11-02T09:00:00Z\n    steps:\n      - at: +2d\n        page: /\n      - at: +1d\n        page: /\n",
             7, 9, "steps must be in time order"),
            ("cases:\n  - name: a\n    start: 2026-11-02T09:00:00Z\n    steps:\n      - at: +1d\n        page: /\n        track: X\n",
             5, 9, "a step does one thing"),
            ("cases:\n  - name: a\n    start: 2026-11-02T09:00:00Z\n    steps:\n      - at: +1d\n",
             5, 9, "a step needs an event"),
            ("cases: [ { name: a, start: 2026-11-02T09:00:00Z, steps: [ { at: +1d, expect: { score: [5] } } ] } ]\n",
             1, 87, "a score range is [min, max]"),
            ("cases:\n  - name: [unclosed\n", 3, 1, "not valid YAML"),
        ]
        for (text, line, column, message) in cases {
            XCTAssertThrowsError(try CaseFile.parse(yaml: text, fileName: "c.yaml"), message) { error in
                guard let diagnostic = error as? CaseDiagnostic else { return XCTFail("\(error)") }
                XCTAssertEqual(diagnostic.line, line, "\(message): \(diagnostic.message)")
                XCTAssertEqual(diagnostic.column, column, "\(message): \(diagnostic.message)")
                XCTAssertTrue(diagnostic.message.contains(message), diagnostic.message)
                XCTAssertTrue(diagnostic.formatted(fileName: "c.yaml").hasPrefix("c.yaml:\(line):\(column): "))
            }
        }
    }

    func testOffsets() {
        XCTAssertEqual(CaseTime.offsetSeconds("1d2h30m"), 95_400)
        XCTAssertEqual(CaseTime.offsetSeconds("0s"), 0)
        XCTAssertEqual(CaseTime.offsetSeconds("2w"), 1_209_600)
        XCTAssertNil(CaseTime.offsetSeconds("2"))
        XCTAssertNil(CaseTime.offsetSeconds(""))
        XCTAssertNil(CaseTime.offsetSeconds("d"))
    }

    func testEveryShippedCaseFileParses() throws {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../config/cases").standardized
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".yaml") }
        XCTAssertGreaterThanOrEqual(names.count, 6)
        for name in names {
            let text = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
            do {
                let file = try CaseFile.parse(yaml: text, fileName: name)
                XCTAssertFalse(file.cases.isEmpty, name)
            } catch let error as CaseDiagnostic {
                XCTFail(error.formatted(fileName: name))
            }
        }
    }
}
