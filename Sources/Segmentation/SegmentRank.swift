import Foundation

/// A member's segment score as the `memberships` row keeps it, so that members can be ranked by
/// their score *decayed to now* with an index and without rewriting rows as time passes.
///
/// With one half-life `h` per segment, a score `s` computed at `t` is worth `s · 2^(−(now − t)/h)`
/// at any later `now`. The factor `2^(−now/h)` is common to every member, so the order of the
/// decayed scores is the order of `s · 2^(t/h)` — at every `now`. That value overflows a double
/// after ~1 000 half-lives, so the key is its logarithm, `ln|s| + t · ln 2 / h` (`t` since
/// the Unix epoch, in the unit of `h`), with the sign folded in: positive scores get `1000 + log`, negative
/// ones `−(1000 + log)`, zero gets 0. `ln|s|` of a finite double is above −745, so `1000 + log`
/// is always positive and the three groups never interleave. Decay alone never changes the key
/// (only points do), so a row is rewritten only when points are added, on entry, or when the
/// ruleset's half-life for the segment changes.
public struct SegmentRank: Sendable, Equatable {
    /// The score at `at`, as the engine keeps it.
    public var score: Double
    /// When `score` was computed (ms since the epoch).
    public var at: Int64
    /// The order key described above: higher ranks first, at every `now`.
    public var key: Double

    public init(score: Double, at: Int64, halfLife: Int64?) {
        self.score = score; self.at = at
        self.key = Self.key(score: score, at: at, halfLife: halfLife)
    }

    /// A rank as stored (the key read back exactly as written).
    public init(score: Double, at: Int64, key: Double) { self.score = score; self.at = at; self.key = key }

    /// `sign(s) · (1000 + ln|s| + t · ln 2 / h)`, 0 for a zero (or non-finite) score; without a
    /// half-life the time term is 0 (scores do not decay, the order is the order of the scores).
    public static func key(score: Double, at: Int64, halfLife: Int64?) -> Double {
        guard score != 0, score.isFinite else { return 0 }
        var log = Foundation.log(abs(score))
        if let h = halfLife, h > 0 { log += Double(at) / Double(h) * M_LN2 }
        let key = 1000 + log
        return score > 0 ? key : -key
    }

    /// The score decayed to `now` (never upwards: a `now` before `at` gives the stored score).
    public func score(at now: Int64, halfLife: Int64?) -> Double {
        score * Decay.factor(halfLife, from: at, to: now)
    }

    /// Two keys of the same ranking: equal up to rounding (decaying a score and moving its time
    /// forward changes the key only in its last bits).
    public func sameRank(as other: SegmentRank) -> Bool {
        abs(key - other.key) <= 1e-9 * max(1, abs(key))
    }
}

extension Ruleset {
    /// The half-life (ms) of segment `name`'s own score; nil when it does not decay or has no `score:`.
    public func segmentScoreHalfLife(_ name: String) -> Int64? {
        guard let i = segmentIndex[name] else { return nil }
        return segments[i].score?.halfLife?.milliseconds
    }

    /// True when segment `name` has a `score:` of its own.
    public func hasSegmentScore(_ name: String) -> Bool {
        guard let i = segmentIndex[name] else { return false }
        return segments[i].score != nil
    }

    /// The rank of each of the lead's segment scores (segments with a `score:` it is a member of).
    public func segmentRanks(_ state: LeadState) -> [String: SegmentRank] {
        guard !state.segmentScores.isEmpty else { return [:] }
        var ranks: [String: SegmentRank] = [:]
        for (name, s) in state.segmentScores where hasSegmentScore(name) {
            ranks[name] = SegmentRank(score: s.score, at: s.at, halfLife: segmentScoreHalfLife(name))
        }
        return ranks
    }
}
