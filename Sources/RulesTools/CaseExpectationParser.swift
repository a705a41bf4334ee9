import Foundation

extension CaseExpectation {
    static let keys: Set<String> = [
        "stage", "status", "band", "customer", "score", "segments", "entered", "exited",
        "primary_segment", "actions", "suppressed", "next_evaluation_at",
    ]

    /// Reads an `expect:` mapping.
    static func parse(_ node: CaseNode, start: Date) throws -> CaseExpectation {
        try node.checkKeys(keys, in: "expect")
        var expectation = CaseExpectation()
        for (key, value) in try node.pairs("expect") {
            switch key {
            case "stage": expectation.stage = try value.string("stage")
            case "status": expectation.status = try value.string("status")
            case "band": expectation.band = try value.string("band")
            case "customer": expectation.customer = try value.bool("customer")
            case "score": expectation.score = try parseScore(value)
            case "segments": try parseSegments(value, into: &expectation)
            case "entered": expectation.entered = try value.strings("entered")
            case "exited": expectation.exited = try value.strings("exited")
            case "primary_segment":
                expectation.primarySegment = .some(value.isNull ? nil : try value.string("primary_segment"))
            case "actions": expectation.actions = try value.items("actions").map(parseAction)
            case "suppressed": expectation.suppressed = try value.items("suppressed").map(parseSuppression)
            default:
                expectation.nextEvaluationAt = .some(
                    value.isNull ? nil : try CaseTime.parse(value, start: start, what: "next_evaluation_at"))
            }
        }
        return expectation
    }

    /// `score: 40` (within 0.01), `score: [30, 60]` or `score: { min: 30, max: 60 }`.
    static func parseScore(_ node: CaseNode) throws -> ClosedRange<Double> {
        switch node.node {
        case .scalar:
            let value = try node.number("score")
            return (value - 0.01)...(value + 0.01)
        case .sequence:
            let bounds = try node.items("score")
            guard bounds.count == 2 else { throw node.error("a score range is [min, max]") }
            return try range(bounds[0].number("score min"), bounds[1].number("score max"), at: node)
        default:
            try node.checkKeys(["min", "max"], in: "score")
            let fields = Dictionary(try node.pairs("score"), uniquingKeysWith: { first, _ in first })
            let low = try fields["min"]?.number("score min") ?? -Double.infinity
            let high = try fields["max"]?.number("score max") ?? Double.infinity
            return try range(low, high, at: node)
        }
    }

    static func range(_ low: Double, _ high: Double, at node: CaseNode) throws -> ClosedRange<Double> {
        guard low <= high else { throw node.error("score min \(low) is above max \(high)") }
        return low...high
    }

    /// `segments: [a, b]` (exactly) or `segments: { contain: […], not_contain: […], exactly: […] }`.
    static func parseSegments(_ node: CaseNode, into expectation: inout CaseExpectation) throws {
        if case .sequence = node.node {
            expectation.segmentsExactly = try node.strings("segments")
            return
        }
        try node.checkKeys(["contain", "not_contain", "exactly"], in: "segments")
        for (key, value) in try node.pairs("segments") {
            switch key {
            case "contain": expectation.segmentsContain = try value.strings("segments.contain")
            case "not_contain": expectation.segmentsNotContain = try value.strings("segments.not_contain")
            default: expectation.segmentsExactly = try value.strings("segments.exactly")
            }
        }
    }

    /// `{ channel: email, sequence: checkout-help }`: every other key is a field to match.
    static func parseAction(_ node: CaseNode) throws -> ExpectedAction {
        var channel: String?
        var fields: [String: String] = [:]
        for (key, value) in try node.pairs("an action") {
            if key == "channel" { channel = try value.string("channel") } else { fields[key] = value.value.description }
        }
        guard let channel else { throw node.error("an expected action needs a `channel`") }
        return ExpectedAction(channel: channel, fields: fields)
    }

    /// `ads` or `{ channel: ads, reason: lead.customer }`.
    static func parseSuppression(_ node: CaseNode) throws -> ExpectedSuppression {
        if case .scalar = node.node { return ExpectedSuppression(channel: try node.string("suppressed channel")) }
        try node.checkKeys(["channel", "reason"], in: "a suppressed channel")
        let fields = Dictionary(try node.pairs("a suppressed channel"), uniquingKeysWith: { first, _ in first })
        guard let channel = try fields["channel"]?.string("channel") else {
            throw node.error("a suppressed channel needs a `channel`")
        }
        return ExpectedSuppression(channel: channel, reason: try fields["reason"]?.string("reason"))
    }
}
