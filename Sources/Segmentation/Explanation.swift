/// Why a decision came out as it did: per entered/exited segment the rules with the values of their
/// sub-expressions, and how the score moved. Encodes as one JSON object keyed by segment name, plus
/// `score` (segment names always contain dots, so they never clash with it).
public struct Explanation: Codable, Sendable, Equatable {
    /// Entered or exited segments.
    public var segments: [String: SegmentExplanation]
    /// The score computation, when scoring is configured.
    public var score: ScoreExplanation?
    /// A status change (or a status kept against an on_event entry), when there was one.
    public var status: StatusExplanation?

    /// Creates an explanation.
    public init(segments: [String: SegmentExplanation] = [:], score: ScoreExplanation? = nil) {
        self.segments = segments; self.score = score
    }

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// Reads the flat object: `score` is the score explanation, every other key a segment.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        segments = [:]
        score = nil
        for k in c.allKeys {
            if k.stringValue == "score" { score = try c.decode(ScoreExplanation.self, forKey: k) } else if k.stringValue == "status" {
                status = try c.decode(StatusExplanation.self, forKey: k)
            } else {
                segments[k.stringValue] = try c.decode(SegmentExplanation.self, forKey: k)
            }
        }
    }

    /// Writes one object keyed by segment name, plus `score`.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        for (name, s) in segments { try c.encode(s, forKey: Key(stringValue: name)) }
        if let score { try c.encode(score, forKey: Key(stringValue: "score")) }
        if let status { try c.encode(status, forKey: Key(stringValue: "status")) }
    }
}

/// A status change in a decision's explanation: `from` → `to`, by what (`event`: the event
/// type of `statuses.on_event`; `crm`: a CRM or a queue ack set it), and the `when` rules with
/// their values. `kept: true` when an entry did not move it (its `when` was false, or the lead
/// is a customer and the entry has no `when`).
public struct StatusExplanation: Codable, Sendable, Equatable {
    public var from: String
    public var to: String?
    public var event: String?
    public var rule: String?
    public var kept: Bool?
    public var by: String?

    public init(from: String, to: String?, event: String? = nil, rule: String? = nil, kept: Bool? = nil, by: String? = nil) {
        self.from = from; self.to = to; self.event = event; self.rule = rule; self.kept = kept; self.by = by
    }
}

/// Why one segment was entered or exited.
public struct SegmentExplanation: Codable, Sendable, Equatable {
    /// `entered` or `exited`.
    public var change: String
    /// The `enter` rule with values, e.g. `count(added_to_cart, 7d) = 2 >= 1 → true`.
    public var enter: String
    /// The `exit` rule with values (nil when the segment has none: it leaves when `enter` fails).
    public var exit: String?
    /// Every sub-expression of both rules with its value.
    public var terms: [ExplainedTerm]
}

/// One sub-expression and its value.
public struct ExplainedTerm: Codable, Sendable, Equatable {
    /// Canonical text, e.g. `count(added_to_cart, 7d)`.
    public var expression: String
    /// Its value (durations as `7d`, timestamps as ISO 8601 strings).
    public var value: Value
}

/// How the score was computed: decay of the previous score, then each rule that matched.
public struct ScoreExplanation: Codable, Sendable, Equatable {
    /// Stored score before this evaluation.
    public var previous: Double
    /// When the previous score was computed.
    public var previousAt: Timestamp?
    /// Previous score decayed to now.
    public var decayed: Double
    /// The half-life used (e.g. `14d`), nil without decay.
    public var halfLife: String?
    /// Rules that matched this event.
    public var rules: [ScoreRuleApplication]
    /// Resulting score.
    public var score: Double
    /// Resulting band.
    public var band: String?

    enum CodingKeys: String, CodingKey {
        case previous, previousAt = "previous_at", decayed, halfLife = "half_life", rules, score, band
    }
}

/// One matched scoring rule.
public struct ScoreRuleApplication: Codable, Sendable, Equatable {
    /// The rule's `when`.
    public var rule: String
    /// Points of the rule.
    public var points: Double
    /// Points actually added (after the late-event decay and the cap).
    public var added: Double
    /// The rule's cap, if any.
    public var cap: Double?
    /// True when the cap reduced the points.
    public var capped: Bool
}

/// Renders compiled rules with the values of their parts.
enum Explainer {
    static func render(_ n: CNode, _ env: EvalEnv) -> String {
        var out = Text()
        out.bytes.reserveCapacity(256)
        render(n, env, into: &out)
        return String(decoding: out.bytes, as: UTF8.self)
    }

    /// The rendering as UTF-8 bytes, turned into a String once: appending to a String checks
    /// grapheme boundaries at every join and was a tenth of an evaluation. The bytes of valid
    /// strings concatenated are the concatenated string, so the text is the same.
    struct Text {
        var bytes: [UInt8] = []
        static func += (t: inout Text, s: String) { t.bytes.append(contentsOf: s.utf8) }
    }

    /// Appends the rendering of `n` and returns its value. Rules are pure, so a logic node's value
    /// follows from its parts' values, each evaluated once (not again at every level).
    @discardableResult
    private static func render(_ n: CNode, _ env: EvalEnv, into out: inout Text) -> RV {
        switch n.kind {
        case .logic(let op):
            let isAnd = op == .and
            var result = isAnd
            var first = true
            renderChain(n, op, env, into: &out, first: &first, result: &result, isAnd: isAnd)
            out += result ? " → true" : " → false"
            return .bool(result)
        case .compare(let op):
            let v = n.eval(env)
            side(n.children[0], env, into: &out)
            out += " "; out += op.rawValue; out += " "
            side(n.children[1], env, into: &out)
            out += " → "; out += v.text
            return v
        case .not:
            out += "not ("
            let inner = render(n.children[0], env, into: &out)
            let v = RV.bool(!inner.isTrue)
            out += ") → "; out += v.text
            return v
        case .literal:
            out += n.text
            return n.eval(env)
        default:
            let v = n.eval(env)
            out += n.text; out += " → "; out += v.text
            return v
        }
    }

    /// `a or b or c` as one list rather than nested pairs.
    private static func renderChain(_ n: CNode, _ op: BinaryOp, _ env: EvalEnv, into out: inout Text,
                                    first: inout Bool, result: inout Bool, isAnd: Bool) {
        if case .logic(op) = n.kind {
            for c in n.children { renderChain(c, op, env, into: &out, first: &first, result: &result, isAnd: isAnd) }
            return
        }
        if !first { out += " "; out += op.rawValue; out += " " }
        first = false
        out += "("
        let v = render(n, env, into: &out).isTrue
        out += ")"
        if isAnd { result = result && v } else { result = result || v }
    }

    private static func side(_ n: CNode, _ env: EvalEnv, into out: inout Text) {
        out += n.text
        if n.constant == nil { out += " = "; out += n.eval(env).text }
    }

    /// The non-constant sub-expressions of `nodes`, depth first, first occurrence of each text.
    static func termNodes(_ nodes: [CNode]) -> [CNode] {
        var seen = Set<String>()
        var out: [CNode] = []
        func walk(_ n: CNode) {
            if n.constant == nil, seen.insert(n.text).inserted { out.append(n) }
            n.children.forEach(walk)
        }
        nodes.forEach(walk)
        return out
    }

    /// Every term with its value, as JSON-ready data.
    static func terms(_ nodes: [CNode], _ env: EvalEnv) -> [ExplainedTerm] {
        var out: [ExplainedTerm] = []
        out.reserveCapacity(nodes.count)
        for n in nodes { out.append(ExplainedTerm(expression: n.text, value: n.eval(env).json)) }
        return out
    }
}
