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
        case (.lt, .num(let n)), (.le, .num(let n)), (.gt, .num(let n)), (.ge, .num(let n)):
            let test = ordering(op)
            return { env in
                guard case .num(let x) = lf(env) else { return .bool(false) }
                return .bool(test(x < n ? -1 : (x > n ? 1 : 0)))
            }
        case (.lt, .dur(let d)), (.le, .dur(let d)), (.gt, .dur(let d)), (.ge, .dur(let d)):
            let test = ordering(op)
            return { env in
                guard case .dur(let x) = lf(env) else { return .bool(false) }
                return .bool(test(x < d ? -1 : (x > d ? 1 : 0)))
            }
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

    /// `Ops.order`'s reading of a three-way comparison for `op`.
    private static func ordering(_ op: BinaryOp) -> @Sendable (Int) -> Bool {
        switch op {
        case .lt: return { $0 < 0 }
        case .le: return { $0 <= 0 }
        case .gt: return { $0 > 0 }
        default: return { $0 >= 0 }
        }
    }
}
