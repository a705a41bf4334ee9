// The naive reference evaluator's own tiny model. It is written independently of the engine on
// purpose: the differential test is only worth something if the two share no code. Times are
// milliseconds since the Unix epoch; durations are milliseconds.

/// A property value an event can carry in the random sequences.
enum RefValue: Equatable {
    case string(String)
    case int(Int)
}

/// One event as the reference sees it: canonical type, when it happened, and its properties.
struct RefEvent {
    var type: String
    var at: Int64
    var props: [String: RefValue]
}

/// A comparison operator of the rule language.
enum RefOp: String, CaseIterable {
    case eq = "==", ne = "!=", lt = "<", le = "<=", gt = ">", ge = ">="

    func holds<T: Comparable>(_ lhs: T, _ rhs: T) -> Bool {
        switch self {
        case .eq: return lhs == rhs
        case .ne: return lhs != rhs
        case .lt: return lhs < rhs
        case .le: return lhs <= rhs
        case .gt: return lhs > rhs
        case .ge: return lhs >= rhs
        }
    }
}

/// A duration literal, kept with the unit it is written in so the rendered text is natural.
struct RefDuration {
    var amount: Int
    var unit: Character  // s m h d w

    var ms: Int64 {
        let perUnit: Int64
        switch unit {
        case "s": perUnit = 1_000
        case "m": perUnit = 60_000
        case "h": perUnit = 3_600_000
        case "d": perUnit = 86_400_000
        default: perUnit = 604_800_000
        }
        return Int64(amount) * perUnit
    }

    var text: String { "\(amount)\(unit)" }

    /// As decisions write it: the largest unit up to days that divides it (`2w` is `14d`).
    var canonical: String {
        let days = Int64(86_400_000)
        for (unit, perUnit) in [("d", days), ("h", 3_600_000), ("m", 60_000), ("s", 1_000)] where ms % perUnit == 0 {
            return "\(ms / perUnit)\(unit)"
        }
        return "\(ms)ms"
    }
}

/// A `where` filter over the event's properties.
enum RefFilter {
    case stringEquals(key: String, value: String)
    case intCompare(key: String, op: RefOp, value: Int)

    func matches(_ event: RefEvent) -> Bool {
        switch self {
        case let .stringEquals(key, value):
            return event.props[key] == .string(value)
        case let .intCompare(key, op, value):
            guard case let .int(actual)? = event.props[key] else { return false }  // null: false
            return op.holds(actual, value)
        }
    }

    var text: String {
        switch self {
        case let .stringEquals(key, value): return "event.properties.\(key) == \"\(value)\""
        case let .intCompare(key, op, value): return "event.properties.\(key) \(op.rawValue) \(value)"
        }
    }
}

/// A boolean rule expression built from the time-dependent functions.
indirect enum RefExpr {
    case literal(Bool)
    /// `count(type [where filter], window) op k`
    case count(type: String, filter: RefFilter?, window: RefDuration, op: RefOp, k: Int)
    /// `fn(type.n [where filter], window) op k` for fn in sum/max/min/avg over the integer
    /// property `n` (events without `n` are not occurrences; max/min/avg of none: false)
    case aggregate(fn: String, type: String, filter: RefFilter?, window: RefDuration, op: RefOp, k: Int)
    /// `since(type) op d` (false when the type never happened)
    case since(type: String, op: RefOp, d: RefDuration)
    /// `since(type) == null` or `!= null`
    case sinceNull(type: String, isNull: Bool)
    /// `inactive(window)`
    case inactive(RefDuration)
    /// `membership.age op d` (only inside a segment's exit)
    case membershipAge(op: RefOp, d: RefDuration)
    /// `in_segment("name")`
    case inSegment(String)
    case not(RefExpr)
    case and(RefExpr, RefExpr)
    case or(RefExpr, RefExpr)

    /// The expression as rule-language text, fully parenthesised where it nests.
    var text: String {
        switch self {
        case let .literal(value): return value ? "true" : "false"
        case let .count(type, filter, window, op, k):
            let whereText = filter.map { " where \($0.text)" } ?? ""
            return "count(\(type)\(whereText), \(window.text)) \(op.rawValue) \(k)"
        case let .aggregate(fn, type, filter, window, op, k):
            let whereText = filter.map { " where \($0.text)" } ?? ""
            return "\(fn)(\(type).n\(whereText), \(window.text)) \(op.rawValue) \(k)"
        case let .since(type, op, d): return "since(\(type)) \(op.rawValue) \(d.text)"
        case let .sinceNull(type, isNull): return "since(\(type)) \(isNull ? "==" : "!=") null"
        case let .inactive(window): return "inactive(\(window.text))"
        case let .membershipAge(op, d): return "membership.age \(op.rawValue) \(d.text)"
        case let .inSegment(name): return "in_segment(\"\(name)\")"
        case let .not(inner): return "not (\(inner.text))"
        case let .and(lhs, rhs): return "(\(lhs.text)) and (\(rhs.text))"
        case let .or(lhs, rhs): return "(\(lhs.text)) or (\(rhs.text))"
        }
    }
}

/// One segment of a random ruleset, as both sides see it.
struct RefSegment {
    var name: String
    var priority: Int
    var enter: RefExpr
    var exit: RefExpr
    /// The segment's own `score:` (no bands), nil without one.
    var score: RefScoring? = nil
    /// `delay`/`window` of the segment's email route, nil without.
    var timing: RefTiming? = nil
    /// Whether the route also hands the lead to a sales queue (`q-<last name part>`, team `t`).
    var sales = false
}

/// One entry of `caps.<channel>`: the first entry whose `when` holds applies to a new action.
struct RefCap {
    var when: RefExpr?
    var max: Int
    var per: RefDuration

    /// `{ when: '…', max: 2, per: 3d }`
    var yaml: String { "{ " + (when.map { "when: '\($0.text)', " } ?? "") + "max: \(max), per: \(per.text) }" }
}

/// A random ruleset: the event types it declares and its segments, in dependency order
/// (`in_segment` only names an earlier segment).
struct RefRuleset {
    var types: [String]
    /// Ordered stage rules before the final `awareness` (which always holds).
    var stages: [(name: String, when: RefExpr)] = []
    var segments: [RefSegment]
    /// The lead score (`scoring:`), nil without one.
    var scoring: RefScoring? = nil
    /// `caps:` by channel (`email`, `sales`), entries in order; empty without.
    var caps: [String: [RefCap]] = [:]
    /// `routing: { all_segments: [email] }`: every current segment's email, not only the primary's.
    var allSegmentsEmail = false
}
