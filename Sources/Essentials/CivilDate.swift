/// Proleptic Gregorian calendar arithmetic on days since 1970-01-01, after Howard Hinnant's
/// `days_from_civil` / `civil_from_days` (http://howardhinnant.github.io/date_algorithms.html).
/// The one copy behind HTTP dates, PostgreSQL timestamps and the engine's `Timestamp`: pure
/// integer arithmetic, no locale, no time zone, no Foundation.
public enum CivilDate {
    /// Seconds in a civil day (UTC has no leap seconds in this arithmetic).
    public static let secondsPerDay: Int64 = 86_400

    /// Days since 1970-01-01 of `year`-`month`-`day` (month 1…12, day 1…31; not range-checked).
    @inlinable
    public static func days(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400                                              // [0, 399]
        let doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1  // [0, 365]
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy                      // [0, 146096]
        return era * 146_097 + doe - 719_468
    }

    /// The civil date of `days` since 1970-01-01 (the inverse of `days(year:month:day:)`).
    @inlinable
    public static func civil(days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097                                          // [0, 146096]
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365    // [0, 399]
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)                    // [0, 365]
        let mp = (5 * doy + 2) / 153                                         // [0, 11], March first
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// Day of the week of `days` since 1970-01-01: 0 is Sunday … 6 is Saturday.
    @inlinable
    public static func weekday(days: Int64) -> Int {
        Int(days >= -4 ? (days + 4) % 7 : (days + 5) % 7 + 6)
    }

    /// `value / unit` rounded toward negative infinity, and the non-negative remainder: an
    /// instant before 1970 still splits into the day (or second) it falls in.
    @inlinable
    public static func floorDivide(_ value: Int64, by unit: Int64) -> (quotient: Int64, remainder: Int64) {
        let q = value >= 0 ? value / unit : -((-value + unit - 1) / unit)
        return (q, value - q * unit)
    }
}

/// A UTC instant to the second, split into civil fields.
public struct CivilDateTime: Hashable, Sendable {
    public var year: Int64
    public var month: Int64
    public var day: Int64
    public var hour: Int64
    public var minute: Int64
    public var second: Int64
    /// Days since 1970-01-01 (for `CivilDate.weekday(days:)`).
    public var daysSinceEpoch: Int64

    /// Splits seconds since 1970-01-01T00:00:00Z.
    @inlinable
    public init(epochSeconds: Int64) {
        let (days, secondOfDay) = CivilDate.floorDivide(epochSeconds, by: CivilDate.secondsPerDay)
        (year, month, day) = CivilDate.civil(days: days)
        hour = secondOfDay / 3600
        minute = secondOfDay / 60 % 60
        second = secondOfDay % 60
        daysSinceEpoch = days
    }

    /// Appends `YYYY-MM-DD<separator>HH:MM:SS` (ISO 8601 without fraction or zone).
    @inlinable
    public func appendISO8601(separator: UInt8, to out: inout [UInt8]) {
        appendZeroPadded(year, width: 4, to: &out)
        out.append(UInt8(ascii: "-"))
        appendZeroPadded(month, width: 2, to: &out)
        out.append(UInt8(ascii: "-"))
        appendZeroPadded(day, width: 2, to: &out)
        out.append(separator)
        appendZeroPadded(hour, width: 2, to: &out)
        out.append(UInt8(ascii: ":"))
        appendZeroPadded(minute, width: 2, to: &out)
        out.append(UInt8(ascii: ":"))
        appendZeroPadded(second, width: 2, to: &out)
    }

    /// Seconds since 1970-01-01T00:00:00Z of civil fields (not range-checked).
    @inlinable
    public static func epochSeconds(year: Int64, month: Int64, day: Int64, hour: Int64 = 0, minute: Int64 = 0,
                                    second: Int64 = 0) -> Int64 {
        CivilDate.days(year: year, month: month, day: day) * CivilDate.secondsPerDay + hour * 3600 + minute * 60 + second
    }
}

/// Appends `value` in decimal, left-padded with zeros to `width` characters: the fixed-width
/// fields of every date format. (A negative value pads before its sign, `00-1`, as the
/// `String(repeating:) + String(value)` each format used to write did.)
@inlinable
public func appendZeroPadded(_ value: Int64, width: Int, to out: inout [UInt8]) {
    var magnitude = value.magnitude
    var digits = 1
    var probe = magnitude / 10
    while probe > 0 { digits += 1; probe /= 10 }
    let length = digits + (value < 0 ? 1 : 0)
    if length < width { out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: width - length)) }
    if value < 0 { out.append(UInt8(ascii: "-")) }
    let end = out.count + digits
    out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: digits))
    var i = end - 1
    repeat {
        out[i] = UInt8(ascii: "0") + UInt8(magnitude % 10)
        magnitude /= 10
        i -= 1
    } while magnitude > 0
}
