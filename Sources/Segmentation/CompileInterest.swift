/// `lead.interest.*`: the lead's top category and product by decayed product views, and the
/// decayed count of one category (see `InterestState`).
extension ExprCompiler {
    func compileInterest(_ e: Expr, _ rest: [String], unknown: (String) -> CNode?) -> CNode? {
        let text = e.canonical
        usesInterest = true
        if interestUse == nil { interestUse = locate(e.offset) }
        switch rest.first {
        case "top_category" where rest.count == 1:
            return CNode(kind: .path, type: .string, text: text, eval: { env in InterestState.top(env.lead.interest.categories).map(RV.str) ?? .null })
        case "top_product" where rest.count == 1:
            return CNode(kind: .path, type: .string, text: text, eval: { env in InterestState.top(env.lead.interest.products).map(RV.str) ?? .null })
        case "categories":
            guard rest.count >= 2 else { return unknown(": name a category, e.g. lead.interest.categories.running-shoes") }
            // A decaying count changes between events; the re-evaluation schedule does not follow it.
            if scope.timeSensitive {
                error(e.offset, "`\(text)` decays with time, so it cannot be used in \(scope.name) (re-evaluation could not be scheduled); use it in scoring, choices, caps or templates, or use `lead.interest.top_category`")
                return nil
            }
            let category = rest.dropFirst().joined(separator: ".")
            let halfLife = interestHalfLife
            return CNode(kind: .path, type: .number, text: text, eval: { env in
                .num(env.lead.interest.count(env.lead.interest.categories, category, now: env.now, halfLife: halfLife))
            })
        default:
            return unknown(": `lead.interest` has top_category, top_product and categories.<name>")
        }
    }
}
