import Foundation

import Segmentation

/// `DriftReport` as `GET /v1/drift` and `drift.detected` show it: snake_case, times as RFC 3339,
/// absent values as `null` (never left out).
package struct DriftView: Encodable {
    let report: DriftReport

    package init(_ report: DriftReport) { self.report = report }

    enum Keys: String, CodingKey {
        case generatedAt = "generated_at", hourEnding = "hour_ending", alerts, volumes, unmapped, keyEvents = "key_events"
        case captures, rejected
    }

    package func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(Timestamp(report.generatedAt), forKey: .generatedAt)
        try c.encode(Timestamp(report.hourEnding), forKey: .hourEnding)
        try c.encode(report.alerts.map { AlertView($0) }, forKey: .alerts)
        try c.encode(report.volumes.map(VolumeView.init), forKey: .volumes)
        try c.encode(report.unmapped.map(UnmappedView.init), forKey: .unmapped)
        try c.encode(report.keyEvents.map(KeyEventView.init), forKey: .keyEvents)
        try c.encode(report.captures.map(CaptureView.init), forKey: .captures)
        try c.encode(report.rejected, forKey: .rejected)
    }
}

/// One alert, with who reads what drifted.
package struct AlertView: Encodable {
    let alert: DriftReport.Alert
    /// Set in `drift.detected` messages: when the check found it.
    let detectedAt: Date?
    package init(_ alert: DriftReport.Alert, detectedAt: Date? = nil) { self.alert = alert; self.detectedAt = detectedAt }

    enum Keys: String, CodingKey {
        case id, kind, subject, window, current, baseline, change, detail, segments, scoringRules = "scoring_rules", stages, routes, owners
        case detectedAt = "detected_at"
    }

    package func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        if let detectedAt { try c.encode(Timestamp(detectedAt), forKey: .detectedAt) }
        try c.encode(alert.id, forKey: .id); try c.encode(alert.kind.rawValue, forKey: .kind); try c.encode(alert.subject, forKey: .subject)
        try c.encode(alert.window, forKey: .window); try c.encode(alert.current, forKey: .current)
        try c.encode(alert.baseline, forKey: .baseline); try c.encode(alert.change, forKey: .change); try c.encode(alert.detail, forKey: .detail)
        try c.encode(alert.readers.segments, forKey: .segments); try c.encode(alert.readers.scoringRules, forKey: .scoringRules)
        try c.encode(alert.readers.stages, forKey: .stages); try c.encode(alert.readers.routes, forKey: .routes)
        try c.encode(alert.readers.owners, forKey: .owners)
    }
}

struct VolumeView: Encodable {
    let v: DriftReport.Volume
    init(_ v: DriftReport.Volume) { self.v = v }
    enum Keys: String, CodingKey {
        case eventType = "event_type", lastHour = "last_hour", hourBaseline = "hour_baseline", lastDay = "last_day", dayBaseline = "day_baseline"
    }
    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(v.eventType, forKey: .eventType); try c.encode(v.lastHour, forKey: .lastHour)
        try c.encode(v.hourBaseline, forKey: .hourBaseline); try c.encode(v.lastDay, forKey: .lastDay); try c.encode(v.dayBaseline, forKey: .dayBaseline)
    }
}

struct UnmappedView: Encodable {
    let u: DriftReport.Unmapped
    init(_ u: DriftReport.Unmapped) { self.u = u }
    enum Keys: String, CodingKey {
        case name, count, firstSeen = "first_seen", lastSeen = "last_seen", suggestedName = "suggested_name", suggestedType = "suggested_type"
    }
    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(u.name, forKey: .name); try c.encode(u.count, forKey: .count)
        try c.encode(Timestamp(u.firstSeen), forKey: .firstSeen); try c.encode(Timestamp(u.lastSeen), forKey: .lastSeen)
        try c.encode(u.suggestedName, forKey: .suggestedName); try c.encode(u.suggestedType, forKey: .suggestedType)
    }
}

struct KeyEventView: Encodable {
    let k: DriftReport.KeyEventStatus
    init(_ k: DriftReport.KeyEventStatus) { self.k = k }
    enum Keys: String, CodingKey { case eventType = "event_type", silenceSeconds = "silence_seconds", lastSeen = "last_seen", silent }
    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(k.eventType, forKey: .eventType); try c.encode(k.silenceSeconds, forKey: .silenceSeconds)
        try c.encode(k.lastSeen.map(Timestamp.init), forKey: .lastSeen); try c.encode(k.silent, forKey: .silent)
    }
}

struct CaptureView: Encodable {
    let capture: DriftReport.Capture
    init(_ capture: DriftReport.Capture) { self.capture = capture }
    enum Keys: String, CodingKey { case field, lastDay = "last_day", baseline, daily }
    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(capture.field, forKey: .field); try c.encode(capture.lastDay, forKey: .lastDay)
        try c.encode(capture.baseline, forKey: .baseline); try c.encode(capture.daily, forKey: .daily)
    }
}
