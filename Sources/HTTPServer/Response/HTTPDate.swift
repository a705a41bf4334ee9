import Essentials
import Foundation

/// The `Date` header value (IMF-fixdate, RFC 9110 §5.6.7), e.g. `Sun, 06 Nov 1994 08:49:37 GMT`.
/// Formatting is pure arithmetic; the current value is cached per second behind a lock, so a
/// busy server formats it once a second instead of once per response.
public enum HTTPDate {
    private static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]  // CivilDate.weekday order
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    private static let cache = DateCache()

    /// Formats seconds since 1970-01-01T00:00:00Z as IMF-fixdate.
    public static func imfFixdate(epochSeconds: Int) -> String {
        let t = CivilDateTime(epochSeconds: Int64(epochSeconds))
        var out: [UInt8] = []
        out.reserveCapacity(29)
        out.append(contentsOf: days[CivilDate.weekday(days: t.daysSinceEpoch)].utf8)
        out.append(contentsOf: ", ".utf8)
        appendZeroPadded(t.day, width: 2, to: &out)
        out.append(UInt8(ascii: " "))
        out.append(contentsOf: months[Int(t.month) - 1].utf8)
        out.append(UInt8(ascii: " "))
        appendZeroPadded(t.year, width: 4, to: &out)
        out.append(UInt8(ascii: " "))
        appendZeroPadded(t.hour, width: 2, to: &out)
        out.append(UInt8(ascii: ":"))
        appendZeroPadded(t.minute, width: 2, to: &out)
        out.append(UInt8(ascii: ":"))
        appendZeroPadded(t.second, width: 2, to: &out)
        out.append(contentsOf: " GMT".utf8)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the current date, formatted at most once per second.
    static func appendNow(to buffer: inout [UInt8]) {
        buffer.append(contentsOf: cache.current(now: Int(Date().timeIntervalSince1970)))
    }
}

/// The last formatted second; shared by every loop and worker thread.
private final class DateCache: Sendable {
    private let state = Locked((second: Int.min, bytes: [UInt8]()))

    func current(now: Int) -> [UInt8] {
        state.withLock { s in
            if now != s.second {
                s.second = now
                s.bytes = Array(HTTPDate.imfFixdate(epochSeconds: now).utf8)
            }
            return s.bytes
        }
    }
}
