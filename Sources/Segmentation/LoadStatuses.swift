import Yams

/// `statuses:`: CRM status moves made by events, each optionally conditional, and which statuses
/// count as "before the purchase" (a customer only moves back to one by an explicit rule).
///
/// ```yaml
/// statuses:
///   pre_customer: [new, engaged, qualified, sales_outreach_started, meeting_scheduled]   # the default
///   on_event:
///     completed_checkout: converted                                   # always
///     requested_pricing: { to: qualified, when: 'not lead.customer' } # only when the rule holds
///     requested_demo:                                                 # the first entry that holds
///       - { to: qualified, when: 'not lead.customer' }
///       - { to: engaged, when: 'lead.customer and lead.status == "engaged"' }
/// ```
extension RulesetLoader {
    /// One `on_event` entry before its `when` is compiled (the compiler needs every known type).
    struct PendingStatusRule {
        var type: String
        var to: String
        var when: Node?
    }

    /// Reads `statuses` (types named by `on_event` become known event types); the `when` rules
    /// are compiled by `compileStatusRules` once the compiler exists.
    func readStatuses(_ n: Node?) -> (rules: [PendingStatusRule], preCustomer: Set<String>) {
        var rules: [PendingStatusRule] = []
        var preCustomer = StatusRule.defaultPreCustomer
        guard let n, let m = y.mapping(n, "`statuses`", allowed: ["on_event", "pre_customer"]) else { return (rules, preCustomer) }
        for (key, _, value) in m {
            if key == "pre_customer" {
                if let list = y.strings(value, "`statuses.pre_customer`") { preCustomer = Set(list) }
                continue
            }
            guard let om = y.mapping(value, "`statuses.on_event`", allowed: []) else { continue }
            for (type, _, entry) in om {
                switch entry {
                case .scalar:
                    if let s = y.string(entry, "the status for `\(type)`") { rules.append(PendingStatusRule(type: type, to: s, when: nil)) }
                case .mapping:
                    if let r = readStatusEntry(entry, type: type) { rules.append(r) }
                case .sequence:
                    let items = y.sequence(entry, "the statuses for `\(type)`") ?? []
                    if items.isEmpty { sink.error(y.loc(entry), "the statuses for `\(type)` must list at least one `{ to: status, when: rule }`") }
                    for item in items {
                        guard case .mapping = item else {
                            sink.error(y.loc(item), "an entry of `statuses.on_event.\(type)` must be `{ to: status, when: rule }`")
                            continue
                        }
                        if let r = readStatusEntry(item, type: type) { rules.append(r) }
                    }
                default:
                    sink.error(y.loc(entry), "the status for `\(type)` must be a status or `{ to: status, when: rule }`")
                }
            }
        }
        return (rules, preCustomer)
    }

    private func readStatusEntry(_ n: Node, type: String) -> PendingStatusRule? {
        guard let fields = y.mapping(n, "`statuses.on_event.\(type)`", allowed: ["to", "when"]) else { return nil }
        let f = Dictionary(fields.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        guard let toNode = f["to"] else {
            sink.error(y.loc(n), "`statuses.on_event.\(type)` needs `to: <status>`")
            return nil
        }
        guard let to = y.string(toNode, "`to` of `statuses.on_event.\(type)`") else { return nil }
        return PendingStatusRule(type: type, to: to, when: f["when"])
    }

    /// Compiles each entry's `when` (evaluated with the event, so any rule is allowed).
    func compileStatusRules(_ pending: [PendingStatusRule], _ c: ExprCompiler) -> [String: [StatusRule]] {
        var out: [String: [StatusRule]] = [:]
        for p in pending {
            var when: Rule?
            if let w = p.when {
                guard let r = rule(w, "`when`", RuleScope(name: "a status rule"), c) else { continue }
                when = r
            }
            out[p.type, default: []].append(StatusRule(to: p.to, when: when))
        }
        return out
    }
}
