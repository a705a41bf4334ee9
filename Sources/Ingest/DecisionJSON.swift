import Foundation
import JSONCoding
import Postgres
import Segmentation

/// The JSON documents of the write path — the decision, its explanation parts, the outbox
/// payloads — written by `JSONWriter` in exactly the bytes `Decision.jsonEncoder` gives (sorted
/// keys, explicit nulls where `Decision.encode` writes them, absent optionals elsewhere), so
/// answers stay byte-identical to what was stored and re-sent duplicates compare equal.
enum DecisionJSON {
    /// The decision document (`POST /v1/events` answer, `decisions.decision`, `lead.routed`).
    static func document(_ d: Decision) -> PostgresJSON {
        var w = JSONWriter(capacity: 2048)
        write(d, into: &w)
        return w.json
    }

    /// A segment's explanation (`membership_history.reason`).
    static func reason(_ s: SegmentExplanation, cause: String? = nil) -> PostgresJSON {
        var w = JSONWriter()
        write(s, into: &w, cause: cause)
        return w.json
    }

    /// `data` of `segment.entered` / `segment.exited`.
    static func segmentChange(leadId: String, segment: String, owner: String?, change: String, eventId: String?, rulesetVersion: Int,
                              at: Timestamp, reason: SegmentExplanation?) -> PostgresJSON {
        var w = JSONWriter()
        w.fixedObject { w, first in
            w.member("at", first: &first); w.timestamp(at)
            w.member("change", first: &first); w.string(change)
            if let eventId { w.member("event_id", first: &first); w.string(eventId) }
            w.member("lead_id", first: &first); w.string(leadId)
            if let owner { w.member("owner", first: &first); w.string(owner) }
            if let reason { w.member("reason", first: &first); write(reason, into: &w) }
            w.member("ruleset_version", first: &first); w.int(rulesetVersion)
            w.member("segment", first: &first); w.string(segment)
        }
        return w.json
    }

    /// `data` of `lead.consent_changed`: the lead's consent answers after the message.
    static func consentChange(leadId: UUID, eventId: UUID, consent: Value) -> PostgresJSON {
        var w = JSONWriter(capacity: 160)
        w.fixedObject { w, first in
            w.member("consent", first: &first); w.value(consent)
            w.member("event_id", first: &first); w.uuid(eventId)
            w.member("lead_id", first: &first); w.uuid(leadId)
        }
        return w.json
    }

    /// A flat object of string fields (`lead.status_changed`, `lead.merged`).
    static func strings(_ fields: [String: String]) -> PostgresJSON {
        var w = JSONWriter(capacity: 160)
        w.object(fields) { w, v in w.string(v) }
        return w.json
    }

    static func write(_ d: Decision, into w: inout JSONWriter) {
        var first = true
        w.byte(UInt8(ascii: "{"))
        w.member("actions", first: &first); w.array(d.actions) { w, a in write(a, into: &w) }
        w.member("band", first: &first); w.optionalString(d.band)
        w.member("evaluated_at", first: &first); w.timestamp(d.evaluatedAt)
        w.member("event_id", first: &first); w.optionalString(d.eventId)
        w.member("event_type", first: &first); w.optionalString(d.eventType)
        w.member("explanation", first: &first); write(d.explanation, into: &w)
        w.member("lead_id", first: &first); w.optionalString(d.leadId)
        w.member("next_evaluation_at", first: &first)
        if let next = d.nextEvaluationAt { w.timestamp(next) } else { w.null() }
        w.member("occurred_at", first: &first)
        if let at = d.occurredAt { w.timestamp(at) } else { w.null() }
        w.member("primary_segment", first: &first); w.optionalString(d.primarySegment)
        w.member("ruleset_version", first: &first); w.int(d.rulesetVersion)
        w.member("score", first: &first); w.number(d.score)
        if let scores = d.segmentScores { w.member("segment_scores", first: &first); w.object(scores) { w, v in w.number(v) } }
        w.member("segments", first: &first)
        var inner = true
        w.byte(UInt8(ascii: "{"))
        w.member("current", first: &inner); w.stringArray(d.segments.current)
        w.member("entered", first: &inner); w.stringArray(d.segments.entered)
        w.member("exited", first: &inner); w.stringArray(d.segments.exited)
        w.byte(UInt8(ascii: "}"))
        w.member("sequence", first: &first)
        if let n = d.sequence { w.int(n) } else { w.null() }
        w.member("stage", first: &first); w.optionalString(d.stage)
        w.member("status", first: &first); w.string(d.status)
        w.member("suppressed", first: &first)
        w.array(d.suppressed) { w, s in
            w.fixedObject { w, f in
                if let cap = s.cap { w.member("cap", first: &f); w.string(cap) }
                w.member("channel", first: &f); w.string(s.channel)
                if let e = s.experiment { w.member("experiment", first: &f); w.string(e) }
                w.member("reason", first: &f); w.string(s.reason)
                if let v = s.segment { w.member("segment", first: &f); w.string(v) }
            }
        }
        w.member("unknown_event_type", first: &first); w.bool(d.unknownEventType)
        w.byte(UInt8(ascii: "}"))
    }

    static func write(_ a: Action, into w: inout JSONWriter) {
        var first = true
        w.byte(UInt8(ascii: "{"))
        if let v = a.assignedBy { w.member("assigned_by", first: &first); w.string(v) }
        if let v = a.audience { w.member("audience", first: &first); w.string(v) }
        if let v = a.band { w.member("band", first: &first); w.string(v) }
        w.member("channel", first: &first); w.string(a.channel)
        if let v = a.experiment { w.member("experiment", first: &first); w.string(v) }
        if let v = a.itemId { w.member("item_id", first: &first); w.string(v) }
        if let v = a.landingPage { w.member("landing_page", first: &first); w.string(v) }
        if let v = a.movedFrom { w.member("moved_from", first: &first); w.string(v) }
        if let v = a.ownerId { w.member("owner_id", first: &first); w.string(v) }
        if let v = a.queue { w.member("queue", first: &first); w.string(v) }
        if let v = a.script { w.member("script", first: &first); w.string(v) }
        w.member("segment", first: &first); w.string(a.segment)
        if let v = a.sendAt { w.member("send_at", first: &first); w.timestamp(v) }
        if let v = a.sequence { w.member("sequence", first: &first); w.string(v) }
        if let skipped = a.skipped {
            w.member("skipped", first: &first)
            w.array(skipped) { w, s in
                w.fixedObject { w, f in
                    if let owner = s.ownerId { w.member("owner_id", first: &f); w.string(owner) }
                    w.member("reason", first: &f); w.string(s.reason)
                    w.member("step", first: &f); w.string(s.step)
                }
            }
        }
        if let v = a.slaDueAt { w.member("sla_due_at", first: &first); w.timestamp(v) }
        if let v = a.team { w.member("team", first: &first); w.string(v) }
        if let v = a.variant { w.member("variant", first: &first); w.string(v) }
        w.byte(UInt8(ascii: "}"))
    }

    /// One object keyed by segment name plus `score`, keys sorted together.
    static func write(_ e: Explanation, into w: inout JSONWriter) {
        var keys = Array(e.segments.keys)
        if e.score != nil { keys.append("score") }
        if e.status != nil { keys.append("status") }
        if !e.actions.isEmpty { keys.append("actions") }
        w.byte(UInt8(ascii: "{"))
        for (i, key) in JSONWriter.sortedKeys(keys).enumerated() {
            if i > 0 { w.byte(UInt8(ascii: ",")) }
            w.key(key)
            if let segment = e.segments[key] {
                write(segment, into: &w)
            } else if key == "actions" {
                w.array(e.actions) { w, a in write(a, into: &w) }
            } else if key == "status", let status = e.status {
                write(status, into: &w)
            } else if let score = e.score {
                write(score, into: &w)
            }
        }
        w.byte(UInt8(ascii: "}"))
    }

    static func write(_ a: ActionExplanation, into w: inout JSONWriter) {
        var first = true
        w.byte(UInt8(ascii: "{"))
        w.member("channel", first: &first); w.string(a.channel)
        if let v = a.choice { w.member("choice", first: &first); w.int(v) }
        w.member("field", first: &first); w.string(a.field)
        if let v = a.missing { w.member("missing", first: &first); w.stringArray(v) }
        if let v = a.rule { w.member("rule", first: &first); w.string(v) }
        w.member("segment", first: &first); w.string(a.segment)
        if let v = a.template { w.member("template", first: &first); w.string(v) }
        if let v = a.value { w.member("value", first: &first); w.string(v) }
        w.byte(UInt8(ascii: "}"))
    }

    static func write(_ s: StatusExplanation, into w: inout JSONWriter) {
        var first = true
        w.byte(UInt8(ascii: "{"))
        if let v = s.by { w.member("by", first: &first); w.string(v) }
        if let v = s.event { w.member("event", first: &first); w.string(v) }
        w.member("from", first: &first); w.string(s.from)
        if let v = s.kept { w.member("kept", first: &first); w.bool(v) }
        if let v = s.rule { w.member("rule", first: &first); w.string(v) }
        if let v = s.to { w.member("to", first: &first); w.string(v) }
        w.byte(UInt8(ascii: "}"))
    }

    static func write(_ s: SegmentExplanation, into w: inout JSONWriter, cause: String? = nil) {
        var first = true
        w.byte(UInt8(ascii: "{"))
        if let cause { w.member("cause", first: &first); w.string(cause) }
        w.member("change", first: &first); w.string(s.change)
        w.member("clauses", first: &first)
        w.array(s.clauses) { w, c in
            w.fixedObject { w, f in
                w.member("clause", first: &f); w.string(c.clause)
                if let event = c.event { w.member("event", first: &f); w.value(.object(event)) }
                w.member("holds", first: &f); w.bool(c.holds)
            }
        }
        if let enter = s.enter { w.member("enter", first: &first); w.string(enter) }
        if let exit = s.exit { w.member("exit", first: &first); w.string(exit) }
        w.member("terms", first: &first)
        w.array(s.terms) { w, t in
            w.fixedObject { w, f in
                w.member("expression", first: &f); w.string(t.expression)
                w.member("value", first: &f); w.value(t.value)
            }
        }
        w.byte(UInt8(ascii: "}"))
    }

    static func write(_ s: ScoreExplanation, into w: inout JSONWriter) {
        var first = true
        w.byte(UInt8(ascii: "{"))
        if let band = s.band { w.member("band", first: &first); w.string(band) }
        w.member("decayed", first: &first); w.number(s.decayed)
        if let half = s.halfLife { w.member("half_life", first: &first); w.string(half) }
        w.member("previous", first: &first); w.number(s.previous)
        if let at = s.previousAt { w.member("previous_at", first: &first); w.timestamp(at) }
        w.member("rules", first: &first)
        w.array(s.rules) { w, r in
            w.fixedObject { w, f in
                w.member("added", first: &f); w.number(r.added)
                if let age = r.age { w.member("age", first: &f); w.string(age) }
                if let cap = r.cap { w.member("cap", first: &f); w.number(cap) }
                w.member("capped", first: &f); w.bool(r.capped)
                w.member("points", first: &f); w.number(r.points)
                w.member("rule", first: &f); w.string(r.rule)
                w.member("text", first: &f); w.string(r.text)
            }
        }
        w.member("score", first: &first); w.number(s.score)
        w.member("text", first: &first); w.string(s.text)
        w.byte(UInt8(ascii: "}"))
    }
}
