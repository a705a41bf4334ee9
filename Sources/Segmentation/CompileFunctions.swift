/// The functions: `count`, `since`, `inactive`, `exists`, `in_segment`, and the value aggregates
/// `sum`, `max`, `min`, `avg`.
extension ExprCompiler {
    static let functionNames = ["count", "since", "inactive", "exists", "in_segment"] + Aggregate.allCases.map(\.rawValue)

    func compileCall(_ e: Expr, _ name: String, _ args: [Expr], _ whereClause: Expr?) -> CNode? {
        let text = e.canonical
        if scope.inWhere {
            error(e.offset, "`\(name)()` cannot be used inside `where`: the filter is checked on each counted event")
            return nil
        }
        switch name {
        case "count":
            guard args.count == 2 else {
                error(e.offset, "count() takes an event type and a window, e.g. count(added_to_cart, 7d)")
                return nil
            }
            guard let slot = signalSlot(args[0], whereClause), let window = constantDuration(args[1], "count()") else { return nil }
            signals.need(slot, window: window)
            let node = CNode(kind: .call, type: .number, text: text, signal: signals.ref(slot), eval: { env in
                .num(Double(env.series[slot].count(now: env.now, window: window)))
            })
            counts.append((node, slot, window, e.offset))
            return node
        case "since":
            guard args.count == 1 else {
                error(e.offset, "since() takes one event type, e.g. since(added_to_cart)")
                return nil
            }
            guard let slot = signalSlot(args[0], whereClause) else { return nil }
            signals.need(slot, latest: true)
            let node = CNode(kind: .call, type: .duration, text: text, eval: { env in
                env.series[slot].latest(atOrBefore: env.now).map { .dur(env.now - $0) } ?? .null
            })
            timeUses.append((node, .since(slot), e.offset))
            return node
        case "sum", "max", "min", "avg":
            return compileAggregate(e, Aggregate(rawValue: name)!, args, whereClause)
        case "inactive":
            guard args.count == 1, whereClause == nil else {
                error(e.offset, "inactive() takes one window, e.g. inactive(14d)")
                return nil
            }
            guard let window = constantDuration(args[0], "inactive()") else { return nil }
            let slot = signals.use(type: "*", filter: nil)
            signals.need(slot, keep: 1, window: window, latest: true)
            if scope.timeSensitive { atoms.add(window: slot, window, ranks: [1], rule: currentRule) }
            return CNode(kind: .call, type: .bool, text: text, eval: { env in
                .bool(env.series[slot].count(now: env.now, window: window) == 0)
            })
        case "exists":
            guard args.count == 1, case .path = args[0].kind else {
                error(e.offset, "exists() takes one field, e.g. exists(lead.email)")
                return nil
            }
            guard let inner = compile(args[0]) else { return nil }
            let f = inner.eval
            return CNode(kind: .call, type: .bool, text: text, children: [inner], eval: { env in .bool(f(env) != .null) })
        case "in_segment":
            guard args.count == 1, case .string(let target) = args[0].kind else {
                error(e.offset, "in_segment() takes a segment name in quotes, e.g. in_segment(\"decision.high-intent.cart\")")
                return nil
            }
            guard scope.allowsInSegment else {
                error(e.offset, "in_segment() can only be used in segment rules and `suppress`")
                return nil
            }
            guard let index = segmentIndex[target] else {
                error(args[0].offset, "unknown segment \(Expr.quote(target)) in in_segment()\(didYouMean(target, Array(segmentIndex.keys).sorted()))")
                return nil
            }
            dependencies.append(index)
            return CNode(kind: .call, type: .bool, text: text, eval: { env in .bool(env.members[index]) })
        default:
            error(e.offset, "unknown function `\(name)`\(didYouMean(name, ExprCompiler.functionNames)); functions are count, since, inactive, exists, in_segment, sum, max, min and avg")
            return nil
        }
    }

    /// `sum(type.field [where …], window)` and kin: a value signal that keeps each occurrence's
    /// number, kept like a count used in arithmetic (up to `SignalState.maxTimesPerSignal` in the
    /// window). Its value changes whenever an occurrence enters or leaves the window, so every
    /// occurrence is a time atom (no rank shortcut).
    private func compileAggregate(_ e: Expr, _ fn: Aggregate, _ args: [Expr], _ whereClause: Expr?) -> CNode? {
        let name = fn.rawValue
        guard args.count == 2, case .eventField(_, let field) = args[0].kind else {
            error(e.offset, "\(name)() takes an event property and a window, e.g. \(name)(completed_checkout.revenue, 365d)")
            return nil
        }
        guard let slot = signalSlot(args[0], whereClause, field: field), let window = constantDuration(args[1], "\(name)()") else { return nil }
        signals.need(slot, keep: SignalState.maxTimesPerSignal, window: window)
        if scope.timeSensitive { atoms.add(window: slot, window, ranks: nil, rule: currentRule) }
        return CNode(kind: .call, type: .number, text: e.canonical, signal: signals.ref(slot), eval: { env in
            env.series[slot].aggregate(fn, now: env.now, window: window)
        })
    }

    /// Registers the signal `type [where filter]` (or the value signal `type.field [where filter]`),
    /// refusing unknown event types (the typo guard).
    private func signalSlot(_ typeArg: Expr, _ whereClause: Expr?, field: [String]? = nil) -> Int? {
        let type: String
        switch typeArg.kind {
        case .eventType(let t), .eventField(let t, _): type = t
        default: return nil
        }
        var ok = true
        if !knownTypes.contains(type) {
            error(typeArg.offset, "unknown event type `\(type)`\(didYouMean(type, knownTypes)); known types are the alias targets, page_viewed, the keys of statuses.on_event and events.types")
            ok = false
        }
        var filter: CNode?
        if let w = whereClause {
            let saved = scope
            scope.inWhere = true
            filter = compile(w)
            scope = saved
            if let f = filter { requireBool(f, w.offset, "`where`") } else { ok = false }
        }
        return ok ? signals.use(type: type, filter: filter, field: field) : nil
    }

    /// A window argument: a fixed, positive duration such as `7d`.
    private func constantDuration(_ arg: Expr, _ fn: String) -> Int64? {
        guard let n = compile(arg) else { return nil }
        guard case .dur(let ms)? = n.constant, n.type == .duration else {
            error(arg.offset, "the window of \(fn) must be a fixed duration such as 7d, but `\(n.text)` is \(n.constant == nil ? "not fixed" : "a \(n.type.name)")")
            return nil
        }
        guard ms > 0 else {
            error(arg.offset, "the window of \(fn) must be longer than 0s")
            return nil
        }
        return ms
    }
}

/// The value aggregates over a window: `sum` (0 when no occurrence), `max`, `min`, `avg` (null
/// when no occurrence, so any comparison with them is false).
enum Aggregate: String, CaseIterable, Sendable {
    case sum, max, min, avg
}
