import JSONCoding
import Postgres
import Segmentation

/// The JSON columns of a lead row, written without `JSONEncoder` (the write path's hot spot).
enum LeadJSON {
    static func traits(_ traits: [String: Value]) -> PostgresJSON {
        var w = JSONWriter(capacity: 128)
        w.value(.object(traits))
        return w.json
    }

    /// `{"at": …, "channel": …}`, as `LeadState.Touch` encodes and `LeadRecord.touch` reads.
    static func touch(_ t: LeadState.Touch) -> PostgresJSON {
        var w = JSONWriter(capacity: 64)
        w.fixedObject { w, first in
            w.member("at", first: &first); w.timestamp(t.at)
            w.member("channel", first: &first); w.string(t.channel)
        }
        return w.json
    }

    static func scoreParts(_ parts: [String: Double]) -> PostgresJSON {
        var w = JSONWriter(capacity: 128)
        w.object(parts) { w, v in w.number(v) }
        return w.json
    }

    static func memberships(_ memberships: [String: Timestamp]) -> PostgresJSON {
        var w = JSONWriter(capacity: 256)
        w.object(memberships) { w, v in w.timestamp(v) }
        return w.json
    }

    /// `action_state`: `{"interest": {"at": …, "categories": {…}, "products": {…}}, "score_parts": {…},
    /// "segment_scores": {…}, "sent": {…}, "timezone": …}`; NULL when there is nothing to keep.
    /// The score's parts ride along (no schema change): packed with the rest they take a few
    /// bytes instead of ~50 B of jsonb in `leads.score_parts`, which then holds `{}`.
    static func actionState(_ s: LeadState) -> PostgresJSON? {
        // `interest.at` alone is kept too: it says the lead's views have been counted (see
        // `Ruleset.interestMissing`), so it is not backfilled again.
        let interest = !s.interest.isEmpty || s.interest.at != nil
        guard interest || s.timezone != nil || !s.sent.isEmpty || !s.segmentScores.isEmpty || !s.scoreParts.isEmpty else { return nil }
        var w = JSONWriter(capacity: 256)
        w.fixedObject { w, first in
            if interest {
                w.member("interest", first: &first)
                w.fixedObject { w, f in
                    if let at = s.interest.at { w.member("at", first: &f); w.timestamp(at) }
                    w.member("categories", first: &f); w.object(s.interest.categories) { w, v in w.number(v) }
                    w.member("products", first: &f); w.object(s.interest.products) { w, v in w.number(v) }
                }
            }
            if !s.scoreParts.isEmpty {
                w.member("score_parts", first: &first)
                w.object(s.scoreParts) { w, v in w.number(v) }
            }
            if !s.segmentScores.isEmpty {
                w.member("segment_scores", first: &first)
                w.object(s.segmentScores) { w, v in
                    w.fixedObject { w, f in
                        w.member("at", first: &f); w.int(Int(v.at))
                        w.member("parts", first: &f); w.object(v.parts) { w, p in w.number(p) }
                        w.member("score", first: &f); w.number(v.score)
                    }
                }
            }
            if !s.sent.isEmpty {
                w.member("sent", first: &first)
                w.object(s.sent) { w, log in
                    w.fixedObject { w, f in
                        w.member("carried", first: &f); w.array(log.carried) { w, id in w.int(Int(id)) }
                        w.member("times", first: &f); w.array(log.times) { w, t in w.int(Int(t)) }
                    }
                }
            }
            if let tz = s.timezone { w.member("timezone", first: &first); w.string(tz) }
        }
        return w.json
    }

    /// The sent logs of a stored `action_state` (`caps:`).
    static func sent(from state: [String: Value]) -> [String: SentLog] {
        guard case .object(let channels)? = state["sent"] else { return [:] }
        return channels.compactMapValues { v -> SentLog? in
            guard case .object(let log) = v else { return nil }
            var out = SentLog()
            if case .array(let c)? = log["carried"] { out.carried = c.compactMap { if case .number(let n) = $0, n.isFinite, abs(n) < 1e16 { return Int64(n) } else { return nil } } }
            if case .array(let t)? = log["times"] { out.times = t.compactMap { if case .number(let n) = $0, n.isFinite, abs(n) < 1e15 { return Int64(n) } else { return nil } } }
            return out
        }
    }

    /// The segment scores of a stored `action_state`.
    static func segmentScores(from state: [String: Value]) -> [String: SegmentScoreState] {
        guard case .object(let segments)? = state["segment_scores"] else { return [:] }
        return segments.compactMapValues { v -> SegmentScoreState? in
            guard case .object(let s) = v, case .number(let score)? = s["score"], case .number(let at)? = s["at"],
                  at.isFinite, abs(at) < 1e15 else { return nil }
            var parts: [String: Double] = [:]
            if case .object(let p)? = s["parts"] { parts = p.compactMapValues { if case .number(let n) = $0 { return n } else { return nil } } }
            return SegmentScoreState(score: score, at: Int64(at), parts: parts)
        }
    }

    /// The interest part of a stored `action_state`.
    static func interest(from state: [String: Value]) -> InterestState {
        guard case .object(let i)? = state["interest"] else { return InterestState() }
        func counts(_ key: String) -> [String: Double] {
            guard case .object(let m)? = i[key] else { return [:] }
            return m.compactMapValues { if case .number(let n) = $0 { return n } else { return nil } }
        }
        return InterestState(at: i["at"]?.stringValue.flatMap(Timestamp.parse), categories: counts("categories"), products: counts("products"))
    }
}
