import Yams

/// `interest:`: which event is a product view and which properties name its category and product.
extension RulesetLoader {
    static let interestKeys = ["event", "category", "product", "half_life"]

    func loadInterest(_ n: Node?, knownTypes: [String]) -> InterestSpec {
        var spec = InterestSpec()
        guard let n, let m = y.mapping(n, "`interest`", allowed: RulesetLoader.interestKeys) else { return spec }
        for (key, _, v) in m {
            switch key {
            case "event":
                guard let t = y.string(v, "`interest.event`") else { continue }
                if !knownTypes.contains(t) {
                    sink.error(y.loc(v), "`interest.event` names `\(t)`, which is not a known event type\(didYouMean(t, knownTypes)); map the incoming name under `events.aliases`")
                }
                spec.event = t
            case "category": if let p = y.string(v, "`interest.category`") { spec.categoryProperty = p }
            case "product": if let p = y.string(v, "`interest.product`") { spec.productProperty = p }
            default:
                if v.string == "none" { spec.halfLife = nil } else if let d = y.duration(v, "`interest.half_life`") { spec.halfLife = d }
            }
        }
        return spec
    }
}
