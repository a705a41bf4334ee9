import Foundation
import Segmentation

/// Reads the `YYYY-MM-DDTHH:MM:SS.mmmZ` text that `Timestamp` writes, without a date formatter:
/// lead rows carry several such times (membership entries, touches) and creating an ICU formatter
/// per value showed up as a fifth of ingest's CPU time. Other shapes fall back to Foundation.
enum TimestampText {
    static func parse(_ text: String) -> Timestamp? {
        let u = Array(text.utf8)
        if u.count == 24, u[4] == 45, u[7] == 45, u[10] == 84, u[13] == 58, u[16] == 58, u[19] == 46, u[23] == 90,
           let y = number(u, 0, 4), let mo = number(u, 5, 2), let d = number(u, 8, 2), let h = number(u, 11, 2),
           let mi = number(u, 14, 2), let s = number(u, 17, 2), let ms = number(u, 20, 3), (1...12).contains(mo), (1...31).contains(d) {
            let days = daysFromCivil(y, mo, d)
            return Timestamp(milliseconds: ((days * 86_400 + h * 3600 + mi * 60 + s) * 1000) + ms)
        }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return Timestamp(date) }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text).map(Timestamp.init)
    }

    private static func number(_ u: [UInt8], _ start: Int, _ count: Int) -> Int64? {
        var value: Int64 = 0
        for i in start..<start + count {
            let c = u[i]
            guard c >= 48 && c <= 57 else { return nil }
            value = value * 10 + Int64(c - 48)
        }
        return value
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    private static func daysFromCivil(_ year: Int64, _ month: Int64, _ day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}

/// A touch as stored in `source_first`/`source_last`, read without `Timestamp`'s formatter.
struct StoredTouch: Decodable {
    var channel: String
    var at: String
    var touch: LeadState.Touch? { TimestampText.parse(at).map { LeadState.Touch(channel: channel, at: $0) } }
}
