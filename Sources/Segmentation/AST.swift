/// A parsed expression. `offset`/`length` are in Unicode scalars of the expression text.
struct Expr: Sendable {
    indirect enum Kind {
        case number(Double)
        case duration(Int64)
        case string(String)
        case bool(Bool)
        case null
        case list([Expr])
        case path([String])
        case eventType(String)            // first argument of count/since
        case eventField(String, [String]) // first argument of sum/max/min/avg: type and property path
        case not(Expr)
        case negate(Expr)
        case binary(BinaryOp, Expr, Expr)
        case call(String, [Expr], whereClause: Expr?)
    }
    var kind: Kind
    var offset: Int
    var length: Int
}

/// Binary operators by precedence group.
enum BinaryOp: String, Sendable {
    case or, and
    case eq = "==", ne = "!=", lt = "<", le = "<=", gt = ">", ge = ">="
    case `in` = "in", notIn = "not in", contains
    case add = "+", sub = "-", mul = "*", div = "/"

    var precedence: Int {
        switch self {
        case .or: return 1
        case .and: return 2
        case .eq, .ne, .lt, .le, .gt, .ge, .in, .notIn, .contains: return 4
        case .add, .sub: return 5
        case .mul, .div: return 6
        }
    }
    var isComparison: Bool { precedence == 4 }
    var isOrdering: Bool { self == .lt || self == .le || self == .gt || self == .ge }
    /// The operator with its operands swapped (`3 < x` ⇔ `x > 3`).
    var flipped: BinaryOp {
        switch self {
        case .lt: return .gt
        case .le: return .ge
        case .gt: return .lt
        case .ge: return .le
        default: return self
        }
    }
}

extension Expr {
    /// Canonical text: normalised spacing, double-quoted strings, minimal parentheses. Used in
    /// explanations and to key signals, so `count(x,7d)` and `count( x , 7d )` are one signal.
    var canonical: String { render(parentPrecedence: 0) }

    private func render(parentPrecedence: Int) -> String {
        switch kind {
        case .number(let n): return Expr.formatNumber(n)
        case .duration(let ms): return Duration.format(ms)
        case .string(let s): return Expr.quote(s)
        case .bool(let b): return b ? "true" : "false"
        case .null: return "null"
        case .list(let items): return "[" + items.map { $0.render(parentPrecedence: 0) }.joined(separator: ", ") + "]"
        case .path(let p): return p.joined(separator: ".")
        case .eventType(let t): return t
        case .eventField(let t, let f): return ([t] + f).joined(separator: ".")
        case .not(let e):
            let s = "not " + e.render(parentPrecedence: 3)
            return parentPrecedence > 3 ? "(\(s))" : s
        case .negate(let e): return "-" + e.render(parentPrecedence: 7)
        case .binary(let op, let l, let r):
            let p = op.precedence
            // Comparisons do not chain, so both sides need a tighter precedence.
            let s = l.render(parentPrecedence: op.isComparison ? p + 1 : p) + " \(op.rawValue) "
                + r.render(parentPrecedence: p + 1)
            return parentPrecedence > p ? "(\(s))" : s
        case .call(let name, let args, let w):
            var parts = args.map { $0.render(parentPrecedence: 0) }
            if let w, !parts.isEmpty { parts[0] += " where " + w.render(parentPrecedence: 0) }
            return "\(name)(" + parts.joined(separator: ", ") + ")"
        }
    }

    static func formatNumber(_ n: Double) -> String {
        if n == n.rounded(), abs(n) < 1e15 { return String(Int64(n)) }
        return String(n)
    }

    static func quote(_ s: String) -> String {
        var out = "\""
        for c in s.unicodeScalars {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            default: out.unicodeScalars.append(c)
            }
        }
        return out + "\""
    }
}
