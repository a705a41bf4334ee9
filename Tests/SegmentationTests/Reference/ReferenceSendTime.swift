import Foundation

// `send_at` as docs/rules.md specifies it, computed the slow way: scan local time minute by
// minute from `now + delay` until the time of day falls inside the window. Window edges and zone
// transitions fall on whole minutes, so the scan is exact.

/// The first minute-aligned instant at or after `t` (or `t` itself) whose local time in `zone` is
/// inside `window` (minutes of the day, start inclusive, end exclusive; start > end wraps midnight).
func referenceSendAt(_ t: Int64, window: (Int, Int), zone: TimeZone) -> Int64 {
    func inside(_ u: Int64) -> Bool {
        let local = u + Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(u) / 1000))) * 1000
        let m = Int(((local % 86_400_000) + 86_400_000) % 86_400_000 / 60_000)
        return window.0 < window.1 ? (m >= window.0 && m < window.1) : (m >= window.0 || m < window.1)
    }
    if inside(t) { return t }
    var u = (t / 60_000 + 1) * 60_000
    while !inside(u) { u += 60_000 }
    return u
}

/// A segment's email timing in a random ruleset: a delay and/or a window of local time.
struct RefTiming {
    var delay: RefDuration?
    /// Minutes of the day.
    var window: (start: Int, end: Int)?

    /// The route's extra keys, e.g. `, delay: 2h, window: "09:00-19:00"`.
    var yaml: String {
        var text = ""
        if let delay { text += ", delay: \(delay.text)" }
        if let window {
            func hhmm(_ m: Int) -> String { String(format: "%02d:%02d", m / 60, m % 60) }
            text += ", window: \"\(hhmm(window.start))-\(hhmm(window.end))\""
        }
        return text
    }

    /// When an action decided at `now` is sent in `zone`.
    func sendAt(now: Int64, zone: TimeZone) -> Int64 {
        let t = now + (delay?.ms ?? 0)
        guard let window else { return t }
        return referenceSendAt(t, window: window, zone: zone)
    }
}
