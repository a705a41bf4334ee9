import Yams

/// `sales:` — what a sales rep may report when they ack a queue item.
///
/// ```yaml
/// sales:
///   outcomes:                                   # ack {outcome} takes one of these names
///     contacted:      { status: sales_outreach_started }
///     meeting_booked: { status: meeting_scheduled }
///     no_answer:      {}                        # closes the item, the status stays
///     disqualified:   { status: disqualified }
/// ```
///
/// An outcome is not a CRM status: it names what happened, and may move the status. Free text
/// goes to the ack's `note`. Without `sales.outcomes` the list is `SalesOutcome.defaults`.
extension RulesetLoader {
    static let outcomeNamePattern = "^[a-z][a-z0-9_]{0,63}$"

    func loadSales(_ n: Node?) -> [String: SalesOutcome]? {
        guard let n, let m = y.mapping(n, "`sales`", allowed: ["outcomes"]) else { return nil }
        var outcomes: [String: SalesOutcome] = [:]
        for (_, keyNode, value) in m {
            guard let om = y.mapping(value, "`sales.outcomes`", allowed: []) else { continue }
            if om.isEmpty { sink.error(y.loc(keyNode), "`sales.outcomes` must name at least one outcome (e.g. `contacted: { status: sales_outreach_started }`)") }
            for (name, nameNode, entry) in om {
                if name.range(of: Self.outcomeNamePattern, options: .regularExpression) == nil {
                    sink.error(y.loc(nameNode), "outcome `\(name)` must be lower case letters, digits and `_`, starting with a letter (free text goes to an ack's `note`)")
                    continue
                }
                if case .scalar(let s) = entry, s.string.isEmpty || s.string == "~" || s.string == "null" {
                    outcomes[name] = SalesOutcome(status: nil)
                    continue
                }
                guard let fields = y.mapping(entry, "outcome `\(name)`", allowed: ["status"]) else { continue }
                var status: String?
                for (_, _, v) in fields {
                    guard let s = y.string(v, "`status` of outcome `\(name)`") else { continue }
                    if s.range(of: "^[a-z0-9][a-z0-9_.-]{0,127}$", options: .regularExpression) == nil {
                        sink.error(y.loc(v), "`\(s)` is not a status name: lower case letters, digits, `_`, `.`, `-`")
                        continue
                    }
                    status = s
                }
                outcomes[name] = SalesOutcome(status: status)
            }
        }
        return outcomes
    }
}

/// One `sales.outcomes` entry: the status an ack with this outcome moves the lead to (nil: none).
public struct SalesOutcome: Sendable, Equatable {
    public let status: String?

    public init(status: String?) { self.status = status }

    /// The outcomes when the ruleset names none: a contact moves the lead to `sales_outreach_started`.
    public static let defaults: [String: SalesOutcome] = ["contacted": SalesOutcome(status: "sales_outreach_started")]
    /// The outcome of an ack that names none (when the ruleset's list has it).
    public static let defaultName = "contacted"
}
