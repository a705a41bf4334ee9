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

    /// `action_state`: `{"interest": {"at": …, "categories": {…}, "products": {…}}, "timezone": …}`;
    /// NULL when there is nothing to keep.
    static func actionState(_ s: LeadState) -> PostgresJSON? {
        guard !s.interest.isEmpty || s.timezone != nil else { return nil }
        var w = JSONWriter(capacity: 256)
        w.fixedObject { w, first in
            if !s.interest.isEmpty {
                w.member("interest", first: &first)
                w.fixedObject { w, f in
                    if let at = s.interest.at { w.member("at", first: &f); w.timestamp(at) }
                    w.member("categories", first: &f); w.object(s.interest.categories) { w, v in w.number(v) }
                    w.member("products", first: &f); w.object(s.interest.products) { w, v in w.number(v) }
                }
            }
            if let tz = s.timezone { w.member("timezone", first: &first); w.string(tz) }
        }
        return w.json
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
