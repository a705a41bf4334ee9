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
    /// How templated and chosen action fields got their values (key `actions`; absent when none).
    public var actions: [ActionExplanation] = []

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
            if k.stringValue == "score" { score = try c.decode(ScoreExplanation.self, forKey: k) } else if k.stringValue == "actions" {
                actions = try c.decode([ActionExplanation].self, forKey: k)
            } else if k.stringValue == "status" {
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
        if !actions.isEmpty { try c.encode(actions, forKey: Key(stringValue: "actions")) }
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

/// Why one segment was entered or exited: only the rule that decided (an entry shows `enter`, an
/// exit shows `exit`, or `enter` when the segment has no `exit` and it stopped holding), and of that
/// rule only the clauses that decided it. `enter`/`exit` is the text a marketer reads; `clauses`
/// and `terms` are the same facts for programs.
public struct SegmentExplanation: Codable, Sendable, Equatable {
    /// `entered` or `exited`.
    public var change: String
    /// The deciding clauses of `enter`, e.g. `count(added_to_cart, 7d) is 2, >= 1 ✓`.
    public var enter: String?
    /// The deciding clauses of `exit`, e.g. `inactive(14d) ✓`.
    public var exit: String?
    /// The clauses that decided, each with whether it held.
    public var clauses: [ExplainedClause]
    /// Every sub-expression of the deciding clauses with its value.
    public var terms: [ExplainedTerm]
}

/// One clause (an `and`/`or` part) that decided a rule.
public struct ExplainedClause: Codable, Sendable, Equatable {
    /// Canonical text, e.g. `count(added_to_cart, 7d) >= 1`.
    public var clause: String
    /// Whether it held.
    public var holds: Bool
    /// For a count (or sum/max/min/avg) with a `where` filter that this event matched: the event
    /// properties the filter reads, with this event's values (e.g. the cart's price and quantity).
    public var event: [String: Value]?
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
    /// The computation in words, e.g. `41.1, 2 days ago, half-life 14d → 37.3; + 40 = 77.3`.
    public var text: String

    enum CodingKeys: String, CodingKey {
        case previous, previousAt = "previous_at", decayed, halfLife = "half_life", rules, score, band, text
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
    /// How long before the evaluation the event happened (e.g. `7d`), when its points decayed.
    public var age: String?
    /// The points in words, decay spelled out: `40 points, 7 days ago, half-life 14d → 28.3`.
    public var text: String
}

/// Renders compiled rules as a marketer reads them: each deciding clause as its value, then the
/// comparison, then ✓ or ✗ (`lead.source is "email_newsletter" ✓`, `count(added_to_cart, 7d) is 2,
/// >= 1 ✓`). Of an `and` that held every part decided, of one that failed only the failed parts;
/// of an `or` that held only the parts that held, of one that failed every part.
enum Explainer {
    /// The text of the deciding clauses of `n`.
    static func render(_ n: CNode, _ env: EvalEnv) -> String {
        var walk = Walk(env: env)
        walk.decided(n, nested: false)
        return walk.string
    }

    /// The text, and the deciding clauses with their values for programs.
    static func explain(_ n: CNode, _ env: EvalEnv) -> (text: String, clauses: [ExplainedClause], terms: [ExplainedTerm]) {
        var walk = Walk(env: env)
        walk.decided(n, nested: false)
        let clauses = walk.leaves.map { leaf in
            ExplainedClause(clause: leaf.node.text, holds: leaf.holds, event: leaf.event.isEmpty ? nil : Dictionary(leaf.event, uniquingKeysWith: { a, _ in a }))
        }
        // The values inside each clause (the clause's own truth is in `clauses`).
        let inside = walk.leaves.flatMap { leaf -> [CNode] in
            switch leaf.node.kind {
            case .compare, .not: return leaf.node.children
            default: return [leaf.node]
            }
        }
        return (walk.string, clauses, terms(termNodes(inside), env))
    }

    /// The rendering as UTF-8 bytes, turned into a String once: appending to a String checks
    /// grapheme boundaries at every join and was a tenth of an evaluation. The bytes of valid
    /// strings concatenated are the concatenated string, so the text is the same.
    struct Text {
        var bytes: [UInt8]
        init() { bytes = []; bytes.reserveCapacity(128) }
        /// From the contiguous UTF-8 (a copy of memory): appending the `utf8` view went byte by byte.
        static func += (t: inout Text, s: String) {
            var s = s
            s.withUTF8 { t.bytes.append(contentsOf: $0) }
        }
        var string: String { String(decoding: bytes, as: UTF8.self) }
    }

    /// One rendering: the text so far and the leaf clauses met.
    struct Walk {
        let env: EvalEnv
        var text = Text()
        var string: String { String(decoding: text.bytes, as: UTF8.self) }
        var leaves: [(node: CNode, holds: Bool, event: [(String, Value)])] = []

        /// Appends the clauses of `n` that decided its value and returns the value.
        @discardableResult
        mutating func decided(_ n: CNode, nested: Bool) -> Bool {
            guard case .logic(let op) = n.kind else { return clause(n) }
            var parts: [CNode] = []
            Explainer.chain(n, op, into: &parts)
            let values = parts.map { $0.eval(env).isTrue }
            let isAnd = op == .and
            let result = isAnd ? !values.contains(false) : values.contains(true)
            // Deciding parts: all of them when the result is the neutral outcome, else only those that forced it.
            let keep = parts.indices.filter { isAnd ? (result || !values[$0]) : (!result || values[$0]) }
            let group = nested && keep.count > 1
            if group { text += "(" }
            for (j, i) in keep.enumerated() {
                if j > 0 { text += " \(op.rawValue) " }
                decided(parts[i], nested: true)
            }
            if group { text += ")" }
            return result
        }

        /// One leaf clause: value, comparison, mark.
        private mutating func clause(_ n: CNode) -> Bool {
            let holds = n.eval(env).isTrue
            var event: [(String, Value)] = []
            switch n.kind {
            case .compare(let op):
                var (subject, other, shown) = (n.children[0], n.children[1], op)
                if subject.constant != nil, other.constant == nil, op.isOrdering || op == .eq || op == .ne {
                    (subject, other, shown) = (other, subject, op.flipped)
                }
                let value = subject.eval(env)
                text += subject.text; text += " is "; text += value.text
                event = Explainer.matchedEvent(subject, env)
                if !event.isEmpty { text += " (this event: " + event.map { "\($0.0) \(RV($0.1).text)" }.joined(separator: ", ") + ")" }
                if other.constant != nil, shown == .eq {
                    if !holds { text += ", not "; text += other.text }
                } else if other.constant != nil, shown == .ne {
                    if holds { text += ", not "; text += other.text }
                } else {
                    text += ", "; text += shown.rawValue; text += " "; text += other.text
                    if other.constant == nil { text += " (" + other.eval(env).text + ")" }
                }
            case .not where n.children[0].kind == .path || n.children[0].kind == .call:
                text += n.text
            case .not:
                // One clause for programs: the negation, not the parts inside it.
                let before = leaves.count
                text += "not ("
                decided(n.children[0], nested: false)
                text += ")"
                leaves.removeSubrange(before...)
            case .path, .call, .literal:
                text += n.text
                let v = n.eval(env)
                if case .bool = v {} else { text += " is "; text += v.text }
            default:
                text += n.text; text += " is "; text += n.eval(env).text
            }
            text += holds ? " ✓" : " ✗"
            leaves.append((n, holds, event))
            return holds
        }
    }

    /// `a or b or c` as one list rather than nested pairs.
    static func chain(_ n: CNode, _ op: BinaryOp, into out: inout [CNode]) {
        if case .logic(op) = n.kind {
            for c in n.children { chain(c, op, into: &out) }
        } else {
            out.append(n)
        }
    }

    /// For a count or aggregate with a `where` filter that the event being evaluated matched: the
    /// event properties the filter reads, with their values (`price 250, quantity 2`).
    static func matchedEvent(_ n: CNode, _ env: EvalEnv) -> [(String, Value)] {
        guard let signal = n.signal, let filter = signal.filter, let ev = env.event, ev.type == signal.type,
              filter.eval(env).isTrue else { return [] }
        var out: [(String, Value)] = []
        func walk(_ c: CNode) {
            if c.kind == .path, c.text.hasPrefix("event.properties."), !out.contains(where: { $0.0 == c.text }) {
                out.append((String(c.text.dropFirst("event.properties.".count)), c.eval(env).json))
            }
            c.children.forEach(walk)
        }
        walk(filter)
        return out
    }

    /// The non-constant sub-expressions of `nodes`, depth first, first occurrence of each text.
    /// A linear scan rather than a set: a few terms per explanation, listed per decision. Texts are
    /// compared only when their lengths match (a length is stored; most pairs differ in it).
    static func termNodes(_ nodes: [CNode]) -> [CNode] {
        var out: [CNode] = []
        func walk(_ n: CNode) {
            let length = n.text.utf8.count
            if n.constant == nil, !out.contains(where: { $0 === n || ($0.text.utf8.count == length && $0.text == n.text) }) { out.append(n) }
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
