/// Field paths: `lead.*`, `event.*`, `membership.age`. Each resolves at compile time to a closure
/// that reads one stored field, so evaluation never looks names up.
extension ExprCompiler {
    /// A `lead.*` field: its closure lives in a struct field so it is called as compiled (an array of
    /// bare closures or tuples would store it abstracted and call it through a thunk).
    struct LeadField: Sendable {
        let name: String
        let type: VType
        let read: EvalFn
        init(_ name: String, _ type: VType, _ read: @escaping EvalFn) { self.name = name; self.type = type; self.read = read }
    }

    static let leadFields: [LeadField] = [
        LeadField("email", .string, { e in e.lead.email.map(RV.str) ?? .null }),
        LeadField("email_domain", .string, { e in e.lead.emailDomain.map(RV.str) ?? .null }),
        LeadField("user_id", .string, { e in e.lead.userId.map(RV.str) ?? .null }),
        LeadField("source", .string, { e in e.lead.firstSource.map { .str($0.channel) } ?? .null }),
        LeadField("source.first", .string, { e in e.lead.firstSource.map { .str($0.channel) } ?? .null }),
        LeadField("source.last", .string, { e in e.lead.lastSource.map { .str($0.channel) } ?? .null }),
        LeadField("country", .string, { e in e.lead.country.map(RV.str) ?? .null }),
        LeadField("region", .string, { e in e.lead.region.map(RV.str) ?? .null }),
        LeadField("ship_to_region", .string, { e in e.lead.shipToRegion.map(RV.str) ?? .null }),
        LeadField("stage", .string, { e in e.lead.stage.map(RV.str) ?? .null }),
        LeadField("status", .string, { e in .str(e.lead.status) }),
        LeadField("score", .number, { e in .num(e.lead.score) }),
        LeadField("customer", .bool, { e in .bool(e.lead.customer) }),
        LeadField("band", .string, { e in e.lead.band.map(RV.str) ?? .null }),
        LeadField("first_seen", .timestamp, { e in e.lead.firstSeen.map { .ts($0.milliseconds) } ?? .null }),
        LeadField("company.domain", .string, { e in e.lead.company.domain.map(RV.str) ?? .null }),
        LeadField("company.size", .number, { e in e.lead.company.size.map(RV.num) ?? .null }),
        LeadField("company.industry", .string, { e in e.lead.company.industry.map(RV.str) ?? .null }),
        LeadField("company.tech_stack", .list(.string), { e in .list(e.lead.company.techStack.map(RV.str)) }),
    ]

    static var fieldNames: [String] {
        leadFields.map { "lead." + $0.name } + ["lead.traits.<name>", "lead.interest.top_category", "lead.interest.top_product",
            "lead.interest.categories.<name>", "event.type", "event.name",
            "event.properties.<name>", "event.context.<name>", "membership.age"]
    }

    func compilePath(_ e: Expr, _ parts: [String]) -> CNode? {
        let text = e.canonical
        let full = parts.joined(separator: ".")
        func unknown(_ hint: String = "") -> CNode? {
            let known = ExprCompiler.fieldNames.filter { !$0.contains("<") }
            error(e.offset, "unknown field `\(full)`\(didYouMean(full, known))\(hint)")
            return nil
        }
        if scope.inWhere, parts.first != "event" {
            error(e.offset, "inside `where` only event fields (event.type, event.name, event.properties.*, event.context.*) can be used, not `\(full)`: the filter is checked on each counted event")
            return nil
        }
        switch parts.first {
        case "lead":
            let rest = parts.dropFirst()
            if rest.first == "traits" {
                guard rest.count >= 2 else { return unknown(": name a trait, e.g. lead.traits.plan") }
                let keys = Array(rest.dropFirst())
                return CNode(kind: .path, type: .dynamic, text: text, eval: { env in RV(dig(env.lead.traits, keys)) })
            }
            if rest.first == "interest" { return compileInterest(e, Array(rest.dropFirst()), unknown: unknown) }
            let name = rest.joined(separator: ".")
            guard let field = ExprCompiler.leadFields.first(where: { $0.name == name }) else { return unknown() }
            if name == "band", scope.timeSensitive {
                error(e.offset, "`lead.band` is decided after \(scope.name) is; compare `lead.score` with the band's limit instead (e.g. `lead.score >= 60`)")
                return nil
            }
            let node = CNode(kind: .path, type: field.type, text: text, eval: field.read)
            if name == "score" { timeUses.append((node, .score, e.offset)) }
            return node
        case "event":
            guard parts.count >= 2 else { return unknown(": name a field, e.g. event.type") }
            switch parts[1] {
            case "type" where parts.count == 2:
                return CNode(kind: .path, type: .string, text: text, eval: { env in env.event.map { .str($0.type) } ?? .null })
            case "name" where parts.count == 2:
                return CNode(kind: .path, type: .string, text: text, eval: { env in env.event.map { .str($0.name) } ?? .null })
            case "properties", "context":
                guard parts.count >= 3 else { return unknown(": name a key, e.g. event.\(parts[1]).path") }
                let keys = Array(parts.dropFirst(2))
                let properties = parts[1] == "properties"
                // One and two keys (`event.properties.category`, `event.context.campaign.medium`:
                // nearly every path) are read without `dig`'s slice and loop, a dozen times an event
                // in a backtest (docs/benchmarks/backtest.md). The same value either way.
                switch keys.count {
                case 1:
                    let k0 = keys[0]
                    return CNode(kind: .path, type: .dynamic, text: text, eval: { env in
                        guard let ev = env.event else { return .null }
                        return RV((properties ? ev.properties : ev.context).member(k0))
                    })
                case 2:
                    let k0 = keys[0], k1 = keys[1]
                    return CNode(kind: .path, type: .dynamic, text: text, eval: { env in
                        guard let ev = env.event, let v = (properties ? ev.properties : ev.context).member(k0) else { return .null }
                        return RV(v[k1])
                    })
                default:
                    if properties {
                        return CNode(kind: .path, type: .dynamic, text: text, eval: { env in RV(env.event.flatMap { dig($0.properties, keys) }) })
                    }
                    return CNode(kind: .path, type: .dynamic, text: text, eval: { env in RV(env.event.flatMap { dig($0.context, keys) }) })
                }
            default:
                return unknown()
            }
        case "membership":
            guard parts == ["membership", "age"] else { return unknown() }
            guard scope.allowsMembershipAge else {
                error(e.offset, "`membership.age` can only be used in a segment's `exit` (it is how long the lead has been a member)")
                return nil
            }
            let node = CNode(kind: .path, type: .duration, text: text, eval: { env in env.enteredAt.map { .dur(env.now - $0) } ?? .null })
            timeUses.append((node, .age, e.offset))
            return node
        default:
            if parts.count == 1 {
                let asLead = ExprCompiler.leadFields.contains { $0.name == full } ? " (did you mean `lead.\(full)`?)" : ""
                error(e.offset, "unknown name `\(full)`\(asLead): put text in quotes ('\(full)') or start a field with `lead.` or `event.`")
                return nil
            }
            return unknown(": fields start with `lead.`, `event.` or `membership.`")
        }
    }
}

/// Follows keys through nested objects; nil when any step is missing.
func dig(_ root: [String: Value], _ keys: [String]) -> Value? {
    guard let first = keys.first, var v = root.member(first) else { return nil }
    for k in keys.dropFirst() {
        guard let next = v[k] else { return nil }
        v = next
    }
    return v
}
