/// RFC 3339 / ISO 8601 date-times as tracking SDKs write them, read by hand: one pass over the
/// bytes, no formatter, no locale, no allocation. Ingest reads two or three per message
/// (`timestamp`, `originalTimestamp`, `sentAt`); an `ISO8601DateFormatter` per value cost more
/// than the rest of the decoding, and ICU died (SIGFPE) on a 32-digit fraction.
///
/// Accepted, case-insensitively for the letters:
/// `YYYY-MM-DD` `T` (or one space) `HH:MM:SS`, then an optional fraction (`.` or `,` and any
/// number of digits: the first 9 count, the rest are read and ignored), then `Z` or an offset
/// `±HH:MM` (also `±HHMM` and `±HH`). Month and day may have one digit (`2015-2-02T…`, the
/// example in Segment's own documentation). A zone is required: a time without one means
/// nothing on a server that receives from every time zone. Second 60 (a leap second) is read
/// as 59.999999999 of the same minute, the nearest instant this arithmetic has.
public enum InternetDateTime {
    /// An instant: whole seconds since 1970-01-01T00:00:00Z (proleptic Gregorian, `CivilDate`)
    /// and nanoseconds within the second (0…999 999 999).
    public struct Instant: Hashable, Sendable {
        public var seconds: Int64
        public var nanoseconds: Int64

        /// Milliseconds since 1970, rounded toward negative infinity (`Timestamp`'s resolution).
        @inlinable public var milliseconds: Int64 { seconds * 1000 + nanoseconds / 1_000_000 }
        /// Seconds since 1970 as a `Double` (what Foundation's `Date` keeps).
        @inlinable public var secondsSince1970: Double { Double(seconds) + Double(nanoseconds) / 1e9 }
    }

    /// Parses `text`; nil for anything else (a bad shape, a field out of range, such as month 13
    /// or day 31 of April, a year outside 0000–9999).
    public static func parse(_ text: String) -> Instant? {
        var text = text
        return text.withUTF8 { parse(bytes: $0) }
    }

    /// `parse(_:)` on UTF-8 bytes.
    public static func parse(bytes u: UnsafeBufferPointer<UInt8>) -> Instant? {
        var i = 0
        let n = u.count
        @inline(__always) func digit(_ at: Int) -> Int64? {
            guard at < n else { return nil }
            let c = u[at]
            return c >= 0x30 && c <= 0x39 ? Int64(c - 0x30) : nil
        }
        /// `count` digits at `i`, advancing.
        func fixed(_ count: Int) -> Int64? {
            var value: Int64 = 0
            for _ in 0..<count {
                guard let d = digit(i) else { return nil }
                value = value * 10 + d; i += 1
            }
            return value
        }
        /// One or two digits at `i`, advancing.
        func short() -> Int64? {
            guard let first = digit(i) else { return nil }
            i += 1
            guard let second = digit(i) else { return first }
            i += 1
            return first * 10 + second
        }
        func expect(_ byte: UInt8) -> Bool {
            guard i < n, u[i] == byte else { return false }
            i += 1; return true
        }

        guard let year = fixed(4), expect(0x2D), let month = short(), expect(0x2D), let day = short(),
              (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year),
              i < n, u[i] == 0x54 || u[i] == 0x74 || u[i] == 0x20 else { return nil }
        i += 1
        guard let hour = fixed(2), expect(0x3A), let minute = fixed(2), expect(0x3A), let second = fixed(2),
              hour < 24, minute < 60, second <= 60 else { return nil }

        var nanos: Int64 = 0
        if i < n, u[i] == 0x2E || u[i] == 0x2C {
            i += 1
            var digits = 0
            while let d = digit(i) {
                if digits < 9 { nanos = nanos * 10 + d }
                digits += 1; i += 1
            }
            guard digits > 0 else { return nil }
            for _ in min(digits, 9)..<9 { nanos *= 10 }
        }

        guard i < n else { return nil }
        var offsetSeconds: Int64 = 0
        switch u[i] {
        case 0x5A, 0x7A:  // Z z
            i += 1
        case 0x2B, 0x2D:  // + -
            let sign: Int64 = u[i] == 0x2D ? -1 : 1
            i += 1
            guard let oh = fixed(2), oh < 24 else { return nil }
            var om: Int64 = 0
            if i < n {
                _ = expect(0x3A)
                guard let m = fixed(2), m < 60 else { return nil }
                om = m
            }
            offsetSeconds = sign * (oh * 3600 + om * 60)
        default:
            return nil
        }
        guard i == n else { return nil }

        var secondOfMinute = second
        if second == 60 { secondOfMinute = 59; nanos = 999_999_999 }
        let days = CivilDate.days(year: year, month: month, day: day)
        let local = days * CivilDate.secondsPerDay + hour * 3600 + minute * 60 + secondOfMinute
        return Instant(seconds: local - offsetSeconds, nanoseconds: nanos)
    }

    /// Days in `month` of `year` (proleptic Gregorian leap years).
    @inlinable
    public static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
}
