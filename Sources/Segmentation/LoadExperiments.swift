import Foundation
import Yams

/// `route.<channel>: {experiment: …, variants: {…}, holdout: …}`: one channel's action split into
/// weighted variants and a holdout. A variant holds the channel's ordinary action fields, loaded by
/// `loadRoute` exactly as a plain action (so templates, choices and `delay`/`window` compose).
extension RulesetLoader {
    static let experimentKeys = ["experiment", "variants", "holdout"]

    /// The action fields a variant may set on each channel, besides its `weight`.
    static let variantFields: [String: [String]] = [
        "email": ["sequence"] + timingKeys,
        "ads": ["audience", "landing_page"] + timingKeys,
        "sales": ["queue", "team", "sla", "script"] + timingKeys,
    ]

    /// True when a channel's value is an experiment rather than a plain action.
    static func isExperiment(_ v: Node) -> Bool {
        if case .mapping(let m) = v { return m["experiment"] != nil }
        return false
    }

    /// Loads one channel's experiment; nil (with errors reported) when it is not valid.
    func loadExperiment(_ channel: String, _ n: Node, teams: [String: Team], _ c: ExprCompiler) -> RouteExperiment? {
        let what = "the experiment of `route.\(channel)`"
        guard let m = y.mapping(n, what, allowed: RulesetLoader.experimentKeys) else { return nil }
        let f = Dictionary(m.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        var ok = true
        var name = ""
        if let nn = f["experiment"], let s = y.string(nn, "`experiment`") {
            name = s
            if !RulesetLoader.isExperimentName(s) {
                sink.error(y.loc(nn), "experiment name `\(s)` must be lower-case letters, digits and inner hyphens, e.g. pricing-copy (it appears in /v1/experiments/{name})")
                ok = false
            }
        } else { ok = false }
        var holdout = 0.0
        if let hn = f["holdout"] {
            if let h = holdoutPercent(hn) { holdout = h } else { ok = false }
        }
        var variants: [RouteExperiment.Variant] = []
        if let vn = f["variants"] {
            if let vm = y.mapping(vn, "`variants`", allowed: []) {
                if vm.isEmpty { sink.error(y.loc(vn), "`variants` needs at least one variant, e.g. `a: {sequence: pricing-a, weight: 50}`"); ok = false }
                for (key, keyNode, value) in vm {
                    if let v = loadVariant(channel, key, keyNode, value, teams: teams, c) { variants.append(v) } else { ok = false }
                }
            } else { ok = false }
        } else {
            sink.error(y.loc(n), "\(what) needs `variants`, e.g. `variants: {a: {…, weight: 50}, b: {…, weight: 50}}`")
            ok = false
        }
        guard ok else { return nil }
        let e = RouteExperiment(name: name, channel: channel, holdout: holdout, variants: variants, location: y.loc(n))
        return checkUnique(e, f["experiment"]!) ? e : nil
    }

    /// `10%`, `10` or `0`: a percentage from 0 up to (not including) 100.
    private func holdoutPercent(_ n: Node) -> Double? {
        guard case .scalar(let s) = n else {
            sink.error(y.loc(n), "`holdout` must be a percentage like 10%")
            return nil
        }
        var text = s.string.trimmingCharacters(in: .whitespaces)
        if text.hasSuffix("%") { text.removeLast() }
        guard let h = Double(text.trimmingCharacters(in: .whitespaces)), h.isFinite, h >= 0, h < 100 else {
            sink.error(y.loc(n), "`holdout` `\(s.string)` must be a percentage from 0% up to (not including) 100%, e.g. 10%")
            return nil
        }
        return h
    }

    private func loadVariant(_ channel: String, _ key: String, _ keyNode: Node, _ value: Node,
                             teams: [String: Team], _ c: ExprCompiler) -> RouteExperiment.Variant? {
        var ok = true
        if !RulesetLoader.isExperimentName(key) || key == ExperimentAssignment.holdout {
            sink.error(y.loc(keyNode), "variant key `\(key)` must be lower-case letters, digits and inner hyphens, and not `holdout` (the held-out arm's name)")
            ok = false
        }
        let allowed = ["weight"] + (RulesetLoader.variantFields[channel] ?? [])
        guard let fields = y.mapping(value, "variant `\(key)` of `route.\(channel)`", allowed: allowed) else { return nil }
        // A key refused above (reported) would make the action look incomplete: report nothing more.
        if case .mapping(let all) = value, all.count != fields.count { ok = false }
        var weight: Double?
        var rest: [(Node, Node)] = []
        for (name, nameNode, v) in fields {
            if name == "weight" {
                weight = y.number(v, "`weight`")
                if let w = weight, w <= 0 {
                    sink.error(y.loc(v), "`weight` of variant `\(key)` must be positive; remove the variant to stop it")
                    weight = nil
                }
                if weight == nil { ok = false }
            } else {
                rest.append((nameNode, v))
            }
        }
        if fields.allSatisfy({ $0.key != "weight" }) {
            sink.error(y.loc(value), "variant `\(key)` needs a `weight`, e.g. `weight: 50`")
            ok = false
        }
        // The variant without `weight`, under its channel: an ordinary route with one action.
        let action = Node.mapping(Node.Mapping(rest, .implicit, .any, value.mark))
        let wrapper = Node.mapping(Node.Mapping([(Node(channel), action)], .implicit, .any, value.mark))
        guard ok, let weight else { return nil }
        let route = loadRoute(wrapper, teams: teams, c)
        return RouteExperiment.Variant(key: key, weight: weight, route: route)
    }

    /// An experiment name is used at most once per channel; on several channels (an email and an
    /// ads test run as one) every use must have the same arms, since a lead gets one arm per name.
    private func checkUnique(_ e: RouteExperiment, _ nameNode: Node) -> Bool {
        let earlier = experimentUses.filter { $0.name == e.name }
        experimentUses.append(e)
        if let same = earlier.first(where: { $0.channel == e.channel }) {
            sink.error(y.loc(nameNode), "experiment `\(e.name)` already runs on \(e.channel) (line \(same.location.line)); an experiment name must be unique per channel, so its statistics count one set of leads")
            return false
        }
        if let other = earlier.first, other.holdout != e.holdout
            || other.variants.map(\.key) != e.variants.map(\.key) || other.variants.map(\.weight) != e.variants.map(\.weight) {
            sink.error(y.loc(nameNode), "experiment `\(e.name)` also runs on \(other.channel) (line \(other.location.line)) with other variants, weights or holdout; one experiment has one set of arms")
            return false
        }
        return true
    }

    static func isExperimentName(_ s: String) -> Bool {
        !s.isEmpty && s.first != "-" && s.last != "-"
            && s.allSatisfy { ($0 >= "a" && $0 <= "z") || ($0 >= "0" && $0 <= "9") || $0 == "-" }
    }
}
