/// Type rules and closures for `and`, `or`, comparisons and arithmetic.
extension ExprCompiler {
    func compileBinary(_ e: Expr, _ op: BinaryOp, _ le: Expr, _ re: Expr) -> CNode? {
        let lc = compile(le), rc = compile(re)
        guard let l = lc, let r = rc else { return nil }
        let text = e.canonical
        switch op {
        case .and, .or:
            requireBool(l, le.offset, "`\(op.rawValue)`")
            requireBool(r, re.offset, "`\(op.rawValue)`")
            let isAnd = op == .and
            // Fold: a constant that decides the result on its own (`false and x`, `x or true`).
            for side in [l, r] {
                if let k = side.constant, k.isTrue != isAnd { return CNode.literal(RV.bool(!isAnd), type: VType.bool, text: text) }
            }
            if let a = l.constant, let b = r.constant {
                let v: Bool = isAnd ? (a.isTrue && b.isTrue) : (a.isTrue || b.isTrue)
                return CNode.literal(RV.bool(v), type: VType.bool, text: text)
            }
            let lf = l.eval, rf = r.eval
            let f: EvalFn
            if isAnd {
                f = { env in RV.bool(lf(env).isTrue && rf(env).isTrue) }
            } else {
                f = { env in RV.bool(lf(env).isTrue || rf(env).isTrue) }
            }
            return CNode(kind: .logic(op), type: .bool, text: text, children: [l, r], eval: f)
        case .eq, .ne, .lt, .le, .gt, .ge, .in, .notIn, .contains:
            guard checkComparison(op, l, r, le, re) else { return nil }
            noteThreshold(l, r, op)
            if let a = l.constant, let b = r.constant { return .literal(.bool(Ops.compare(op, a, b)), type: .bool, text: text) }
            let lf = l.eval, rf = r.eval
            let f: EvalFn
            // `== null` / `!= null` test for null; any other comparison involving a null is false.
            let nullTest = l.type == .null || r.type == .null
            if !nullTest, let k = r.constant, let specialised = ExprCompiler.comparison(op, lf, constant: k) {
                return CNode(kind: .compare(op), type: .bool, text: text, children: [l, r], eval: specialised)
            }
            switch op {
            case .eq where nullTest: f = { env in .bool(Ops.equal(lf(env), rf(env))) }
            case .ne where nullTest: f = { env in .bool(!Ops.equal(lf(env), rf(env))) }
            case .eq: f = { env in let a = lf(env), b = rf(env); return .bool(a != .null && b != .null && Ops.equal(a, b)) }
            case .ne: f = { env in let a = lf(env), b = rf(env); return .bool(a != .null && b != .null && !Ops.equal(a, b)) }
            default: f = { env in .bool(Ops.compare(op, lf(env), rf(env))) }
            }
            return CNode(kind: .compare(op), type: .bool, text: text, children: [l, r], eval: f)
        case .add, .sub, .mul, .div:
            guard let t = arithmeticType(op, l.type, r.type) else {
                error(e.offset, "cannot compute `\(l.text) \(op.rawValue) \(r.text)`: \(l.type.name) \(op.rawValue) \(r.type.name) is not defined")
                return nil
            }
            if let a = l.constant, let b = r.constant { return .literal(Ops.arithmetic(op, a, b), type: t, text: text) }
            let lf = l.eval, rf = r.eval
            return CNode(kind: .arithmetic, type: t, text: text, children: [l, r], eval: { env in Ops.arithmetic(op, lf(env), rf(env)) })
        }
    }

    /// A comparison of a time-dependent value with a constant lets the engine schedule re-evaluation.
    private func noteThreshold(_ l: CNode, _ r: CNode, _ op: BinaryOp) {
        if let k = r.constant, l.constant == nil { thresholds(for: l, append: op, k) }
        if let k = l.constant, r.constant == nil { thresholds(for: r, append: op.flipped, k) }
    }

    /// The result type of arithmetic, or nil when the combination has no meaning.
    private func arithmeticType(_ op: BinaryOp, _ a: VType, _ b: VType) -> VType? {
        switch (op, a, b) {
        case (_, .number, .number): return .number
        case (.add, .duration, .duration), (.sub, .duration, .duration): return .duration
        case (.add, .timestamp, .duration), (.add, .duration, .timestamp), (.sub, .timestamp, .duration): return .timestamp
        case (.sub, .timestamp, .timestamp): return .duration
        case (.mul, .duration, .number), (.mul, .number, .duration), (.div, .duration, .number): return .duration
        case (.div, .duration, .duration): return .number
        case (_, .dynamic, .dynamic), (_, .dynamic, .number), (_, .number, .dynamic): return .dynamic
        case (_, .dynamic, .duration), (_, .duration, .dynamic): return .dynamic
        case (_, .dynamic, .timestamp), (_, .timestamp, .dynamic): return .dynamic
        default: return nil
        }
    }

    private func compatible(_ a: VType, _ b: VType) -> Bool {
        if a == b || a == .dynamic || b == .dynamic { return true }
        if case .list(let x) = a, case .list(let y) = b { return compatible(x, y) }
        return false
    }

    /// Refuses comparisons that can never be meaningful, with a message naming both sides.
    private func checkComparison(_ op: BinaryOp, _ l: CNode, _ r: CNode, _ le: Expr, _ re: Expr) -> Bool {
        let what = "`\(l.text) \(op.rawValue) \(r.text)`"
        switch op {
        case .eq, .ne:
            if l.type == .null || r.type == .null || compatible(l.type, r.type) { return true }
            error(le.offset, "cannot compare `\(l.text)` (\(l.type.name)) with `\(r.text)` (\(r.type.name)) in \(what); they can never be equal")
            return false
        case .lt, .le, .gt, .ge:
            if l.type == .null || r.type == .null {
                error(le.offset, "\(what) is always false: any comparison with null is false; use `== null` or `!= null`")
                return false
            }
            for (side, x) in [(l, le), (r, re)] {
                var unordered = side.type == .bool
                if case .list = side.type { unordered = true }
                if unordered {
                    error(x.offset, "cannot order `\(side.text)`: a \(side.type.name) has no order; use `==` or `!=`")
                    return false
                }
            }
            if compatible(l.type, r.type) { return true }
            error(le.offset, "cannot compare `\(l.text)` (\(l.type.name)) with `\(r.text)` (\(r.type.name)) using `\(op.rawValue)`")
            return false
        case .in, .notIn, .contains:
            let (item, coll, ie, ce) = op == .contains ? (r, l, re, le) : (l, r, le, re)
            if item.type == .null || coll.type == .null {
                error(ie.offset, "\(what) is always false: any comparison with null is false; use `== null` or `!= null`")
                return false
            }
            switch coll.type {
            case .dynamic: return true
            case .string:
                if item.type == .string || item.type == .dynamic { return true }
                error(ie.offset, "\(what): only text can be found inside text, but `\(item.text)` is a \(item.type.name)")
                return false
            case .list(let el):
                if compatible(el, item.type) { return true }
                error(ie.offset, "\(what): `\(item.text)` is a \(item.type.name) but the list holds \(el.name) values, so it can never match")
                return false
            default:
                error(ce.offset, "\(what): `\(coll.text)` is a \(coll.type.name); `\(op.rawValue)` needs a list or text")
                return false
            }
        default:
            return false
        }
    }
}
