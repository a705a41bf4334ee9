/// A value during evaluation. Durations and timestamps are whole milliseconds.
enum RV: Equatable, Sendable {
    case null
    case bool(Bool)
    case num(Double)
    case str(String)
    case dur(Int64)
    case ts(Int64)
    case list([RV])

    /// Only `true` is true: null, missing and non-boolean values count as false in `and`/`or`/`not`.
    var isTrue: Bool { if case .bool(true) = self { return true }; return false }

    init(_ v: Value?) {
        switch v {
        case nil, .null?, .object?: self = .null
        case .bool(let b)?: self = .bool(b)
        case .number(let n)?: self = .num(n)
        case .string(let s)?: self = .str(s)
        case .array(let a)?: self = .list(a.map { RV($0) })
        }
    }

    /// JSON form for explanations: durations as `7d`, timestamps as ISO 8601 strings.
    var json: Value {
        switch self {
        case .null: return .null
        case .bool(let b): return .bool(b)
        case .num(let n): return .number(n)
        case .str(let s): return .string(s)
        case .dur(let d): return .string(Duration.format(d))
        case .ts(let t): return .string(Timestamp.format(t))
        case .list(let l): return .array(l.map(\.json))
        }
    }

    /// Text for explanations, written like a literal of the language.
    var text: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .num(let n): return Expr.formatNumber(n)
        case .str(let s): return Expr.quote(s)
        case .dur(let d): return Duration.format(d)
        case .ts(let t): return Timestamp.format(t)
        case .list(let l): return "[" + l.map(\.text).joined(separator: ", ") + "]"
        }
    }
}

/// The semantics of the operators, shared by the compiled closures and constant folding.
enum Ops {
    /// `==`: null equals only null; values of different types are never equal.
    static func equal(_ a: RV, _ b: RV) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.num(let x), .num(let y)): return x == y
        case (.str(let x), .str(let y)): return x == y
        case (.dur(let x), .dur(let y)): return x == y
        case (.ts(let x), .ts(let y)): return x == y
        case (.list(let x), .list(let y)): return x.count == y.count && zip(x, y).allSatisfy { equal($0, $1) }
        default: return false
        }
    }

    /// `<` family: false whenever a side is null or the types differ.
    static func order(_ op: BinaryOp, _ a: RV, _ b: RV) -> Bool {
        let c: Int
        switch (a, b) {
        case (.num(let x), .num(let y)): c = x < y ? -1 : (x > y ? 1 : 0)
        case (.dur(let x), .dur(let y)): c = x < y ? -1 : (x > y ? 1 : 0)
        case (.ts(let x), .ts(let y)): c = x < y ? -1 : (x > y ? 1 : 0)
        case (.str(let x), .str(let y)): c = x < y ? -1 : (x > y ? 1 : 0)
        default: return false
        }
        switch op {
        case .lt: return c < 0
        case .le: return c <= 0
        case .gt: return c > 0
        default: return c >= 0
        }
    }

    /// `a in b`: membership in a list, or substring of a string; false with null.
    static func member(_ a: RV, _ b: RV) -> Bool? {
        switch (a, b) {
        case (.null, _), (_, .null): return nil
        case (_, .list(let l)): return l.contains { equal(a, $0) }
        case (.str(let x), .str(let y)): return y.contains(x)
        default: return nil
        }
    }

    static func compare(_ op: BinaryOp, _ a: RV, _ b: RV) -> Bool {
        switch op {
        case .eq: return equal(a, b)
        case .ne: return !equal(a, b)
        case .in: return member(a, b) ?? false
        case .notIn: return member(a, b).map { !$0 } ?? false
        case .contains: return member(b, a) ?? false
        default: return order(op, a, b)
        }
    }

    /// `+ - * /`: null if a side is null, the types do not combine, or on division by zero.
    static func arithmetic(_ op: BinaryOp, _ a: RV, _ b: RV) -> RV {
        switch (op, a, b) {
        case (.add, .num(let x), .num(let y)): return .num(x + y)
        case (.sub, .num(let x), .num(let y)): return .num(x - y)
        case (.mul, .num(let x), .num(let y)): return .num(x * y)
        case (.div, .num(let x), .num(let y)): return y == 0 ? .null : .num(x / y)
        case (.add, .dur(let x), .dur(let y)): return .dur(x &+ y)
        case (.sub, .dur(let x), .dur(let y)): return .dur(x &- y)
        case (.add, .ts(let x), .dur(let y)), (.add, .dur(let y), .ts(let x)): return .ts(x &+ y)
        case (.sub, .ts(let x), .dur(let y)): return .ts(x &- y)
        case (.sub, .ts(let x), .ts(let y)): return .dur(x &- y)
        case (.mul, .dur(let x), .num(let y)), (.mul, .num(let y), .dur(let x)): return scaled(x, y)
        case (.div, .dur(let x), .num(let y)): return y == 0 ? .null : scaled(x, 1 / y)
        case (.div, .dur(let x), .dur(let y)): return y == 0 ? .null : .num(Double(x) / Double(y))
        default: return .null
        }
    }

    private static func scaled(_ ms: Int64, _ f: Double) -> RV {
        let v = (Double(ms) * f).rounded()
        return v.isFinite && abs(v) < 9e18 ? .dur(Int64(v)) : .null
    }
}
