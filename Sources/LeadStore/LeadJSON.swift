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
}
