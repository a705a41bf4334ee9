import Foundation

/// Score decay and points. The score is the sum of per-rule contributions, each decaying with the
/// same half-life, so a rule's cap bounds its own decayed contribution:
///
/// - decay: `score(t) = score(t0) · 0.5^((t − t0) / half_life)`; never grows when `now` is earlier
///   than the stored `scoreAt`;
/// - a matching event adds `points · 0.5^((now − occurred_at) / half_life)` (a late event adds what its
///   points would have decayed to by now), but a capped rule adds at most `cap − its current
///   contribution` (never less than 0): at every instant the rule's decayed total is ≤ `cap`;
/// - negative points are never capped.
extension Engine {
    func decayFactor(from: Int64?, to: Int64) -> Double {
        decayFactor(ruleset.plan.halfLifeMs, from: from, to: to)
    }

    func decayFactor(_ halfLife: Int64?, from: Int64?, to: Int64) -> Double {
        Decay.factor(halfLife, from: from, to: to)
    }

    func decayedScore(_ state: LeadState, to now: Int64) -> Double {
        state.score * decayFactor(from: state.scoreAt?.milliseconds, to: now)
    }

    /// Brings the stored contributions and score to `env.now`.
    func decayScore(_ env: EvalEnv) {
        let f = decayFactor(from: env.lead.scoreAt?.milliseconds, to: env.now)
        // Every part decays by the same factor, so the score does too: no re-summing needed.
        if f != 1 {
            // In place: the values change, the keys and their hashes do not.
            var parts = env.lead.scoreParts
            env.lead.scoreParts = [:]
            let negligible = parts.scaleValues(by: f) { abs($0) < 1e-9 }
            if negligible { parts = parts.filter { abs($0.value) >= 1e-9 } }
            env.lead.scoreParts = parts
            env.lead.score *= f
        }
        if (env.lead.scoreAt?.milliseconds ?? Int64.min) < env.now { env.lead.scoreAt = Timestamp(milliseconds: env.now) }
    }

    func applyScoreRules(_ ev: ResolvedEvent, _ env: EvalEnv) -> [ScoreRuleApplication] {
        decayScore(env)
        var out: [ScoreRuleApplication] = []
        let age = decayFactor(from: ev.at, to: env.now)
        let rules = ruleset.scoring.rules
        let fns = ruleset.plan.scoreRuleFns
        for i in ev.scoreRules where fns[i].holds(env) {
            let rule = rules[i]
            let points = rule.points * age
            let current = env.lead.scoreParts.member(rule.key) ?? 0
            var add = points
            if let cap = rule.cap, points > 0 { add = max(0, min(points, cap - current)) }
            env.lead.scoreParts[rule.key] = current + add
            env.lead.score += add
            guard env.explains else { continue }
            let late = age != 1 ? env.now - ev.at : nil
            out.append(ScoreRuleApplication(rule: rule.when.text, points: rule.points, added: round3(add),
                                            cap: rule.cap, capped: add < points, age: late.map(Duration.format),
                                            text: ScoreWords.rule(points: rule.points, ageMs: late, halfLife: ruleset.plan.halfLifeText,
                                                                  decayed: points, added: add, cap: add < points ? rule.cap : nil)))
        }
        return out
    }
}

/// The score explanation in words: decay spelled out, numbers to one decimal (the JSON fields
/// beside the text keep three).
enum ScoreWords {
    /// `40 points, 7 days ago, half-life 14d → 28.3`; `10 points → 10`; `10 points, cap 30 → 4`.
    /// (Both texts are written as UTF-8 bytes and made a String once, as explanations are:
    /// String appends and interpolation check grapheme boundaries at every join.)
    static func rule(points: Double, ageMs: Int64?, halfLife: String?, decayed: Double, added: Double, cap: Double?) -> String {
        var s = Explainer.Text()
        s += one(points); s += " points"
        if let ageMs, let halfLife { s += ", "; s += Duration.spoken(ageMs); s += " ago, half-life "; s += halfLife }
        if let cap {
            if ageMs != nil { s += " → "; s += one(decayed) }
            s += ", cap "; s += one(cap)
        }
        s += " → "; s += one(added)
        return s.string
    }

    /// `41.1, 2 days ago, half-life 14d → 37.3; + 28.3 + 10 = 75.6 (band route_to_sales)`.
    static func total(previous: Double, previousAt: Int64?, decayed: Double, halfLife: String?, now: Int64,
                      added: [Double], score: Double, band: String?) -> String {
        var s = Explainer.Text()
        s += one(previous)
        if let at = previousAt, let halfLife, now > at, previous != 0 {
            s += ", "; s += Duration.spoken(now - at); s += " ago, half-life "; s += halfLife; s += " → "; s += one(decayed)
        }
        for a in added { s += a < 0 ? " − " : " + "; s += one(a < 0 ? -a : a) }
        s += " = "; s += one(score)
        if let band { s += " (band "; s += band; s += ")" }
        return s.string
    }

    static func one(_ v: Double) -> String { Expr.formatNumber((v * 10).rounded() / 10) }
}

/// Exponential decay, one definition for the score and `lead.interest` counts.
enum Decay {
    /// `0.5^((to − from) / halfLife)`; 1 without a half-life, a start, or when `to` is not later
    /// (values never decay upwards).
    static func factor(_ halfLife: Int64?, from: Int64?, to: Int64) -> Double {
        guard let hl = halfLife, let from, to > from else { return 1 }
        return pow(0.5, Double(to - from) / Double(hl))
    }
}
