import Foundation
import Segmentation

/// Combines the state of leads found to be one person. The survivor (the oldest lead) keeps its
/// profile and fills gaps from the others; memberships are united (earliest entry), status and
/// touches go by time, scores are decayed to a common instant and added. Signal state is not
/// combined here: the caller rebuilds it from the merged event history (`Engine.backfill`), which
/// is exact.
enum LeadMerge {
    static func merge(survivor: LeadState, others: [LeadState], halfLife: Segmentation.Duration?) -> LeadState {
        var s = survivor
        for o in others {
            s.email = s.email ?? o.email
            s.userId = s.userId ?? o.userId
            s.country = s.country ?? o.country
            s.region = s.region ?? o.region
            s.shipToRegion = s.shipToRegion ?? o.shipToRegion
            s.company.domain = s.company.domain ?? o.company.domain
            s.company.size = s.company.size ?? o.company.size
            s.company.industry = s.company.industry ?? o.company.industry
            if s.company.techStack.isEmpty { s.company.techStack = o.company.techStack }
            s.traits.merge(o.traits) { mine, _ in mine }
            if let at = o.statusAt, s.statusAt.map({ at > $0 }) ?? true { s.status = o.status; s.statusAt = at }
            s.customer = s.customer || o.customer
            for (segment, at) in o.memberships { s.memberships[segment] = min(at, s.memberships[segment] ?? at) }
            if let t = o.firstSource, s.firstSource.map({ t.at < $0.at }) ?? true { s.firstSource = t }
            if let t = o.lastSource, s.lastSource.map({ t.at > $0.at }) ?? true { s.lastSource = t }
            s.firstSeen = earliest(s.firstSeen, o.firstSeen)
            s.lastEventAt = latest(s.lastEventAt, o.lastEventAt)
            mergeScore(into: &s, from: o, halfLife: halfLife)
        }
        s.signals = SignalState()
        return s
    }

    static func mergeScore(into s: inout LeadState, from o: LeadState, halfLife: Segmentation.Duration?) {
        guard let at = latest(s.scoreAt, o.scoreAt) else { return }
        func factor(_ from: Timestamp?) -> Double {
            guard let from, let halfLife, halfLife.milliseconds > 0 else { return 1 }
            return pow(0.5, Double(at.milliseconds - from.milliseconds) / Double(halfLife.milliseconds))
        }
        let fs = factor(s.scoreAt), fo = factor(o.scoreAt)
        var parts = s.scoreParts.mapValues { $0 * fs }
        for (key, value) in o.scoreParts { parts[key, default: 0] += value * fo }
        s.scoreParts = parts
        s.score = s.score * fs + o.score * fo
        s.scoreAt = at
    }

    static func earliest(_ a: Timestamp?, _ b: Timestamp?) -> Timestamp? {
        guard let a else { return b }
        guard let b else { return a }
        return min(a, b)
    }

    static func latest(_ a: Timestamp?, _ b: Timestamp?) -> Timestamp? {
        guard let a else { return b }
        guard let b else { return a }
        return max(a, b)
    }
}
