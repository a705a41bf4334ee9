import XCTest
@testable import Segmentation

/// `Dictionary.member` (rule paths into event properties and context) compares keys one by one in
/// small objects instead of hashing: it must answer exactly what the subscript answers, for
/// present and missing keys, at every size around the cut-off, with keys that are equal as
/// Swift strings but not byte for byte (a precomposed `é` and `e` + U+0301).
final class ValueMemberTests: XCTestCase {
    func testAnswersWhatTheSubscriptAnswers() {
        let keys = ["path", "campaign", "é", "a-key-longer-than-fifteen-bytes", "medium", "referrer", "x"]
        let probes = keys + ["e\u{301}", "Path", "", "missing", "a-key-longer-than-fifteen-byteS"]
        for size in 0...keys.count {
            var object: [String: Value] = [:]
            for (i, key) in keys.prefix(size).enumerated() { object[key] = .number(Double(i)) }
            for probe in probes {
                XCTAssertEqual(object.member(probe), object[probe], "\(size) members, key \(probe)")
            }
            XCTAssertEqual(Value.object(object)["é"], object["é"])
        }
        // Any value type (a lead's sent logs, score parts), around the cut-off too.
        for size in 0...keys.count {
            var parts: [String: Double] = [:]
            for (i, key) in keys.prefix(size).enumerated() { parts[key] = Double(i) }
            for probe in probes { XCTAssertEqual(parts.member(probe), parts[probe], "\(size) parts, key \(probe)") }
        }
        // Through a rule path (`dig`): nested objects and a missing step.
        let context: [String: Value] = ["page": .object(["path": .string("/p/1")]), "campaign": .object(["medium": .string("cpc")])]
        XCTAssertEqual(dig(context, ["campaign", "medium"]), .string("cpc"))
        XCTAssertEqual(dig(context, ["page", "referrer"]), nil)
        XCTAssertEqual(dig(context, ["utm", "medium"]), nil)
    }
}
