/// Recursive-descent parser for the rule language:
///
///     expr    := and ('or' and)*
///     and     := not ('and' not)*
///     not     := 'not' not | cmp
///     cmp     := sum (('=='|'!='|'<'|'<='|'>'|'>='|'in'|'not' 'in'|'contains') sum)?
///     sum     := product (('+'|'-') product)*
///     product := unary (('*'|'/') unary)*
///     unary   := '-' unary | primary
///     primary := NUMBER | DURATION | STRING | 'true' | 'false' | 'null' | '[' list ']'
///              | path | call | '(' expr ')'
///     call    := NAME '(' [args] ')'   where count/since take `TYPE ['where' expr]` first,
///                                      and sum/max/min/avg `TYPE '.' FIELD ['where' expr]`
struct Parser {
    private var tokens: [Token]
    private var pos = 0

    static func parse(_ text: String) throws(SyntaxError) -> Expr {
        var p = Parser(tokens: try Lexer.tokenize(text))
        let e = try p.parseOr()
        guard case .end = p.peek.kind else {
            throw SyntaxError(offset: p.peek.offset, message: "unexpected \(p.describe(p.peek)) after a complete expression; join conditions with `and` or `or`")
        }
        return e
    }

    private init(tokens: [Token]) { self.tokens = tokens }

    private var peek: Token { tokens[pos] }
    private mutating func advance() -> Token { let t = tokens[pos]; if pos < tokens.count - 1 { pos += 1 }; return t }
    private func isOp(_ s: String) -> Bool { if case .op(s) = peek.kind { return true }; return false }
    private func isKeyword(_ s: String) -> Bool { if case .keyword(s) = peek.kind { return true }; return false }
    private func isKeyword(_ s: String, at i: Int) -> Bool {
        guard i < tokens.count else { return false }
        if case .keyword(s) = tokens[i].kind { return true }
        return false
    }

    private func describe(_ t: Token) -> String {
        switch t.kind {
        case .number(let n): return "number `\(Expr.formatNumber(n))`"
        case .duration(let d): return "duration `\(Duration.format(d))`"
        case .string(let s): return "string \(Expr.quote(s))"
        case .ident(let s): return "`\(s)`"
        case .keyword(let s): return "`\(s)`"
        case .op(let s): return "`\(s)`"
        case .end: return "end of rule"
        }
    }

    private mutating func expect(_ op: String, _ context: String) throws(SyntaxError) -> Token {
        guard isOp(op) else { throw SyntaxError(offset: peek.offset, message: "expected `\(op)` \(context), found \(describe(peek))") }
        return advance()
    }

    private func span(_ a: Expr, _ b: Expr) -> (Int, Int) { (a.offset, b.offset + b.length - a.offset) }

    private mutating func parseOr() throws(SyntaxError) -> Expr {
        var l = try parseAnd()
        while isKeyword("or") {
            _ = advance()
            let r = try parseAnd()
            let (o, n) = span(l, r)
            l = Expr(kind: .binary(.or, l, r), offset: o, length: n)
        }
        return l
    }

    private mutating func parseAnd() throws(SyntaxError) -> Expr {
        var l = try parseNot()
        while isKeyword("and") {
            _ = advance()
            let r = try parseNot()
            let (o, n) = span(l, r)
            l = Expr(kind: .binary(.and, l, r), offset: o, length: n)
        }
        return l
    }

    private mutating func parseNot() throws(SyntaxError) -> Expr {
        if isKeyword("not"), !isKeyword("in", at: pos + 1) {
            let t = advance()
            let e = try parseNot()
            return Expr(kind: .not(e), offset: t.offset, length: e.offset + e.length - t.offset)
        }
        return try parseComparison()
    }

    private mutating func comparisonOperator() -> BinaryOp? {
        switch peek.kind {
        case .op(let s): return BinaryOp(rawValue: s).flatMap { $0.isComparison ? $0 : nil }
        case .keyword("in"): return .in
        case .keyword("contains"): return .contains
        case .keyword("not") where isKeyword("in", at: pos + 1): return .notIn
        default: return nil
        }
    }

    private mutating func parseComparison() throws(SyntaxError) -> Expr {
        let l = try parseSum()
        guard let op = comparisonOperator() else { return l }
        _ = advance()
        if op == .notIn { _ = advance() }
        let r = try parseSum()
        if let again = comparisonOperator() {
            throw SyntaxError(offset: peek.offset, message: "comparisons cannot be chained (`\(op.rawValue)` then `\(again.rawValue)`): join them with `and`")
        }
        let (o, n) = span(l, r)
        return Expr(kind: .binary(op, l, r), offset: o, length: n)
    }

    private mutating func parseSum() throws(SyntaxError) -> Expr {
        var l = try parseProduct()
        while isOp("+") || isOp("-") {
            let op: BinaryOp = isOp("+") ? .add : .sub
            _ = advance()
            let r = try parseProduct()
            let (o, n) = span(l, r)
            l = Expr(kind: .binary(op, l, r), offset: o, length: n)
        }
        return l
    }

    private mutating func parseProduct() throws(SyntaxError) -> Expr {
        var l = try parseUnary()
        while isOp("*") || isOp("/") {
            let op: BinaryOp = isOp("*") ? .mul : .div
            _ = advance()
            let r = try parseUnary()
            let (o, n) = span(l, r)
            l = Expr(kind: .binary(op, l, r), offset: o, length: n)
        }
        return l
    }

    private mutating func parseUnary() throws(SyntaxError) -> Expr {
        if isOp("-") {
            let t = advance()
            let e = try parseUnary()
            return Expr(kind: .negate(e), offset: t.offset, length: e.offset + e.length - t.offset)
        }
        return try parsePrimary()
    }

    private mutating func parsePrimary() throws(SyntaxError) -> Expr {
        let t = advance()
        switch t.kind {
        case .number(let n): return Expr(kind: .number(n), offset: t.offset, length: t.length)
        case .duration(let d): return Expr(kind: .duration(d), offset: t.offset, length: t.length)
        case .string(let s): return Expr(kind: .string(s), offset: t.offset, length: t.length)
        case .keyword("true"): return Expr(kind: .bool(true), offset: t.offset, length: t.length)
        case .keyword("false"): return Expr(kind: .bool(false), offset: t.offset, length: t.length)
        case .keyword("null"): return Expr(kind: .null, offset: t.offset, length: t.length)
        case .op("("):
            let e = try parseOr()
            _ = try expect(")", "to close the `(`")
            return e
        case .op("["):
            var items: [Expr] = []
            if !isOp("]") {
                repeat {
                    if !items.isEmpty { _ = advance() }
                    items.append(try parseSum())
                } while isOp(",")
            }
            let close = try expect("]", "to close the list")
            return Expr(kind: .list(items), offset: t.offset, length: close.offset + 1 - t.offset)
        case .ident(let name):
            if isOp("(") { return try parseCall(name, t) }
            var parts = [name]
            var end = t.offset + t.length
            while isOp(".") {
                _ = advance()
                let seg = advance()
                switch seg.kind {
                case .ident(let s), .keyword(let s): parts.append(s)
                case .string(let s): parts.append(s)
                default:
                    throw SyntaxError(offset: seg.offset, message: "expected a field name after `.`, found \(describe(seg))")
                }
                end = seg.offset + seg.length
            }
            return Expr(kind: .path(parts), offset: t.offset, length: end - t.offset)
        case .end:
            throw SyntaxError(offset: t.offset, message: "the rule ends too early: a value is missing")
        default:
            throw SyntaxError(offset: t.offset, message: "expected a value, found \(describe(t))")
        }
    }

    private mutating func parseCall(_ name: String, _ nameToken: Token) throws(SyntaxError) -> Expr {
        _ = advance() // (
        var args: [Expr] = []
        var whereClause: Expr?
        if name == "count" || name == "since" || Aggregate(rawValue: name) != nil {
            let isAggregate = name != "count" && name != "since"
            let t = advance()
            switch t.kind {
            case .ident(let s), .string(let s):
                try refuseSecondWord(after: t, s, name)
                if isAggregate {
                    args.append(try parseEventField(s, t, name))
                } else {
                    args.append(Expr(kind: .eventType(s), offset: t.offset, length: t.length))
                }
            default:
                let example = isAggregate ? "\(name)(completed_checkout.revenue, 365d)" : "\(name)(added_to_cart\(name == "count" ? ", 7d" : ""))"
                throw SyntaxError(offset: t.offset, message: "`\(name)` needs an event type first, e.g. \(example); found \(describe(t))")
            }
            if isKeyword("where") {
                _ = advance()
                whereClause = try parseOr()
            }
            while isOp(",") {
                _ = advance()
                args.append(try parseOr())
            }
        } else if !isOp(")") {
            args.append(try parseOr())
            while isOp(",") {
                _ = advance()
                args.append(try parseOr())
            }
        }
        let close = try expect(")", "to close the arguments of `\(name)`")
        return Expr(kind: .call(name, args, whereClause: whereClause), offset: nameToken.offset, length: close.offset + 1 - nameToken.offset)
    }

    /// `count(Product Viewed, 7d)`: an incoming event name with a space, unquoted. Without this the
    /// second word only gives "expected `)`"; the hint names the canonical form rules use.
    private func refuseSecondWord(after t: Token, _ first: String, _ fn: String) throws(SyntaxError) {
        guard case .ident(let second) = peek.kind, case .ident = t.kind else { return }
        var words = [first, second]
        var i = pos + 1
        while i < tokens.count, case .ident(let w) = tokens[i].kind { words.append(w); i += 1 }
        let spaced = words.joined(separator: " ")
        let snake = words.map { $0.lowercased() }.joined(separator: "_")
        throw SyntaxError(offset: t.offset, message: "`\(spaced)` looks like an event name with spaces: rules use one-word event types: write \(fn)(\(snake)…) and map the incoming name under events.aliases (`\(Expr.quote(spaced)): \(snake)`)")
    }

    /// `type.field` (the first argument of `sum`/`max`/`min`/`avg`): the event type and the
    /// path of the numeric property, e.g. `completed_checkout.revenue`.
    private mutating func parseEventField(_ type: String, _ t: Token, _ fn: String) throws(SyntaxError) -> Expr {
        guard isOp(".") else {
            throw SyntaxError(offset: peek.offset, message: "`\(fn)` needs an event type and a numeric property, e.g. \(fn)(completed_checkout.revenue, 365d); found \(describe(peek))")
        }
        var field: [String] = []
        var end = t.offset + t.length
        while isOp(".") {
            _ = advance()
            let seg = advance()
            switch seg.kind {
            case .ident(let s), .keyword(let s), .string(let s): field.append(s)
            default: throw SyntaxError(offset: seg.offset, message: "expected a property name after `.`, found \(describe(seg))")
            }
            end = seg.offset + seg.length
        }
        return Expr(kind: .eventField(type, field), offset: t.offset, length: end - t.offset)
    }
}
