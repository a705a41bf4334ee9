import Essentials

extension Timestamp {
    /// `YYYY-MM-DDTHH:MM:SS.mmmZ` exactly (what `description` writes), or nil for any other shape.
    static func parseCanonical(_ u: [UInt8]) -> Timestamp? {
        guard u.count == 24, u[4] == 45, u[7] == 45, u[10] == 84, u[13] == 58, u[16] == 58, u[19] == 46, u[23] == 90,
              let y = digits(u, 0, 4), let mo = digits(u, 5, 2), let d = digits(u, 8, 2), let h = digits(u, 11, 2),
              let mi = digits(u, 14, 2), let s = digits(u, 17, 2), let ms = digits(u, 20, 3),
              (1...12).contains(mo), (1...31).contains(d), h < 24, mi < 60, s < 60
        else { return nil }
        let seconds = CivilDateTime.epochSeconds(year: y, month: mo, day: d, hour: h, minute: mi, second: s)
        return Timestamp(milliseconds: seconds * 1000 + ms)
    }

    private static func digits(_ u: [UInt8], _ start: Int, _ count: Int) -> Int64? {
        var value: Int64 = 0
        for i in start..<start + count {
            let c = u[i]
            guard c >= 48 && c <= 57 else { return nil }
            value = value * 10 + Int64(c - 48)
        }
        return value
    }
}
