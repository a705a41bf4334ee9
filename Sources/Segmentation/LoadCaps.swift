import Yams

/// `caps:`: channel → list of `{when, max, per}` (first whose `when` holds applies).
extension RulesetLoader {
    func loadCaps(_ n: Node?, _ c: ExprCompiler) -> [ChannelCaps] {
        guard let n, let m = y.mapping(n, "`caps`", allowed: RulesetLoader.channels) else { return [] }
        var out: [String: [FrequencyCap]] = [:]
        for (channel, _, v) in m {
            let items: [Node]
            if case .mapping = v { items = [v] } else { items = y.sequence(v, "`caps.\(channel)`") ?? [] }
            var caps: [FrequencyCap] = []
            for (k, item) in items.enumerated() {
                guard let cm = y.mapping(item, "a cap of `\(channel)`", allowed: ["when", "max", "per"]) else { continue }
                let f = Dictionary(cm.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
                var when: Rule?
                if let w = f["when"] {
                    guard let r = rule(w, "`when`", RuleScope(name: "a cap's `when`"), c) else { continue }
                    when = r
                } else if k < items.count - 1 {
                    sink.error(y.loc(item), "only the last cap of `\(channel)` may leave out `when` (it applies when no other does); later caps would never be used")
                }
                guard let mn = f["max"], let pn = f["per"] else {
                    sink.error(y.loc(item), "a cap needs `max` (sends allowed) and `per` (the window), e.g. { max: 3, per: 7d }")
                    continue
                }
                guard let max = y.integer(mn, "`max`"), let per = y.duration(pn, "`per`") else { continue }
                if max < 0 { sink.error(y.loc(mn), "`max` must be 0 or more"); continue }
                caps.append(FrequencyCap(when: when, max: max, per: per))
            }
            if !caps.isEmpty { out[channel] = caps }
        }
        return out.keys.sorted().map { ChannelCaps(channel: $0, entries: out[$0]!) }
    }
}
