import Foundation

/// `delay` and `window` of a route action: the action carries `send_at`, the first instant at or
/// after `now + delay` whose local time (in the lead's zone) is inside the window. Pure arithmetic
/// on `now`; the zone rules come from the system's tz database (Debian `tzdata`).
public struct SendTiming: Sendable {
    /// Added to `now` before the window is applied.
    public let delayMs: Int64
    /// Minutes after local midnight: `[start, end)`; `start > end` wraps past midnight (22:00-06:00).
    public let window: (start: Int, end: Int)?
    /// The window as written, for explanations.
    public let windowText: String?

    /// Parses `HH:MM-HH:MM`.
    static func parseWindow(_ s: String) -> (Int, Int)? {
        let parts = s.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let a = minutes(parts[0]), let b = minutes(parts[1]), a != b else { return nil }
        return (a, b)
    }

    private static func minutes(_ s: Substring) -> Int? {
        let hm = s.split(separator: ":", omittingEmptySubsequences: false)
        guard hm.count == 2, hm[0].count == 2, hm[1].count == 2, let h = Int(hm[0]), let m = Int(hm[1]),
              (0...24).contains(h), (0..<60).contains(m), h * 60 + m <= 1440 else { return nil }
        return h * 60 + m
    }

    func contains(minuteOfDay m: Int) -> Bool {
        guard let (s, e) = window else { return true }
        return s < e ? (m >= s && m < e) : (m >= s || m < e)
    }

    /// The send instant (ms) for `now` in `zone`.
    func sendAt(now: Int64, zone: TimeZone) -> Int64 {
        let t = now + delayMs
        guard let (start, _) = window else { return t }
        func offset(_ u: Int64) -> Int64 { Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(u) / 1000))) * 1000 }
        func local(_ u: Int64) -> Int64 { u + offset(u) }
        func minuteOfDay(_ u: Int64) -> Int { Int(((local(u) % SendTiming.dayMs) + SendTiming.dayMs) % SendTiming.dayMs / 60_000) }
        if contains(minuteOfDay: minuteOfDay(t)) { return t }
        let firstDay = Int64((Double(local(t)) / Double(SendTiming.dayMs)).rounded(.down))
        for day in firstDay...(firstDay + 2) {
            let wall = day * SendTiming.dayMs + Int64(start) * 60_000
            // The instants whose local time is `wall`, under the offsets on either side of that day
            // (two in a repeated hour: the earliest at or after t wins).
            let offsets = [offset(wall - 14 * SendTiming.hourMs), offset(wall + 14 * SendTiming.hourMs)]
            let exact = offsets.map { wall - $0 }.filter { local($0) == wall && $0 >= t }
            if let u = exact.min() { return u }
            if offsets.map({ local(wall - $0) }).allSatisfy({ $0 != wall }) {
                // `wall` falls in a skipped hour: the first instant after it is the transition.
                var lo = wall - offsets.max()! - SendTiming.hourMs, hi = wall - offsets.min()! + SendTiming.hourMs
                while hi - lo > 1 { let mid = lo + (hi - lo) / 2; if local(mid) >= wall { hi = mid } else { lo = mid } }
                if hi >= t, contains(minuteOfDay: minuteOfDay(hi)) { return hi }
            }
        }
        return t
    }

    static let hourMs: Int64 = 3_600_000
    static let dayMs: Int64 = 86_400_000
}

/// Which zone a lead's local time is read in: the lead's `timezone` (the latest event's
/// `context.timezone`, an IANA name as Segment's libraries send it), else the main zone of the
/// lead's country, else UTC.
enum LeadZone {
    /// From the lead's two fields it reads, not the lead: the caller holds the lead in the
    /// evaluation environment, and passing it copied the whole state.
    static func zone(timezone: String?, country: String?) -> (TimeZone, String) {
        if let name = timezone, let tz = zones[name] ?? TimeZone(identifier: name) {
            return (tz, "\(name) (context.timezone)")
        }
        if let country, let name = TimeZoneCountries.mainZone(of: country.uppercased()), let tz = zones[name] {
            return (tz, "\(name) (country \(country.uppercased()))")
        }
        return (utc, "UTC")
    }

    /// Keeps the event's `context.timezone` on the lead when it is a zone this system knows
    /// (checked only when it differs from the one kept: browsers send it on every event).
    static func remember(_ event: ResolvedEvent, in lead: inout LeadState) {
        guard case .string(let name)? = event.context["timezone"], name != lead.timezone,
              name.utf8.count <= 64, zones[name] != nil || TimeZone(identifier: name) != nil else { return }
        if lead.lastEventAt.map({ event.at >= $0.milliseconds }) ?? true { lead.timezone = name }
    }

    static let utc = TimeZone(identifier: "UTC")!
    /// Each country's main zone, loaded once: the ruleset loader touches it when a route has a
    /// `window` (`resolveZones`), so the first timed action does not pay the ~3 M instructions of
    /// resolving ~250 zones; a lead's `context.timezone` that is one of them is looked up here too
    /// instead of being resolved by Foundation again. The zone objects are Foundation's, so offsets
    /// (and DST) are exactly what `TimeZone(identifier:)` gives.
    static let zones: [String: TimeZone] = Dictionary(uniqueKeysWithValues: Set(TimeZoneCountries.mainZones.values).compactMap { name in
        TimeZone(identifier: name).map { (name, $0) }
    })
}

extension LeadZone {
    /// Resolves the zone table at ruleset load rather than at the first timed action.
    static func resolveZones() { _ = zones.count }
}
