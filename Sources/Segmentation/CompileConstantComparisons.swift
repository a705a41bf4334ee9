/// Comparisons with a constant on the right (`count(x, 7d) >= 2`, `event.type == "page_viewed"`,
/// `lead.country in ["DE", "AT"]`), the most common rule shape: the constant's case is known at
/// compile time, so the closure tests only the left value's case instead of going through
/// `Ops.compare` with two values (and copying the constant per call). Same results as the generic
/// closures of `compileBinary` for every input; other shapes return nil and keep those.
extension ExprCompiler {
    static func comparison(_ op: BinaryOp, _ lf: @escaping EvalFn, constant k: RV) -> EvalFn? {
        switch (op, k) {
        case (.eq, .str(let s)):
            return { env in if case .str(let x) = lf(env) { return .bool(x == s) }; return .bool(false) }
        case (.ne, .str(let s)):
            // Any non-null value of another type differs; null compares false.
            return { env in
                switch lf(env) {
                case .str(let x): return .bool(x != s)
                case .null: return .bool(false)
                default: return .bool(true)
                }
            }
        case (.eq, .num(let n)):
            return { env in if case .num(let x) = lf(env) { return .bool(x == n) }; return .bool(false) }
        // One closure per operator with its test written in: a test closure captured and called
        // per evaluation was an indirect call on the most frequent rule shape (`count(x, 7d) >= 2`;
        // docs/benchmarks/backtest.md). `order` reads as `Ops.order` does, NaN included (neither
        // below nor above: `<=` and `>=` hold).
        case (.lt, .num(let n)): return { env in if case .num(let x) = lf(env) { return .bool(order(x, n) < 0) }; return .bool(false) }
        case (.le, .num(let n)): return { env in if case .num(let x) = lf(env) { return .bool(order(x, n) <= 0) }; return .bool(false) }
        case (.gt, .num(let n)): return { env in if case .num(let x) = lf(env) { return .bool(order(x, n) > 0) }; return .bool(false) }
        case (.ge, .num(let n)): return { env in if case .num(let x) = lf(env) { return .bool(order(x, n) >= 0) }; return .bool(false) }
        case (.lt, .dur(let d)): return { env in if case .dur(let x) = lf(env) { return .bool(order(x, d) < 0) }; return .bool(false) }
        case (.le, .dur(let d)): return { env in if case .dur(let x) = lf(env) { return .bool(order(x, d) <= 0) }; return .bool(false) }
        case (.gt, .dur(let d)): return { env in if case .dur(let x) = lf(env) { return .bool(order(x, d) > 0) }; return .bool(false) }
        case (.ge, .dur(let d)): return { env in if case .dur(let x) = lf(env) { return .bool(order(x, d) >= 0) }; return .bool(false) }
        case (.in, .list(let items)), (.notIn, .list(let items)):
            // A list of texts: only a text can be in it; null is neither in nor not in it.
            var strings: [String] = []
            for item in items { guard case .str(let s) = item else { return nil }; strings.append(s) }
            let texts = strings, negated = op == .notIn
            return { env in
                switch lf(env) {
                case .str(let x): return .bool(texts.contains(x) != negated)
                case .null: return .bool(false)
                default: return .bool(negated)
                }
            }
        default:
            return nil
        }
    }

    /// The three-way comparison the closures above test: -1, 0 (equal, or unordered) or 1.
    @inline(__always)
    private static func order<T: Comparable>(_ x: T, _ k: T) -> Int { x < k ? -1 : (x > k ? 1 : 0) }
}
