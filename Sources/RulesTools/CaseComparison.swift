import Foundation

/// The parts of a decision a case can check, taken from the engine's evaluation.
struct ObservedDecision: Sendable {
    var stage: String?
    var status: String?
    var band: String?
    var customer: Bool
    var score: Double
    var current: [String]
    /// Entered and exited since the previous step (sweeps included).
    var entered: [String]
    var exited: [String]
    var primarySegment: String?
    var actions: [(channel: String, fields: [String: String])]
    var suppressed: [(channel: String, reason: String)]
    var nextEvaluationAt: Date?
}

/// One field that differs from what the case expects.
public struct CaseMismatch: Sendable, Equatable {
    /// The field, e.g. `stage`, `segments contain` or `actions.email.sequence`.
    public var field: String
    /// What the case expects, as text.
    public var expected: String
    /// What the engine decided, as text.
    public var actual: String
}

extension CaseExpectation {
    /// Every field that differs, in a stable order.
    func mismatches(against observed: ObservedDecision) -> [CaseMismatch] {
        var out: [CaseMismatch] = []
        func check(_ field: String, _ expected: String?, _ actual: String?) {
            guard let expected, expected != (actual ?? "null") else { return }
            out.append(CaseMismatch(field: field, expected: expected, actual: actual ?? "null"))
        }
        check("stage", stage, observed.stage)
        check("status", status, observed.status)
        check("band", band, observed.band)
        check("customer", customer.map(String.init), String(observed.customer))
        if let score, !score.contains(observed.score) {
            out.append(CaseMismatch(field: "score", expected: Self.describe(score), actual: Self.number(observed.score)))
        }
        let current = Set(observed.current)
        if let exactly = segmentsExactly, Set(exactly) != current {
            out.append(CaseMismatch(field: "segments", expected: Self.list(exactly), actual: Self.list(observed.current)))
        }
        if let contain = segmentsContain, case let missing = contain.filter({ !current.contains($0) }), !missing.isEmpty {
            out.append(CaseMismatch(field: "segments contain", expected: Self.list(contain),
                                    actual: "missing \(Self.list(missing)); current \(Self.list(observed.current))"))
        }
        if let notContain = segmentsNotContain, case let present = notContain.filter(current.contains), !present.isEmpty {
            out.append(CaseMismatch(field: "segments not contain", expected: "none of \(Self.list(notContain))",
                                    actual: "present \(Self.list(present))"))
        }
        if let entered, Set(entered) != Set(observed.entered) {
            out.append(CaseMismatch(field: "entered", expected: Self.list(entered), actual: Self.list(observed.entered)))
        }
        if let exited, Set(exited) != Set(observed.exited) {
            out.append(CaseMismatch(field: "exited", expected: Self.list(exited), actual: Self.list(observed.exited)))
        }
        if let primarySegment {
            check("primary_segment", primarySegment ?? "null", observed.primarySegment)
        }
        if let actions { out += Self.compare(actions: actions, observed.actions) }
        if let suppressed { out += Self.compare(suppressed: suppressed, observed.suppressed) }
        if let nextEvaluationAt {
            check("next_evaluation_at", nextEvaluationAt.map(CaseTime.format) ?? "null",
                  observed.nextEvaluationAt.map(CaseTime.format))
        }
        return out
    }

    static func compare(actions expected: [ExpectedAction],
                        _ actual: [(channel: String, fields: [String: String])]) -> [CaseMismatch] {
        var out: [CaseMismatch] = []
        let expectedChannels = expected.map(\.channel)
        let actualChannels = actual.map(\.channel)
        // One entry per action: with `routing.all_segments` a channel can act more than once.
        if expectedChannels.sorted() != actualChannels.sorted() {
            out.append(CaseMismatch(field: "actions", expected: "channels \(list(expectedChannels))",
                                    actual: "channels \(list(actualChannels))"))
        }
        // The k-th expected action of a channel is checked against the k-th action of that channel.
        var seen: [String: Int] = [:]
        for action in expected {
            let k = seen[action.channel, default: 0]
            seen[action.channel] = k + 1
            let ofChannel = actual.filter { $0.channel == action.channel }
            guard k < ofChannel.count else { continue }
            let found = ofChannel[k]
            for key in action.fields.keys.sorted() where found.fields[key] != action.fields[key] {
                out.append(CaseMismatch(field: "actions.\(action.channel).\(key)", expected: action.fields[key]!,
                                        actual: found.fields[key] ?? "null"))
            }
        }
        return out
    }

    static func compare(suppressed expected: [ExpectedSuppression],
                        _ actual: [(channel: String, reason: String)]) -> [CaseMismatch] {
        var out: [CaseMismatch] = []
        if Set(expected.map(\.channel)) != Set(actual.map(\.channel)) {
            out.append(CaseMismatch(field: "suppressed", expected: list(expected.map(\.channel)),
                                    actual: list(actual.map(\.channel))))
        }
        for item in expected {
            guard let reason = item.reason, let found = actual.first(where: { $0.channel == item.channel }) else { continue }
            if found.reason != reason {
                out.append(CaseMismatch(field: "suppressed.\(item.channel).reason", expected: reason, actual: found.reason))
            }
        }
        return out
    }

    static func list(_ items: [String]) -> String { "[" + items.sorted().joined(separator: ", ") + "]" }

    static func number(_ value: Double) -> String { String(format: "%.2f", value) }

    static func describe(_ range: ClosedRange<Double>) -> String {
        if range.upperBound - range.lowerBound <= 0.021 { return number((range.lowerBound + range.upperBound) / 2) }
        return "between \(number(range.lowerBound)) and \(number(range.upperBound))"
    }
}
