import Foundation

/// The `Date` header value (IMF-fixdate, RFC 9110 §5.6.7), e.g. `Sun, 06 Nov 1994 08:49:37 GMT`.
/// Formatting is pure arithmetic; the current value is cached per second behind a lock, so a
/// busy server formats it once a second instead of once per response.
public enum HTTPDate {
    private static let days = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]  // 1970-01-01 was a Thursday
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    private static let cache = DateCache()

    /// Formats seconds since 1970-01-01T00:00:00Z as IMF-fixdate.
    public static func imfFixdate(epochSeconds: Int) -> String {
        let dayNumber = epochSeconds >= 0 ? epochSeconds / 86_400 : (epochSeconds - 86_399) / 86_400
        let secondOfDay = epochSeconds - dayNumber * 86_400
        let (year, month, day) = civilDate(daysSinceEpoch: dayNumber)
        let weekday = days[((dayNumber % 7) + 7) % 7]
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        let time = "\(two(secondOfDay / 3600)):\(two(secondOfDay / 60 % 60)):\(two(secondOfDay % 60))"
        let y = String(year)
        let paddedYear = String(repeating: "0", count: max(0, 4 - y.count)) + y
        return "\(weekday), \(two(day)) \(months[month - 1]) \(paddedYear) \(time) GMT"
    }

    /// Howard Hinnant's days-to-civil algorithm (proleptic Gregorian calendar).
    static func civilDate(daysSinceEpoch: Int) -> (year: Int, month: Int, day: Int) {
        let z = daysSinceEpoch + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// Appends the current date, formatted at most once per second.
    static func appendNow(to buffer: inout [UInt8]) {
        buffer.append(contentsOf: cache.current(now: Int(Date().timeIntervalSince1970)))
    }
}

/// The last formatted second; shared by every loop and worker thread.
private final class DateCache: @unchecked Sendable {
    private let lock = NSLock()
    private var second = Int.min
    private var bytes: [UInt8] = []

    func current(now: Int) -> [UInt8] {
        lock.lock()
        defer { lock.unlock() }
        if now != second {
            second = now
            bytes = Array(HTTPDate.imfFixdate(epochSeconds: now).utf8)
        }
        return bytes
    }
}
