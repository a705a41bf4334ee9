import Essentials
import Foundation

/// `timestamptz` text form without Foundation formatters: they are slow and not needed for the
/// one fixed shape the session uses (ISO, UTC, microseconds; see `PostgresConfiguration`).
enum PostgresTimestamp {
    /// `YYYY-MM-DD HH:MM:SS.ffffff+00`, rounded to the microsecond.
    static func format(_ date: Date) -> String {
        if date.timeIntervalSince1970.isInfinite {
            return date.timeIntervalSince1970 > 0 ? "infinity" : "-infinity"
        }
        let micros = Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
        let (seconds, fraction) = CivilDate.floorDivide(micros, by: 1_000_000)
        let t = CivilDateTime(epochSeconds: seconds)
        var out: [UInt8] = []
        out.reserveCapacity(29)
        t.appendISO8601(separator: UInt8(ascii: " "), to: &out)
        out.append(UInt8(ascii: "."))
        appendZeroPadded(fraction, width: 6, to: &out)
        out.append(contentsOf: "+00".utf8)
        return String(decoding: out, as: UTF8.self)
    }

    /// Parses `timestamptz`, `timestamp` (read as UTC) and `date` text forms; nil when malformed.
    static func parse(_ text: String) -> Date? {
        if text == "infinity" { return .distantFuture }
        if text == "-infinity" { return .distantPast }
        let b = Array(text.utf8)
        var i = 0
        func number(_ digits: Int) -> Int64? {
            guard i + digits <= b.count else { return nil }
            var value: Int64 = 0
            for k in i..<(i + digits) {
                guard b[k] >= 48, b[k] <= 57 else { return nil }
                value = value * 10 + Int64(b[k] - 48)
            }
            i += digits
            return value
        }
        func expect(_ c: Character) -> Bool {
            guard i < b.count, b[i] == c.asciiValue! else { return false }
            i += 1
            return true
        }
        // Years may have more than four digits.
        var yearDigits = 0
        while i + yearDigits < b.count, b[i + yearDigits] >= 48, b[i + yearDigits] <= 57 { yearDigits += 1 }
        guard yearDigits >= 4, let year = number(yearDigits), expect("-"), let month = number(2),
            expect("-"), let day = number(2)
        else { return nil }
        var seconds = CivilDateTime.epochSeconds(year: year, month: month, day: day)
        var micros: Int64 = 0
        if i < b.count {
            guard expect(" ") || expect("T"), let hh = number(2), expect(":"), let mm = number(2),
                expect(":"), let ss = number(2)
            else { return nil }
            seconds += hh * 3600 + mm * 60 + ss
            if i < b.count, b[i] == UInt8(ascii: ".") {
                i += 1
                var scale: Int64 = 100_000
                while i < b.count, b[i] >= 48, b[i] <= 57 {
                    micros += Int64(b[i] - 48) * scale
                    scale /= 10
                    i += 1
                }
            }
            if i < b.count {
                guard b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") else { return nil }
                let sign: Int64 = b[i] == UInt8(ascii: "+") ? 1 : -1
                i += 1
                guard let oh = number(2) else { return nil }
                var offset = oh * 3600
                if expect(":") {
                    guard let om = number(2) else { return nil }
                    offset += om * 60
                    if expect(":") {
                        guard let os = number(2) else { return nil }
                        offset += os
                    }
                }
                seconds -= sign * offset
            }
        }
        guard i == b.count else { return nil }
        return Date(timeIntervalSince1970: Double(seconds) + Double(micros) / 1_000_000)
    }
}
